/**
 * The disk a local bake starts from, and how to boot and log in to it. Two kinds:
 *  - a folder made by managed/local-vm/debootstrap-base.sh (base.raw, vmlinuz, initrd, id_ed25519,
 *    SHA256SUMS written last), what this repository's tests use: no boot loader, QEMU boots its kernel;
 *  - an official cloud image (qcow2) that boots itself; logging in to it needs a NoCloud seed with a
 *    key, which this version does not make yet (see README, "Try the image locally").
 */
import { existsSync } from "node:fs";
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

/** Reads a debootstrap-base.sh folder; a folder without SHA256SUMS is an unfinished build. */
export function debootstrapBaseDisk(dir: string): BaseDisk {
  const folder = resolve(dir);
  const names = ["base.raw", "vmlinuz", "initrd", "id_ed25519", "SHA256SUMS"];
  const missing = names.filter((name) => !existsSync(join(folder, name)));
  if (missing.length > 0) {
    throw new LocalVmError(
      `no base disk in ${folder} (missing ${missing.join(", ")}). Build one with: sudo managed/local-vm/debootstrap-base.sh ${dir}`,
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
