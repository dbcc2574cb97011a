/**
 * Layer 7 of the design, for real: a debian-12 project's image baked locally by the same provisioners
 * in a QEMU VM (packer/local, Packer's qemu builder), then booted fresh with the staging launch
 * template's user data (terraform's plan of the synthesized stack, byte for byte), reading its config
 * and a secret from moto's SSM on the host, answering its health check through a forwarded port,
 * completing the launch lifecycle hook at the emulated AWS, and shut down. Then the same image with an
 * app that crashes at start: the boot fails with the units' journal lines. The base disk is made by
 * debootstrap once and kept in .local-vm/ (gitignored) between runs, as are the apt packages.
 *
 * Needs root, qemu-system-x86, qemu-utils, cloud-image-utils, debootstrap, docker-registry, skopeo,
 * busybox-static, packer (.ci/run installs them) and the test venv's moto. Slow under TCG (see
 * BENCHMARKS.md, "Local VM"); every wait is bounded.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BaseDisk, baseDiskState, debootstrapBaseDisk } from "../managed/local-vm/base-disk";
import { bakeLocal } from "../managed/local-vm/bake";
import type { LocalBoot } from "../managed/local-vm/boot";
import { LocalVmError } from "../managed/local-vm/tools";
import { EmulatedAws, type RecordedRequest } from "./support/emulated-aws";
import { bootLocalVmProject, LOCAL_VM_REGION, type LocalVmProject, prepareLocalVmProject } from "./support/local-vm";
import { REPO_ROOT } from "./support/synth";

const BASE_DIR = join(REPO_ROOT, ".local-vm", "base-debian-12");
const GREETING = "Hello from SSM: 100% literal ${name}";

jest.setTimeout(60 * 60 * 1000);

/** The cached base disk, built by debootstrap when missing or made by another script version (minutes). */
function baseDisk(): BaseDisk {
  if (baseDiskState(BASE_DIR) !== "ready") {
    const built = spawnSync("bash", [join(REPO_ROOT, "managed", "local-vm", "debootstrap-base.sh"), BASE_DIR], { encoding: "utf8" });
    if (built.status !== 0) throw new Error(`debootstrap-base.sh failed:\n${built.stdout.slice(-3000)}\n${built.stderr.slice(-3000)}`);
  }
  return debootstrapBaseDisk(BASE_DIR);
}

describe("local bake and boot of a debian-12 image in QEMU", () => {
  const work = mkdtempSync(join(tmpdir(), "cia-local-vm-"));
  let project: LocalVmProject;
  let aws: EmulatedAws;
  let base: BaseDisk;
  let image: string;

  /** A fresh boot of the baked image as a new staging instance. */
  const bootStaging = (name: string): Promise<LocalBoot> =>
    bootLocalVmProject(project, image, base, Number(new URL(aws.url).port), join(work, name));

  beforeAll(async () => {
    base = baseDisk();
    project = await prepareLocalVmProject(work, { GREETING }, ["API_TOKEN"]);
    const baked = await bakeLocal({
      packerDir: project.packerDir,
      base,
      outputDir: join(work, "baked"),
      aptCacheDir: join(REPO_ROOT, ".local-vm", "apt-cache"),
    });
    image = baked.image;
    aws = await EmulatedAws.start();
    const put = (name: string, type: string, value: string) =>
      aws.aws(LOCAL_VM_REGION, ["ssm", "put-parameter", "--name", name, "--type", type, "--value", value]);
    put("/shop/staging/config/GREETING", "String", GREETING);
    put("/shop/staging/secret/API_TOKEN", "SecureString", "s3cret");
  });

  afterAll(async () => {
    project?.registry.stop();
    await aws?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("boots with the launch template's user data, reads SSM, answers its health check, completes the lifecycle hook at the emulated AWS, shuts down", async () => {
    const boot = await bootStaging("boot-ok");
    try {
      const greeting = await (await fetch(boot.url.replace(/\/$/, "/greeting"))).text();
      expect(greeting).toBe(`${GREETING}\n`);
      // The ready unit's CompleteLifecycleAction reached the emulated AWS, with the names the user data
      // gave it (moto has no such group here: the emulator records the call, then answers an error).
      let completions: RecordedRequest[] = [];
      for (let i = 0; i < 90 && completions.length === 0; i++) {
        completions = (await aws.requests()).filter((r) => r.action === "CompleteLifecycleAction");
        if (completions.length === 0) await new Promise((r) => setTimeout(r, 2_000));
      }
      expect(completions).toEqual([
        expect.objectContaining({
          region: LOCAL_VM_REGION,
          params: expect.objectContaining({
            AutoScalingGroupName: /^ASG_NAME=(.*)$/m.exec(project.userData)?.[1],
            LifecycleHookName: /^LIFECYCLE_HOOK=(.*)$/m.exec(project.userData)?.[1],
            InstanceId: "i-0123456789abcdef0",
            LifecycleActionResult: "CONTINUE",
          }),
        }),
      ]);
    } finally {
      expect(await boot.stop()).toBe("shutdown");
    }
  });

  it("fails the boot of an app that crashes at start, with the units' journal lines", async () => {
    // A parameter set out of band reaches the app too (configure-app.sh exports it): the app crashes on it.
    aws.aws(LOCAL_VM_REGION, [
      "ssm",
      "put-parameter",
      "--name",
      "/shop/staging/config/CRASH_AT_START",
      "--type",
      "String",
      "--value",
      "yes",
    ]);
    const failed = bootStaging("boot-broken");
    await expect(failed).rejects.toThrow(LocalVmError);
    await expect(failed).rejects.toThrow(/immutable-app@shop\.service: (Main process exited|Failed)/);
  });
});
