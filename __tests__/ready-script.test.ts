/**
 * The image's ready script (packer/files/ready-app.sh, immutable-app-ready@<app>.service) against the
 * emulated AWS: it completes the group's launch lifecycle hook with CONTINUE once the app answers locally,
 * and with ABANDON (after reporting a boot failure to the rollout's alarm metric and printing the units'
 * journal) when the app fails or never answers.
 *
 * What is emulated (support/emulated_aws.py): moto 5.2 has no CompleteLifecycleAction, so the recording
 * handler answers it, checks the group and hook against moto's, and knows a pending action only for the
 * launches a test declares; the instance metadata service (IMDSv2 token, instance-id,
 * autoscaling/target-lifecycle-state) is answered by the same server. PutMetricData goes to moto for real.
 * systemctl and journalctl are stand-ins written here (no systemd runs the test): they answer is-failed
 * for the unit a case fails and print journal lines.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { BOOT_FAILURE_METRIC } from "../stacks/rollout-alarms";
import { EmulatedAws } from "./support/emulated-aws";
import { REPO_ROOT } from "./support/synth";
import { tempDir } from "./support/terraform";

const SCRIPT = join(REPO_ROOT, "packer", "files", "ready-app.sh");
const REGION = "eu-west-1";
const GROUP = "shop-dev";
const HOOK = "shop-dev-app-ready";
const NAMESPACE = "immutable-app/shop-dev";

jest.setTimeout(120_000);

let emu: EmulatedAws;
let app: Server;
let appPort = 0;
let appStatus = 200;
let root: string;

beforeAll(async () => {
  emu = await EmulatedAws.start();
  app = createServer((_req, res) => {
    res.statusCode = appStatus;
    res.end("ok");
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  appPort = (app.address() as { port: number }).port;
  root = tempDir("ready");
  // The group and its hook, as the stack creates them.
  emu.aws(REGION, [
    "autoscaling",
    "create-launch-configuration",
    "--launch-configuration-name",
    "lc",
    "--image-id",
    "ami-0123456789abcdef0",
    "--instance-type",
    "t3.small",
  ]);
  emu.aws(REGION, ["ec2", "create-vpc", "--cidr-block", "10.9.0.0/16"]);
  emu.aws(REGION, [
    "autoscaling",
    "create-auto-scaling-group",
    "--auto-scaling-group-name",
    GROUP,
    "--launch-configuration-name",
    "lc",
    "--min-size",
    "0",
    "--max-size",
    "1",
    "--availability-zones",
    `${REGION}a`,
  ]);
  emu.aws(REGION, [
    "autoscaling",
    "put-lifecycle-hook",
    "--auto-scaling-group-name",
    GROUP,
    "--lifecycle-hook-name",
    HOOK,
    "--lifecycle-transition",
    "autoscaling:EC2_INSTANCE_LAUNCHING",
    "--default-result",
    "ABANDON",
    "--heartbeat-timeout",
    "600",
  ]);
}, 120_000);

afterAll(async () => {
  await emu?.stop();
  app?.close();
});

/** One instance's boot: its boot.env, stand-ins for systemd's tools, and the script's run. */
interface BootOptions {
  readonly timeout?: number;
  readonly failedUnit?: string;
  /** Seconds since boot when the script starts (its /proc/uptime). */
  readonly uptime?: number;
  readonly warmPool?: string;
}

function boot(name: string, options: BootOptions = {}): Promise<{ status: number; output: string; dir: string }> {
  return finished(start(name, options));
}

/** The script's run, from start to exit. */
function start(name: string, options: BootOptions = {}): ChildProcess & { output: () => string } {
  const dir = join(root, name);
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(dir, "boot.env"),
    [
      "APP_NAME=shop",
      "APP_ENV=dev",
      `AWS_REGION=${REGION}`,
      `APP_PORT=${appPort}`,
      `ASG_NAME=${GROUP}`,
      `LIFECYCLE_HOOK=${HOOK}`,
      "HEALTH_CHECK_PATH=/healthz",
      `BOOT_TIMEOUT_SECONDS=${options.timeout ?? 30}`,
      `METRICS_NAMESPACE=${NAMESPACE}`,
      `WARM_POOL=${options.warmPool ?? ""}`,
      "",
    ].join("\n"),
  );
  const failed = options.failedUnit ?? "none";
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh\n[ "$1" = is-failed ] && [ "$3" = "${failed}" ] && exit 0\nexit 1\n`);
  writeFileSync(join(bin, "journalctl"), `#!/bin/sh\necho "journal: $*"\necho "journal: app exited with status 1"\n`);
  for (const tool of ["systemctl", "journalctl"]) chmodSync(join(bin, tool), 0o755);
  writeFileSync(join(dir, "uptime"), `${options.uptime ?? 0}.42 1.00\n`);
  const env = emu.cliEnv(REGION);
  const child = spawn("bash", [SCRIPT, "shop"], {
    env: {
      ...process.env,
      ...env,
      PATH: `${bin}:${env.PATH}`,
      IMMUTABLE_APP_CONFIG_DIR: dir,
      IMMUTABLE_APP_IMDS_URL: emu.url,
      IMMUTABLE_APP_READY_POLL_SECONDS: "1",
      IMMUTABLE_APP_UPTIME_FILE: join(dir, "uptime"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    output += c.toString();
  });
  return Object.assign(child, { output: () => output, dir });
}

function finished(child: ChildProcess & { output: () => string }): Promise<{ status: number; output: string; dir: string }> {
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, output: child.output(), dir: "" }));
  });
}

