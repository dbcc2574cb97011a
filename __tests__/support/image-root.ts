/**
 * A throw-away copy of this machine's root filesystem in which the real bake and boot scripts run as
 * root, with their real paths: an overlayfs whose lower layers are a small fixture (stand-ins for
 * what a build instance has and a test machine has not) on top of `/`, whose upper layer records
 * every file the scripts create, change or delete. The host's `/` is never written.
 *
 * Real tools do the work wherever they can run without systemd as PID 1 or a docker daemon:
 * bash, coreutils, install, useradd, jq, apt-config and systemctl for unit files (enable, disable,
 * mask, is-enabled, list-unit-files edit and read /etc/systemd/system offline). Stand-ins, on PATH
 * in /usr/local/bin, log every call to /cia-test/calls.log: systemctl for what needs PID 1 (start,
 * stop, is-active, cat, daemon-reload), docker, aws, curl, ss, systemd-run, cloud-init, journalctl,
 * apt-get (so that no package changes), the CloudWatch agent's ctl and, when asked for, snap.
 *
 * Needs root and overlayfs (kernel >= 4.0); {@link imageRootUnavailable} says why not otherwise.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { makeTempDir, PACKER_DIR, removeDir, run, type RunResult } from "./packer";

/** PATH of a packer provisioner (sudo's secure_path) and of the config unit, without /snap/bin. */
export const ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** One entry of the upper layer: what the scripts created, changed (copied up) or deleted. */
export interface Change {
  /** d directory, f file, l symlink, w whiteout (deleted), o other. */
  readonly type: "d" | "f" | "l" | "w" | "o";
  /** Path relative to `/`. */
  readonly path: string;
  /** Symlink target. */
  readonly target?: string;
}

export interface ImageRootOptions {
  /** Snaps the stand-in snapd reports as installed; undefined: no snap command (like AL2023). */
  readonly snaps?: readonly string[];
  /** The packer/ folder whose files/ are staged and whose scripts run. @default PACKER_DIR */
  readonly packerDir?: string;
}

const DRIVER = `#!/bin/bash
# Runs "$@" as root in a chroot on an overlay of the fixture and the host's root; called in a new
# mount namespace, so every mount below disappears with the command.
set -euo pipefail
box="$1"
shift
m="$box/merged"
# overlayfs refuses (ELOOP) the fixture as a lower layer when it lies inside the other lower layer, /;
# a copy on a tmpfs is on another filesystem.
mount -t tmpfs -o mode=0755 tmpfs "$box/lower"
cp -a "$box/fixture/." "$box/lower/"
mount -t overlay overlay -o "lowerdir=$box/lower:/,upperdir=$box/upper,workdir=$box/work" "$m"
mount --rbind /dev "$m/dev"
mount --rbind /proc "$m/proc"
mount --bind "$box/tmp" "$m/tmp"
mount --bind "$box/state" "$m/cia-test"
mount --bind "$box/packer" "$m/cia-packer"
mount -o remount,bind,ro "$m/cia-packer"
# stdin from /dev/null: bash started on a socket (as node spawns it) would read ~/.bashrc.
exec chroot "$m" "$@" </dev/null
`;

/** Why the real scripts cannot run as root in an overlay here, or undefined when they can. */
export function imageRootUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the scripts need root (useradd, /etc, overlayfs); run the tests as root to include them";
  let root: ImageRoot | undefined;
  try {
    root = new ImageRoot();
    const probe = root.run("touch /etc/.cia-probe && rm /etc/.cia-probe && systemctl --version >/dev/null");
    if (probe.status !== 0) return `the overlay root does not work here: ${(probe.stderr || probe.stdout).trim()}`;
    return undefined;
  } catch (error) {
    return `the overlay root does not work here: ${(error as Error).message}`;
  } finally {
    root?.dispose();
  }
}

export class ImageRoot {
  readonly dir = makeTempDir("image-root");
  readonly fixture = join(this.dir, "fixture");
  readonly upper = join(this.dir, "upper");
  /** The host side of /cia-test: stand-ins' call log and state. */
  readonly state = join(this.dir, "state");
  /** The host side of /tmp in the root (the staging dir lives here, as on the build instance). */
  readonly tmp = join(this.dir, "tmp");

  constructor(readonly options: ImageRootOptions = {}) {
    for (const sub of ["fixture", "lower", "upper", "work", "merged", "state", "tmp", "packer"]) mkdirSync(join(this.dir, sub));
    cpSync(options.packerDir ?? PACKER_DIR, join(this.dir, "packer"), { recursive: true });
    // What Packer's file provisioner leaves before the scripts run.
    cpSync(join(this.dir, "packer", "files"), join(this.tmp, "immutable-app"), { recursive: true });
    writeFileSync(join(this.dir, "driver.sh"), DRIVER);
    this.writeFixture();
  }

