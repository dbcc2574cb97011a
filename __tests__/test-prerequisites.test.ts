/**
 * This repository's own first run (issue 23, point 12): `npm test` on a machine without the tools stops
 * within seconds and lists every missing one with the one command that installs them; the pinned Python
 * tools install on Debian 12's own python3 (3.11.2), checked here on the installed metadata.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./support/cli";
import { tempDir } from "./support/terraform";

const SCRIPT = join(REPO, "tools", "test-venv.sh");

/** The path of a command on this machine's PATH, or undefined. */
function which(command: string): string | undefined {
  const r = spawnSync("bash", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** A bin directory holding only the given commands (links to this machine's own). */
function pathWith(commands: readonly string[]): string {
  const bin = join(tempDir("cia-prereq"), "bin");
  mkdirSync(bin);
  for (const c of commands) {
    const found = which(c);
    if (found) symlinkSync(found, join(bin, c));
  }
  return bin;
}

// What the script itself needs to run (bash and coreutils), never what it checks for.
const BASICS = ["bash", "dirname", "sha256sum", "cut", "cat", "id", "printf"];

function runCheck(bin: string, env: Record<string, string> = {}) {
  const started = Date.now();
  const r = spawnSync(join(bin, "bash"), [SCRIPT], {
    encoding: "utf8",
    env: { PATH: bin, HOME: process.env.HOME ?? "/root", ...env },
    timeout: 60_000,
  });
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

describe("npm test's first step on a machine that lacks the tools", () => {
  it("stops within seconds, listing every missing tool and the one command that installs them", () => {
    const r = runCheck(pathWith(BASICS), { IMMUTABLE_TF_MIRROR: join(tempDir("cia-no-mirror"), "none") });
    expect(r.status).toBe(1);
    expect(r.seconds).toBeLessThan(10);
    expect(r.stderr).toContain("nothing was run");
    // The local qemu-system-x86 qemu-utils cloud-image-utils debootstrap docker-registry skopeo openssl's packages too (busybox-static is looked up by its file, which this machine has).
    expect(r.stderr).toContain(
      "missing: git packer jq qemu-system-x86 qemu-utils cloud-image-utils debootstrap docker-registry skopeo openssl python3 python3-venv",
    );
    expect(r.stderr).toMatch(
      /install them with: (sudo )?apt-get update && (sudo )?apt-get install -y git packer jq qemu-system-x86 qemu-utils cloud-image-utils debootstrap docker-registry skopeo openssl python3 python3-venv\n/,
    );
    expect(r.stderr).toContain("missing: terraform");
    expect(r.stderr).toContain("/none/registry.terraform.io/hashicorp/aws is missing");
    expect(r.stdout).not.toContain("installing requirements-test.txt");
  });

  it("names only what is missing: here packer alone (shellcheck is not asked for: it comes from PyPI into .venv)", () => {
    const present = [
      "git",
      "jq",
      "terraform",
      "qemu-system-x86_64",
      "qemu-img",
      "cloud-localds",
      "debootstrap",
      "docker-registry",
      "skopeo",
      "openssl",
    ];
    for (const c of present) if (!which(c)) throw new Error(`this test needs ${c} on the PATH`);
    const bin = pathWith([...BASICS, ...present]);
    // Debian 12's own python3, the one the README's "3.11 or later" must include.
    if (!existsSync("/usr/bin/python3")) throw new Error("this test needs Debian's python3 (apt-get install python3-venv)");
    symlinkSync("/usr/bin/python3", join(bin, "python3"));
    const r = runCheck(bin);
    expect(r.stderr).toMatch(/missing: packer\n/);
    expect(r.stderr).toMatch(/apt-get install -y packer\n/);
    expect(r.status).toBe(1);
  });

  it("with a virtual environment of your own (IMMUTABLE_VENV) shellcheck must come from the machine or that venv", () => {
    const bin = pathWith([
      ...BASICS,
      ...["git", "jq", "terraform", "packer", "qemu-system-x86_64", "qemu-img", "cloud-localds", "debootstrap", "docker-registry"],
      ...["skopeo", "openssl"],
    ]);
    const r = runCheck(bin, { IMMUTABLE_VENV: join(tempDir("cia-own-venv"), "venv") });
    expect(r.stderr).toMatch(/missing: (packer )?shellcheck\n/);
    expect(r.status).toBe(1);
  });
});

describe("the pinned Python tools", () => {
  const venv = process.env.IMMUTABLE_VENV ?? join(REPO, ".venv");
  const python = join(venv, "bin", "python");

  it("install on Debian 12's python3 (3.11.2): every pinned distribution's Requires-Python accepts it", () => {
    if (!existsSync(python)) throw new Error(`no virtual environment at ${venv}: run bash tools/test-venv.sh first`);
    // Read from the installed metadata of exactly the pinned versions; pip's own copy of `packaging` judges.
    const report = execFileSync(
      python,
      [
        "-c",
        [
          "import json, sys, importlib.metadata as md",
          "from pip._vendor.packaging.specifiers import SpecifierSet",
          "pins = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.startswith('#')]",
          "out = []",
          "for pin in pins:",
          "    name, version = pin.split('==')",
          "    meta = md.metadata(name)",
          "    spec = meta.get('Requires-Python') or ''",
          "    out.append([name, version, meta['Version'], spec, SpecifierSet(spec).contains('3.11.2')])",
          "print(json.dumps(out))",
        ].join("\n"),
        join(REPO, "requirements-test.txt"),
      ],
      { encoding: "utf8" },
    );
    const rows = JSON.parse(report) as Array<[string, string, string, string, boolean]>;
    const pins = readFileSync(join(REPO, "requirements-test.txt"), "utf8")
      .split("\n")
      .filter((l) => /^[A-Za-z]/.test(l));
    expect(rows.length).toBe(pins.length);
    expect(rows.filter(([, pinned, installed]) => pinned !== installed)).toEqual([]);
    expect(rows.filter(([, , , , ok]) => !ok).map(([name, v, , spec]) => `${name}==${v} requires Python ${spec}`)).toEqual([]);
  });

  it("include shellcheck, for a machine without it", () => {
    if (!existsSync(python)) throw new Error(`no virtual environment at ${venv}: run bash tools/test-venv.sh first`);
    const r = spawnSync(join(venv, "bin", "shellcheck"), ["--version"], { encoding: "utf8" });
    expect(r.stdout).toMatch(/version: \d+\.\d+/);
  });
});