async function completions(instance: string): Promise<string[]> {
  return (await emu.requests())
    .filter((r) => r.action === "CompleteLifecycleAction" && r.params.InstanceId === instance)
    .map((r) => `${r.params.AutoScalingGroupName}/${r.params.LifecycleHookName}:${r.params.LifecycleActionResult}`);
}

function bootFailures(): number {
  const stats = emu.aws(REGION, [
    "cloudwatch",
    "get-metric-statistics",
    "--namespace",
    NAMESPACE,
    "--metric-name",
    // The name the stack's boot-failure alarm watches: the script must report under it.
    BOOT_FAILURE_METRIC,
    "--dimensions",
    `Name=AutoScalingGroupName,Value=${GROUP}`,
    "--start-time",
    new Date(Date.now() - 3_600_000).toISOString(),
    "--end-time",
    new Date(Date.now() + 600_000).toISOString(),
    "--period",
    "60",
    "--statistics",
    "Sum",
  ]);
  return stats.Datapoints.reduce((sum: number, d: { Sum: number }) => sum + d.Sum, 0);
}

describe("the ready script completes the launch lifecycle hook", () => {
  it("CONTINUE once the app answers 2xx locally", async () => {
    appStatus = 200;
    await emu.setMetadata({ "instance-id": "i-00000000000000001", "autoscaling/target-lifecycle-state": "InService" });
    await emu.pendingLaunch(GROUP, "i-00000000000000001");
    const result = await boot("answers");
    expect(result).toMatchObject({ status: 0 });
    expect(result.output).toContain(`http://127.0.0.1:${appPort}/healthz answers 200`);
    expect(await completions("i-00000000000000001")).toEqual([`${GROUP}/${HOOK}:CONTINUE`]);
  });

  it("ABANDON after the timeout when the app never answers 2xx, with the boot failure reported first", async () => {
    appStatus = 503;
    await emu.setMetadata({ "instance-id": "i-00000000000000002" });
    await emu.pendingLaunch(GROUP, "i-00000000000000002");
    const before = bootFailures();
    const result = await boot("never", { timeout: 3 });
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      "did not answer 2xx within 3 s (the lifecycle hook's 3 s from launch, less the 0 s of boot and a 0 s margin; last answer: 503); the instance is abandoned",
    );
    expect(result.output).toContain("journal: app exited with status 1");
    expect(await completions("i-00000000000000002")).toEqual([`${GROUP}/${HOOK}:ABANDON`]);
    expect(bootFailures()).toBe(before + 1);
  });

  it("gives up before AWS's heartbeat timeout, which counts from the launch: less the time since boot and a margin", async () => {
    appStatus = 503;
    await emu.setMetadata({ "instance-id": "i-00000000000000006" });
    await emu.pendingLaunch(GROUP, "i-00000000000000006");
    // 600 s from launch, 590 s of them spent booting, 60 s margin: the script gives up at once and still
    // reports before AWS would abandon the instance without a word.
    const result = await boot("late", { timeout: 600, uptime: 590 });
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      "did not answer 2xx within 1 s (the lifecycle hook's 600 s from launch, less the 590 s of boot and a 60 s margin",
    );
    expect(await completions("i-00000000000000006")).toEqual([`${GROUP}/${HOOK}:ABANDON`]);
  });

  it("ABANDON at once when the app's unit failed, without waiting for the timeout", async () => {
    appStatus = 503;
    await emu.setMetadata({ "instance-id": "i-00000000000000003" });
    await emu.pendingLaunch(GROUP, "i-00000000000000003");
    const started = Date.now();
    const result = await boot("crashed", { timeout: 600, failedUnit: "immutable-app@shop.service" });
    expect(result.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.output).toContain("immutable-app@shop.service failed; the instance is abandoned");
    expect(await completions("i-00000000000000003")).toEqual([`${GROUP}/${HOOK}:ABANDON`]);
  });

  it("goes on when no action is pending (an instance launched before the hook existed)", async () => {
    appStatus = 200;
    await emu.setMetadata({ "instance-id": "i-00000000000000004" });
    const result = await boot("no-hook");
    expect(result.status).toBe(0);
    expect(result.output).toContain("no lifecycle action is pending");
  });

  it("a Running warm-pool instance completes into the pool, on entering InService, and again after a scale-in returned it", async () => {
    appStatus = 200;
    const id = "i-00000000000000005";
    await emu.setMetadata({ "instance-id": id, "autoscaling/target-lifecycle-state": "Warmed:Running" });
    await emu.pendingLaunch(GROUP, id);
    const child = start("warm", { warmPool: "Running" });
    const waitFor = async (count: number) => {
      for (let i = 0; i < 300 && (await completions(id)).length < count; i++) await new Promise((r) => setTimeout(r, 200));
      expect(await completions(id)).toHaveLength(count);
    };
    try {
      await waitFor(1);
      // The group takes it into service: a new lifecycle action.
      await emu.pendingLaunch(GROUP, id);
      await emu.setMetadata({ "autoscaling/target-lifecycle-state": "InService" });
      await waitFor(2);
      // A scale-in returns it to the pool (ReuseOnScaleIn); the next scale-out takes it again.
      await emu.setMetadata({ "autoscaling/target-lifecycle-state": "Warmed:Running" });
      // Long enough for the script's 5 s poll to see it, on a loaded machine too.
      await new Promise((r) => setTimeout(r, 12_000));
      await emu.pendingLaunch(GROUP, id);
      await emu.setMetadata({ "autoscaling/target-lifecycle-state": "InService" });
      await waitFor(3);
      expect(child.output()).toContain("in the warm pool (Warmed:Running); waiting to enter InService");
      expect(await completions(id)).toEqual(Array(3).fill(`${GROUP}/${HOOK}:CONTINUE`));
    } finally {
      child.kill("SIGTERM");
    }
  });
});
