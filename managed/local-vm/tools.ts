/** The host programs the local VM needs, and the message that says how to get a missing one. */
import { spawnSync } from "node:child_process";

/** A problem the user can fix (a missing program, a missing base disk): message only, exit 1. */
export class LocalVmError extends Error {}

/** Program -> the Debian/Ubuntu package that provides it. */
const PACKAGES: Readonly<Record<string, string>> = {
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-img": "qemu-utils",
  "cloud-localds": "cloud-image-utils",
  packer: "packer",
  openssl: "openssl",
  "dpkg-deb": "dpkg",
};

export function hasProgram(name: string): boolean {
  return spawnSync("sh", ["-c", 'command -v "$1"', "sh", name]).status === 0;
}

/** Throws one LocalVmError naming every missing program and the install command. */
export function requirePrograms(names: readonly string[]): void {
  const missing = names.filter((name) => !hasProgram(name));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((name) => PACKAGES[name] ?? name))];
  throw new LocalVmError(
    `the local VM needs ${missing.join(", ")}, not found on PATH. On Debian or Ubuntu: sudo apt-get install ${packages.join(" ")}`,
  );
}

/** Packer's version as [major, minor]; the qemu builder is built in before 1.7 and a plugin after. */
export function packerVersion(): [number, number] {
  const out = spawnSync("packer", ["version"], { encoding: "utf8" }).stdout ?? "";
  const match = /v?(\d+)\.(\d+)\.\d+/.exec(out);
  if (!match) throw new LocalVmError(`could not read the version of packer from: ${out.trim()}`);
  return [Number(match[1]), Number(match[2])];
}
