/**
 * npm run image:local and npm run preview, as a user meets them before anything boots: bad usage
 * (exit 2, the flag or environment named), and what is missing (exit 1, what to run or install).
 * Nothing is written into the project on any of these paths.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { treeSnapshot } from "./support/cli";
import { exampleConfigJson, REPO_ROOT } from "./support/synth";

const CLI = join(REPO_ROOT, "managed", "local-vm", "cli.ts");
const TSX = join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");

function project(baseOs: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cia-local-cli-"));
  writeFileSync(join(dir, "immutable.config.json"), JSON.stringify({ ...exampleConfigJson(), image: { baseOs } }, null, 2));
  return dir;
}

function cli(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const before = treeSnapshot(dir);
  const result = spawnSync(process.execPath, ["--import", TSX, CLI, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { status: result.status, stderr: result.stderr, unchanged: JSON.stringify(treeSnapshot(dir)) === JSON.stringify(before) };
}

describe("managed/local-vm/cli.ts", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const make = (baseOs = "debian-12") => {
    const dir = project(baseOs);
    dirs.push(dir);
    return dir;
  };

  it("names an unknown environment and lists the project's (exit 2)", () => {
    const result = cli(make(), ["preview", "nope"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^preview: no environment nope: this project has staging, production\n$/);
    expect(result.unchanged).toBe(true);
  });

  it("names a bad --port (exit 2)", () => {
    const result = cli(make(), ["preview", "staging", "--port", "70000"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--port must be a TCP port number (1-65535)");
  });

  it("says to bake first when there is no local image (exit 1)", () => {
    const result = cli(make(), ["preview", "staging"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no local image yet (.local-vm/image.json is missing): run npm run image:local first");
    expect(result.unchanged).toBe(true);
  });

  it("refuses a base OS other than debian-12, naming image.baseOs (exit 1)", () => {
    const result = cli(make("ubuntu-24.04"), ["image"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("image.baseOs is ubuntu-24.04");
  });

  it("says how to build the base disk when it is missing (exit 1)", () => {
    const result = cli(make(), ["image", "--base", "nowhere"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Build one with: sudo managed/local-vm/debootstrap-base.sh nowhere");
    expect(result.unchanged).toBe(true);
  });

  it("names missing QEMU with the Debian packages to install (exit 1)", () => {
    const dir = make();
    // A base disk folder that is complete and current, so that the next check is the programs'.
    const base = join(dir, "base");
    mkdirSync(base);
    for (const name of ["base.raw", "vmlinuz", "initrd", "id_ed25519", "SHA256SUMS"]) writeFileSync(join(base, name), "");
    const script = readFileSync(join(REPO_ROOT, "managed", "local-vm", "debootstrap-base.sh"));
    writeFileSync(join(base, "script.sha256"), `${createHash("sha256").update(script).digest("hex")}\n`);
    // PATH with node only: no packer, no qemu.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    spawnSync("ln", ["-s", process.execPath, join(bin, "node")]);
    const result = cli(dir, ["image", "--base", "base"], { PATH: bin });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /the local VM needs packer, qemu-system-x86_64, qemu-img.*sudo apt-get install packer qemu-system-x86 qemu-utils/,
    );
  });

  it("prints its usage for an unknown command (exit 2)", () => {
    const result = cli(make(), ["bake"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("usage: cli.ts image [--base DIR] | cli.ts preview <environment> [--port N]");
  });
});
