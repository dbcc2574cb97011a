/**
 * QEMU on this machine: which accelerator works, and a VM booted from a disk with a NoCloud seed, a
 * forwarded port and its serial console in a file. KVM is used when a probe boot survives it (on some
 * hosts /dev/kvm exists and the guest dies with "KVM internal error"), software emulation (TCG) otherwise.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import type { BaseDisk } from "./base-disk";

export type Accelerator = "kvm" | "tcg";

let probed: Accelerator | undefined;

/**
 * kvm when /dev/kvm exists and a short boot of the base kernel under KVM gets as far as the kernel's
 * own messages without "KVM internal error"; tcg otherwise. IMMUTABLE_LOCAL_VM_ACCEL=kvm|tcg decides.
 */
export function detectAccelerator(base: BaseDisk): Accelerator {
  const forced = process.env.IMMUTABLE_LOCAL_VM_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced;
  if (probed) return probed;
  probed = "tcg";
  if (existsSync("/dev/kvm") && base.kernel && base.initrd) {
    // No root disk: the kernel boots, the initramfs gives up at once (panic=-1 reboots, -no-reboot exits).
    const probe = spawnSync(
      "qemu-system-x86_64",
      [
        "-accel",
        "kvm",
        "-m",
        "512",
        "-nographic",
        "-no-reboot",
        "-kernel",
        base.kernel,
        "-initrd",
        base.initrd,
        "-append",
        "console=ttyS0 panic=-1 root=/dev/nonexistent rootdelay=1 rd.shell=0",
      ],
      // KVM prints the kernel's banner within seconds; here it hangs after the BIOS instead (or dies
      // with "KVM internal error"), so 20 s without the banner means no KVM.
      { encoding: "utf8", timeout: 20_000 },
    );
    const out = `${probe.stdout}${probe.stderr}`;
    if (!/KVM internal error|failed to initialize kvm|Could not access KVM/i.test(out) && /Linux version/.test(out)) probed = "kvm";
  }
  return probed;
}

export interface BootOptions {
  readonly disk: string;
  readonly base: BaseDisk;
  readonly seedIso: string;
  readonly accelerator: Accelerator;
  /** Host loopback port forwarded to guestPort. */
  readonly hostPort: number;
  readonly guestPort: number;
  readonly serialLog: string;
  readonly monitorSocket: string;
}

/** A running VM; stop it with {@link powerOff}. */
export interface RunningVm {
  readonly child: ChildProcess;
  readonly options: BootOptions;
  readonly exited: Promise<number | null>;
}

export function bootVm(options: BootOptions): RunningVm {
  const { base } = options;
  const args = [
    "-accel",
    options.accelerator,
    "-m",
    "2048",
    "-smp",
    "2",
    "-display",
    "none",
    "-serial",
    `file:${options.serialLog}`,
    "-monitor",
    `unix:${options.monitorSocket},server,nowait`,
    // A snapshot: the baked disk stays as baked, every boot is a first boot, as for a new instance.
    "-snapshot",
    "-drive",
    `file=${options.disk},if=virtio,format=qcow2`,
    "-drive",
    `file=${options.seedIso},if=virtio,format=raw,media=cdrom,readonly=on`,
    "-netdev",
    `user,id=net0,hostfwd=tcp:127.0.0.1:${options.hostPort}-:${options.guestPort}`,
    "-device",
    "virtio-net-pci,netdev=net0",
  ];
  if (base.kernel && base.initrd) {
    // Every journal line on the serial console too: the host reads the units' lines from there.
    args.push(
      "-kernel",
      base.kernel,
      "-initrd",
      base.initrd,
      "-append",
      "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.journald.forward_to_console=1",
    );
  }
  const child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  exited.then((code) => {
    if (code) process.stderr.write(`qemu exited ${code}: ${stderr}\n`);
  });
  return { child, options, exited };
}

/** ACPI power button, then up to `graceMs` for the guest to shut down; killed after that. */
export async function powerOff(vm: RunningVm, graceMs = 120_000): Promise<"shutdown" | "killed"> {
  if (vm.child.exitCode !== null) return "shutdown";
  await new Promise<void>((resolve) => {
    const socket = createConnection(vm.options.monitorSocket, () => socket.end("system_powerdown\n"));
    // The monitor's banner and echo are read and dropped: a paused socket never sees its end, never closes.
    socket.resume();
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 10_000).unref();
  });
  const timer = new Promise<"killed">((resolve) => setTimeout(() => resolve("killed"), graceMs).unref());
  const result = await Promise.race([vm.exited.then(() => "shutdown" as const), timer]);
  if (result === "killed") {
    vm.child.kill("SIGKILL");
    await vm.exited;
  }
  return result;
}

/** The serial console's lines that name one of `units` (journal lines forwarded to the console). */
export function unitLines(serialLog: string, units: readonly string[], max = 40): string[] {
  if (!existsSync(serialLog)) return [];
  const lines = readFileSync(serialLog, "utf8").replace(/\r/g, "").split("\n");
  return lines.filter((line) => units.some((unit) => line.includes(unit))).slice(-max);
}
