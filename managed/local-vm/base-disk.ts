/**
 * The disk a local bake starts from, and how to boot and log in to it. Two kinds:
 *  - a folder made by managed/local-vm/debootstrap-base.sh (base.raw, vmlinuz, initrd, id_ed25519,
 *    SHA256SUMS written last), what this repository's tests use: no boot loader, QEMU boots its kernel;
 *  - an official cloud image (qcow2) that boots itself; logging in to it needs a NoCloud seed with a
 *    key, which this version does not make yet (see README, "Try the image locally").
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LocalVmError } from "./tools";

export interface BaseDisk {
  readonly disk: string;
  readonly format: "raw" | "qcow2";
  /** Kernel and initramfs for QEMU's direct boot; absent when the disk boots itself. */
  readonly kernel?: string;
  readonly initrd?: string;
  readonly sshUsername: string;
  readonly sshPrivateKey: string;
}

/** The build account of each base OS's official image (packer/app.pkr.hcl, local.base_images). */
export const BUILD_ACCOUNT = { "ubuntu-24.04": "ubuntu", al2023: "ec2-user", "debian-12": "admin" } as const;

const SCRIPT = join(__dirname, "debootstrap-base.sh");

/** ready, missing (or unfinished: no SHA256SUMS), or stale (made by another version of the script). */
export function baseDiskState(dir: string): "ready" | "missing" | "stale" {
  const folder = resolve(dir);
  if (!["base.raw", "vmlinuz", "initrd", "id_ed25519", "SHA256SUMS"].every((name) => existsSync(join(folder, name)))) return "missing";
  const made = existsSync(join(folder, "script.sha256")) ? readFileSync(join(folder, "script.sha256"), "utf8").trim() : "";
  return made === createHash("sha256").update(readFileSync(SCRIPT)).digest("hex") ? "ready" : "stale";
}

/** Reads a debootstrap-base.sh folder; refuses an unfinished one or one made by another version. */
export function debootstrapBaseDisk(dir: string): BaseDisk {
  const folder = resolve(dir);
  const state = baseDiskState(folder);
  if (state !== "ready") {
    throw new LocalVmError(
      `${state === "missing" ? "no base disk" : "a base disk made by another version of debootstrap-base.sh"} in ${folder}. Build one with: sudo managed/local-vm/debootstrap-base.sh ${dir}`,
    );
  }
  return {
    disk: join(folder, "base.raw"),
    format: "raw",
    kernel: join(folder, "vmlinuz"),
    initrd: join(folder, "initrd"),
    sshUsername: BUILD_ACCOUNT["debian-12"],
    sshPrivateKey: join(folder, "id_ed25519"),
  };
}