  /**
   * Runs a bash command line as root inside the root, with only `env` (and PATH, HOME, LANG) set.
   * Each call mounts the overlay afresh on the same upper layer, so changes persist between calls.
   */
  run(command: string, env: Readonly<Record<string, string>> = {}): RunResult {
    const vars = Object.entries({ PATH: ROOT_PATH, HOME: "/root", LANG: "C.UTF-8", ...env }).map(([k, v]) => `${k}=${v}`);
    return run("unshare", [
      "--mount",
      "--propagation",
      "private",
      "bash",
      join(this.dir, "driver.sh"),
      this.dir,
      "/usr/bin/env",
      "-i",
      ...vars,
      "/bin/bash",
      "-c",
      command,
    ]);
  }

  /** Runs one of packer/scripts/*.sh as a packer provisioner would: as root, with the given variables. */
  runScript(name: string, env: Readonly<Record<string, string>>): RunResult {
    return this.run(`bash /cia-packer/scripts/${name}`, env);
  }

  /** Writes a file into the root's /tmp (which is not part of the image) and returns its path there. */
  writeTmp(name: string, contents: string): string {
    writeFileSync(join(this.tmp, name), contents);
    return `/tmp/${name}`;
  }

  /** Every entry of the upper layer, sorted by path; the stand-ins' own state is not part of it. */
  changes(): Change[] {
    const out: Change[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(join(this.upper, rel)).sort()) {
        const path = rel ? `${rel}/${name}` : name;
        const stat = lstatSync(join(this.upper, path));
        if (stat.isDirectory()) {
          out.push({ type: "d", path });
          walk(path);
        } else if (stat.isSymbolicLink()) out.push({ type: "l", path, target: readlinkSync(join(this.upper, path)) });
        else if (stat.isFile()) out.push({ type: "f", path });
        // overlayfs marks a deleted lower file with a 0/0 character device.
        else if (stat.isCharacterDevice() && stat.rdev === 0) out.push({ type: "w", path });
        else out.push({ type: "o", path });
      }
    };
    walk("");
    return out;
  }

  /** A file as the root sees it now: from the upper layer if the scripts wrote it, else from below. */
  readFile(path: string): string {
    for (const base of [this.upper, this.fixture, "/"]) {
      if (existsSync(join(base, path))) return readFileSync(join(base, path), "utf8");
    }
    throw new Error(`${path} does not exist in the root`);
  }

  /** A file as it was before the scripts ran (fixture, then host). */
  readOriginal(path: string): string {
    for (const base of [this.fixture, "/"]) {
      if (existsSync(join(base, path))) return readFileSync(join(base, path), "utf8");
    }
    return "";
  }

  /** The stand-ins' calls, one line each ("docker tag ...", "systemctl stop ..."). */
  calls(): string[] {
    const file = join(this.state, "calls.log");
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  }

  dispose(): void {
    removeDir(this.dir);
  }

  private writeFixture(): void {
    const put = (path: string, contents: string, mode = 0o644) => {
      mkdirSync(join(this.fixture, path, ".."), { recursive: true });
      writeFileSync(join(this.fixture, path), contents);
      chmodSync(join(this.fixture, path), mode);
    };
    const standIn = (name: string, as: string = name) => put(`usr/local/bin/${as}`, readFileSync(join(STAND_INS, name), "utf8"), 0o755);
    for (const dir of ["cia-test", "cia-packer", "etc/cloud/cloud.cfg.d"]) mkdirSync(join(this.fixture, dir), { recursive: true });

    for (const name of ["systemctl", "docker", "aws", "systemd-run"]) standIn(name);
    for (const name of ["curl", "ss", "cloud-init", "journalctl", "apt-get"]) standIn("log-only", name);
    if (this.options.snaps) {
      standIn("snap");
      writeFileSync(join(this.state, "snaps"), this.options.snaps.map((s) => `${s}\n`).join(""));
    }
    put("opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl", readFileSync(join(STAND_INS, "log-only"), "utf8"), 0o755);

    // What install-runtime.sh leaves: docker installed, enabled and running, its group present.
    put(
      "usr/lib/systemd/system/docker.service",
      "[Unit]\nDescription=stand-in for the docker package's unit\n[Service]\nExecStart=/usr/bin/dockerd\n[Install]\nWantedBy=multi-user.target\n",
    );
    mkdirSync(join(this.fixture, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
    symlinkSync("/usr/lib/systemd/system/docker.service", join(this.fixture, "etc/systemd/system/multi-user.target.wants/docker.service"));
    writeFileSync(join(this.state, "active"), "docker.service\n");
    for (const [file, line, mode] of [
      ["etc/group", "docker:x:989:", 0o644],
      ["etc/gshadow", "docker:!::", 0o640],
    ] as const) {
      const host = existsSync(`/${file}`) ? readFileSync(`/${file}`, "utf8") : "";
      if (!host.split("\n").some((l) => l.startsWith("docker:"))) put(file, `${host}${line}\n`, mode);
    }
  }
}

const STAND_INS = join(__dirname, "stand-ins");
