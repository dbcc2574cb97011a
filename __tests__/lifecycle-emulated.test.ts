/**
 * The whole life of two configurations on an emulated AWS (moto server, __tests__/support/emulated_aws.py):
 * the first apply, the plan right after it, a release rolled out by instance refresh, a bad release that
 * AWS rolls back, the documented rollback (the previous image again), a secret set out of band that
 * never reaches the state, and destroy. Every environment of a configuration runs at the same time.
 *
 * What the emulated AWS is not:
 * - moto 5.2.5 has no instance-refresh API (moto/autoscaling/responses.py): the recording handler in
 *   emulated_aws.py answers those calls, stores them, ends each refresh the way the test chooses, and
 *   moves the group to the desired version only on success, as AWS does. This test checks every
 *   recorded StartInstanceRefresh against AWS's rules (managed/aws-rules.ts).
 * - moto launches no real instances, runs no user data and no health checks, and answers every target as
 *   registered; the boot script is tested against the user data in boot-contract.test.ts.
 * - moto checks no IAM policy (every call is allowed): the instance policy is evaluated in
 *   instance-policy.test.ts and step 1b instead; and no KMS key policy, bucket policy or ELB log delivery.
 * - moto's alarms start in OK and never evaluate a metric (moto/cloudwatch/models.py, FakeAlarm
 *   state_value = "OK"); AWS's start in INSUFFICIENT_DATA. Step 5 sets an alarm's state by hand.
 * - moto does not validate that an aws:ec2:image parameter names an existing AMI (moto/ssm/models.py,
 *   put_parameter: "is not supported. The parameter will be created"), nor ACM certificate validation.
 * - Where moto answered differently from AWS in a way the provider reads as a change, emulated_aws.py
 *   corrects it (answer_like_aws, each case cited there); the plans below are otherwise moto's.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { refreshPreferenceProblems, type RefreshPreferences } from "../managed/aws-rules";
import { resolveConfig } from "../managed/config-validation";
import { rolloutAlarmNames, secretParameterName } from "../managed/names";
import { EMULATED_ACCOUNT_ID, EmulatedAws, type RecordedRequest } from "./support/emulated-aws";
import { alarmList } from "../stacks/rollout-alarms";
import { evaluate } from "./support/iam-eval";
import { exampleConfigJson, REPO_ROOT, synthProject } from "./support/synth";
import { tempDir, TerraformDir, type TerraformResult, writeCliConfig } from "./support/terraform";

const AMI_1 = "ami-0123456789abcdef0";
const AMI_2 = "ami-0fedcba9876543210";
const AMI_HOTFIX = "ami-0abcdef0123456789";
const ROLLOUT = join(REPO_ROOT, "managed", "rollout.sh");
const TSX = require.resolve("tsx");

jest.setTimeout(900_000);

interface Stack {
  readonly config: string;
  /** A project folder that `npm run deploy` (managed/deploy.ts) runs in; the example's stacks have none. */
  readonly project?: string;
  readonly name: string;
  readonly region: string;
  readonly tf: TerraformDir;
  readonly asg: string;
  /** The image comes from this parameter (resolve:ssm), not from the ami_id variable. */
  readonly imageParameter?: string;
  readonly secrets: readonly string[];
  readonly deletionProtection: boolean;
}

const times: Record<string, number> = {};
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    times[step] = (Date.now() - started) / 1000;
  }
}

let emu: EmulatedAws;
let stacks: Stack[] = [];
let cli: string;
/** The rollout's probe goes here (a loopback server counting requests), not to the emulated load balancer's made-up DNS name. */
let probe: Server;
let probeUrl = "";
let probeRequests = 0;

/** Terraform, the AWS CLI and the provider all reach the emulated AWS through AWS_ENDPOINT_URL. */
function awsEnv(region: string): NodeJS.ProcessEnv {
  return { ...emu.cliEnv(region), TF_CLI_CONFIG_FILE: cli, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
}

function stackOf(configName: string, config: ReturnType<typeof resolveConfig>, name: string, dir: string, project?: string): Stack {
  const env = config.environments.find((e) => e.name === name)!;
  return {
    config: configName,
    project,
    name,
    region: config.region,
    tf: new TerraformDir(dir, cli, awsEnv(config.region)),
    asg: `${config.appName}-${name}`,
    imageParameter: env.amiSource.mode === "ssm" ? env.amiSource.parameter : undefined,
    secrets: config.secrets.map((s) => secretParameterName(config.appName, name, s)),
    deletionProtection: env.deletionProtection,
  };
}

/** The stacks of a config synthesized by the test, for terraform and rollout.sh as an ops team runs them. */
function prepare(configName: string, configJson: Record<string, unknown>, root: string): Stack[] {
  const config = resolveConfig(configJson);
  const dirs = synthProject(join(root, configName), config);
  return config.environments.map((env) => stackOf(configName, config, env.name, dirs[env.name]));
}

/** A project folder (its config, this repository's stacks/ and managed/) for `npm run deploy`. */
function project(configName: string, configJson: Record<string, unknown>, root: string): Stack[] {
  const config = resolveConfig(configJson);
  const dir = join(root, configName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "immutable.config.json"), JSON.stringify(configJson, null, 2));
  for (const name of ["stacks", "managed", "node_modules"]) symlinkSync(join(REPO_ROOT, name), join(dir, name));
  return config.environments.map((env) => stackOf(configName, config, env.name, join(dir, "cdktf.out", "stacks", env.name), dir));
}

/** `npm run deploy -- <env> ...`, as a developer or CI runs it. */
function deploy(stack: Stack, args: readonly string[] = []): Promise<{ status: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", TSX, join("managed", "deploy.ts"), stack.name, "--auto-approve", "--probe-url", probeUrl, ...args],
      {
        cwd: stack.project,
        env: { ...process.env, ...awsEnv(stack.region), GITHUB_ACTIONS: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, output }));
  });
}

function vars(stack: Stack, ami: string): string[] {
  return stack.imageParameter ? [] : ["-var", `ami_id=${ami}`];
}

/**
 * After the first apply, applies skip the refresh: the plans of steps 2, 5 and 6 refresh every resource
 * and must be empty, so what these applies change is only what the release changes (time: moto answers
 * every refresh call in one Python process).
 */
async function apply(stack: Stack, ami: string, refresh = false): Promise<TerraformResult> {
  return stack.tf.runAsync([
    "apply",
    "-auto-approve",
    "-input=false",
    "-no-color",
    "-lock=false",
    `-refresh=${refresh}`,
    ...vars(stack, ami),
  ]);
}

/** `terraform plan -detailed-exitcode`: 0 no changes, 2 changes. */
async function plan(stack: Stack, ami: string): Promise<TerraformResult> {
  return stack.tf.runAsync(["plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false", ...vars(stack, ami)]);
}

function expectOk(stack: Stack, result: TerraformResult, what: string): void {
  if (result.status !== 0)
    throw new Error(`${stack.config}/${stack.name}: ${what} failed (${result.status}):\n${result.stderr}\n${result.stdout.slice(-4000)}`);
}

function expectNoChanges(stack: Stack, result: TerraformResult): void {
  if (result.status !== 0) {
    throw new Error(
      `${stack.config}/${stack.name}: the plan is not empty (exit ${result.status}):\n${result.stdout.slice(-6000)}\n${result.stderr}`,
    );
  }
}

/** The rollout command as ops and CI run it, against the emulated AWS. */
function rollout(stack: Stack, args: readonly string[] = []): Promise<{ status: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [ROLLOUT, "--dir", stack.tf.dir, "--poll", "1", "--probe-url", probeUrl, ...args], {
      env: { ...process.env, ...awsEnv(stack.region), GITHUB_ACTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, output }));
  });
}

/** An alarm put in a state directly, as a breached (or recovered) metric would put it on AWS. */
function setAlarmState(stack: Stack, alarm: string, state: "ALARM" | "OK"): void {
  emu.aws(stack.region, ["cloudwatch", "set-alarm-state", "--alarm-name", alarm, "--state-value", state, "--state-reason", "test"]);
}

/** rollout.sh --status: does the group run the release the last apply wrote? (what drift and npm run plan ask) */
function statusCheck(stack: Stack): Promise<{ status: number; output: string }> {
  return rollout(stack, ["--status"]);
}

function groupVersion(stack: Stack): string {
  return emu.aws(stack.region, ["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", stack.asg])
    .AutoScalingGroups[0].LaunchTemplate.Version;
}

function output(stack: Stack, name: string): string {
  return stack.tf.ok(["output", "-raw", name]);
}

async function starts(stack: Stack): Promise<RecordedRequest[]> {
  return (await emu.requests()).filter((r) => r.action === "StartInstanceRefresh" && r.params.AutoScalingGroupName === stack.asg);
}

/** Query-protocol strings back to the types of the API reference. */
function preferencesOf(request: RecordedRequest): RefreshPreferences {
  const p = request.params.Preferences ?? {};
  const int = (v: unknown) => (v === undefined ? undefined : Number(v));
  const bool = (v: unknown) => (v === undefined ? undefined : v === "true");
  return {
    MinHealthyPercentage: int(p.MinHealthyPercentage),
    MaxHealthyPercentage: int(p.MaxHealthyPercentage),
    InstanceWarmup: int(p.InstanceWarmup),
    SkipMatching: bool(p.SkipMatching),
    AutoRollback: bool(p.AutoRollback),
    ScaleInProtectedInstances: p.ScaleInProtectedInstances,
    StandbyInstances: p.StandbyInstances,
    AlarmSpecification: p.AlarmSpecification ? { Alarms: p.AlarmSpecification.Alarms ?? [] } : undefined,
    CheckpointPercentages: p.CheckpointPercentages?.map(Number),
    CheckpointDelay: int(p.CheckpointDelay),
    BakeTime: int(p.BakeTime),
  };
}

/** The phases the emulated refreshes of a group went through, newest refresh last. */
async function phasesOf(stack: Stack): Promise<string[][]> {
  return (await emu.refreshes()).filter((r) => r.group === stack.asg).map((r) => r.phases);
}

/** A VPC and two public and two private subnets made outside Terraform, as a team's existing network. */
function existingNetwork(region: string): { vpcId: string; publicSubnetIds: string[]; privateSubnetIds: string[] } {
  const vpcId = emu.aws(region, ["ec2", "create-vpc", "--cidr-block", "10.50.0.0/16"]).Vpc.VpcId;
  const subnet = (cidr: string, zone: string) =>
    emu.aws(region, ["ec2", "create-subnet", "--vpc-id", vpcId, "--cidr-block", cidr, "--availability-zone", `${region}${zone}`]).Subnet
      .SubnetId;
  return {
    vpcId,
    publicSubnetIds: [subnet("10.50.0.0/24", "a"), subnet("10.50.1.0/24", "b")],
    privateSubnetIds: [subnet("10.50.10.0/24", "a"), subnet("10.50.11.0/24", "b")],
  };
}

beforeAll(async () => {
  probe = createServer((_req, res) => {
    probeRequests++;
    res.end("ok");
  });
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  probeUrl = `http://127.0.0.1:${(probe.address() as { port: number }).port}/`;
  emu = await EmulatedAws.start();
  const root = tempDir("lifecycle");
  cli = writeCliConfig(root);
  const region = "eu-west-1";
  const certificateArn = emu.aws(region, ["acm", "request-certificate", "--domain-name", "shop.example.com"]).CertificateArn;
  emu.aws(region, [
    "ssm",
    "put-parameter",
    "--name",
    "/shop/image/edge/ami-id",
    "--type",
    "String",
    "--data-type",
    "aws:ec2:image",
    "--value",
    AMI_1,
  ]);
  const variant = {
    appName: "shop",
    region,
    certificateArn,
    waf: true,
    network: { mode: "existing", ...existingNetwork(region) },
    config: { FEATURE_FLAGS: "checkout,search", GREETING: "100% ${literal}" },
    secrets: ["API_TOKEN"],
    // A warm pool: applied through PutWarmPool, planned clean (moto 5.2 stores and describes it).
    environments: [
      {
        name: "edge",
        minCapacity: 1,
        maxCapacity: 2,
        amiSource: "resolve:ssm:/shop/image/edge/ami-id",
        warmPool: { state: "Stopped", minSize: 1 },
      },
    ],
  };
  stacks = [...prepare("example", exampleConfigJson(), root), ...project("variant", variant, root)];
  await Promise.all(
    stacks.filter((s) => !s.project).map(async (s) => expectOk(s, await s.tf.runAsync(["init", "-input=false", "-no-color"]), "init")),
  );
}, 300_000);

afterAll(async () => {
  await emu?.stop();
  probe?.close();
  // Step times, for BENCHMARKS.md (no assertion: speed is measured, not tested).
  console.log(`lifecycle step times (s, all stacks at once): ${JSON.stringify(times)}`);
});

describe("the emulated lifecycle of the example config and a variant (existing VPC, certificate, WAF, resolve:ssm)", () => {
  it("1. the first deploy creates everything (a project with secrets: the secrets first, then the rest), on the template's first version without a refresh", async () => {
    const [applied, deployed] = await timed("first apply", () =>
      Promise.all([
        Promise.all(stacks.filter((s) => !s.project).map((s) => apply(s, AMI_1, true))),
        firstDeploy(stacks.find((s) => s.project)!),
      ]),
    );
    for (const [i, s] of stacks.filter((s) => !s.project).entries()) expectOk(s, applied[i], "the first apply");
    expect(deployed).toEqual({ status: 0, output: expect.stringContaining("nothing to roll out") });
    for (const s of stacks) {
      expect(groupVersion(s)).toBe("1");
      expect(output(s, "launch_template_version")).toBe("1");
      expect(await starts(s)).toEqual([]);
    }
  });

  /**
   * `npm run deploy` of a project that declares a secret: the first run creates the secret parameters
   * and nothing that launches an instance, and stops (exit 4) with the command that sets each one; once
   * set, the same command creates the rest.
   */
  async function firstDeploy(stack: Stack): Promise<{ status: number; output: string }> {
    const first = await deploy(stack);
    expect(first.status).toBe(4);
    for (const name of stack.secrets) {
      expect(first.output).toContain(
        `aws ssm put-parameter --overwrite --type SecureString --key-id alias/shop-${stack.name}-secrets --name ${name} --value "$VALUE"`,
      );
    }
    expect(first.output).toContain(`Set the secrets, then run npm run deploy -- ${stack.name} again.`);
    expect(
      emu.aws(stack.region, ["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", stack.asg]).AutoScalingGroups,
    ).toEqual([]);
    const created = new Set(
      stack.tf
        .ok(["state", "list"])
        .trim()
        .split("\n")
        .map((a) => a.split(".")[0]),
    );
    expect(created).toContain("aws_ssm_parameter");
    for (const type of created) expect(["aws_kms_key", "aws_kms_alias", "aws_kms_key_policy", "aws_ssm_parameter"]).toContain(type);
    for (const name of stack.secrets) {
      emu.aws(stack.region, [
        "ssm",
        "put-parameter",
        "--overwrite",
        "--type",
        "SecureString",
        "--name",
        name,
        "--value",
        `first-${stack.name}`,
      ]);
    }
    return deploy(stack);
  }

  it("1b. every policy of the staging instance role, as AWS returns it, denies production's parameters", () => {
    const staging = stacks.find((s) => s.config === "example" && s.name === "staging")!;
    const roles: Array<{ RoleName: string }> = emu.aws(staging.region, ["iam", "list-roles"]).Roles;
    const [role] = roles.filter((r) => r.RoleName.startsWith("demo-app-staging-") && !r.RoleName.startsWith("demo-app-staging-flow-"));
    const inline: string[] = emu.aws(staging.region, ["iam", "list-role-policies", "--role-name", role.RoleName]).PolicyNames;
    const attached: Array<{ PolicyArn: string }> = emu.aws(staging.region, [
      "iam",
      "list-attached-role-policies",
      "--role-name",
      role.RoleName,
    ]).AttachedPolicies;
    expect(attached).toEqual([]);
    const policies = inline.map(
      (name) => emu.aws(staging.region, ["iam", "get-role-policy", "--role-name", role.RoleName, "--policy-name", name]).PolicyDocument,
    );
    const arn = (path: string) => `arn:aws:ssm:${staging.region}:${EMULATED_ACCOUNT_ID}:parameter${path}`;
    expect(evaluate(policies, { action: "ssm:GetParameter", resource: arn("/demo-app/production/secret/DATABASE_PASSWORD") })).toBe(
      "ExplicitDeny",
    );
    expect(evaluate(policies, { action: "ssm:GetParametersByPath", resource: arn("/demo-app/production") })).toBe("ExplicitDeny");
    expect(evaluate(policies, { action: "ssm:GetParametersByPath", resource: arn("/demo-app/staging") })).toBe("Allow");
  });

  it("2. the plan right after the apply is empty: no perpetual diff", async () => {
    const results = await timed("plan after apply", () => Promise.all(stacks.map((s) => plan(s, AMI_1))));
    for (const [i, s] of stacks.entries()) expectNoChanges(s, results[i]);
  });

  it("3. a secret set out of band never reaches the state, through a refresh and an apply", async () => {
    const secretStacks = stacks.filter((s) => s.secrets.length > 0);
    expect(secretStacks.length).toBeGreaterThan(1);
    const values = new Map<string, string>();
    for (const s of secretStacks) {
      for (const name of s.secrets) {
        const value = `s3cr3t-${s.name}-${Math.random().toString(36).slice(2)}`;
        values.set(name, value);
        emu.aws(s.region, ["ssm", "put-parameter", "--overwrite", "--type", "SecureString", "--name", name, "--value", value]);
      }
    }
    const refreshed = await timed("refresh with secrets set", () =>
      Promise.all(
        secretStacks.map((s) =>
          s.tf.runAsync(["apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color", "-lock=false", ...vars(s, AMI_1)]),
        ),
      ),
    );
    for (const [i, s] of secretStacks.entries()) expectOk(s, refreshed[i], "the refresh-only apply");
    for (const s of secretStacks) {
      const state = s.tf.ok(["state", "pull"]);
      for (const name of s.secrets) {
        // The parameter is in the state (its name, its version), its value is not.
        expect(state).toContain(name);
        expect(state).not.toContain(values.get(name)!);
      }
    }
    // The rollout's own check agrees that every secret is set now (version 2 or later).
    for (const s of secretStacks.filter((x) => !x.imageParameter)) {
      expect(await rollout(s)).toEqual({ status: 0, output: expect.stringContaining("nothing to roll out") });
    }
  });

  it("4. a new image: a new template version, the group stays on its version until the refresh with that desired configuration succeeds", async () => {
    const results = await timed("apply a new image", () => Promise.all(stacks.map((s) => apply(s, AMI_2))));
    for (const [i, s] of stacks.entries()) expectOk(s, results[i], "the apply of a new image");
    const variableStacks = stacks.filter((s) => !s.imageParameter);
    for (const s of variableStacks) {
      expect(output(s, "launch_template_version")).toBe("2");
      // ignore_changes on the group's version: Terraform did not move it.
      expect(groupVersion(s)).toBe("1");
    }
    await emu.setRefreshOutcome({ status: "Successful", steps: 2 });
    // Production has grown since the synth (scaling owns the desired capacity; Terraform ignores it):
    // the rollout makes the canary one of today's three instances.
    const grown = variableStacks.find((s) => s.config === "example" && s.name === "production")!;
    emu.aws(grown.region, ["autoscaling", "set-desired-capacity", "--auto-scaling-group-name", grown.asg, "--desired-capacity", "3"]);
    const probed = probeRequests;
    const rollouts = await timed("rollout (success)", () => Promise.all(variableStacks.map((s) => rollout(s))));
    // The probe sent requests while the refreshes ran (2 a second by default, bounded by the wait).
    expect(probeRequests).toBeGreaterThan(probed);
    for (const [i, s] of variableStacks.entries()) {
      expect({ stack: s.name, status: rollouts[i].status }).toEqual({ stack: s.name, status: 0 });
      expect(rollouts[i].output).toMatch(/\d+% done, \d+ instance\(s\) left/);
      expect(rollouts[i].output).toContain(`probing ${probeUrl}`);
      expect(rollouts[i].output).toContain(`rolled out; it runs launch template version 2 (${AMI_2})`);
      expect(groupVersion(s)).toBe("2");
      const [start] = await starts(s);
      expect(start.params.DesiredConfiguration.LaunchTemplate).toEqual({ LaunchTemplateId: output(s, "launch_template_id"), Version: "2" });
      const prefs = preferencesOf(start);
      const alarms = rolloutAlarmNames(s.asg.split(`-${s.name}`)[0], s.name);
      expect(prefs).toMatchObject({
        AutoRollback: true,
        SkipMatching: true,
        AlarmSpecification: { Alarms: alarmList(alarms) },
      });
      expect(refreshPreferenceProblems(prefs, { desiredVersion: "2", groupVersion: "1", imageFromSsm: false })).toEqual([]);
      // Through every checkpoint and the bake time: production's two instances have a canary of one (50 %),
      // recomputed from the group's capacity; staging's one has a single step.
      const phases = (await phasesOf(s)).at(-1);
      if (s.name === "production") {
        expect(prefs).toMatchObject({ CheckpointPercentages: [33, 100], CheckpointDelay: 300, BakeTime: 600 });
        expect(rollouts[i].output).toContain("3 instances; the canary is one of them (checkpoints 33,100 %)");
        expect(phases).toEqual(["replacing:1", "checkpoint:1", "replacing:2", "bake", "done"]);
      } else {
        expect(prefs.CheckpointPercentages).toBeUndefined();
        expect(phases).toEqual(["replacing:1", "bake", "done"]);
      }
      expect(await statusCheck(s)).toMatchObject({ status: 0 });
    }
  });

  it("5. a bad release: the refresh rolls back, the group still runs the previous version, and the command says so and exits 3", async () => {
    const production = stacks.find((s) => s.config === "example" && s.name === "production")!;
    const applied = await apply(production, AMI_1);
    expectOk(production, applied, "the apply of the next release");
    expect(output(production, "launch_template_version")).toBe("3");
    // An alarm already in ALARM: AWS would refuse the refresh, so the rollout does not start one.
    const before = (await starts(production)).length;
    setAlarmState(production, "demo-app-production-rollout-error-rate", "ALARM");
    const refused = await rollout(production);
    expect(refused.status).toBe(1);
    expect(refused.output).toContain("a rollout alarm is in ALARM before the rollout starts: demo-app-production-rollout-error-rate");
    expect((await starts(production)).length).toBe(before);
    setAlarmState(production, "demo-app-production-rollout-error-rate", "OK");
    // The canary's errors put the error-rate alarm in ALARM during the first checkpoint's delay: the
    // refresh stops there and AWS rolls it back (the emulation reads the watched alarms at every phase).
    await emu.setRefreshOutcome({
      group: production.asg,
      status: "Successful",
      alarm: { name: "demo-app-production-rollout-error-rate", at: "checkpoint:1" },
    });
    const result = await timed("rollout (rolled back)", () => rollout(production));
    expect(result.status).toBe(3);
    expect(result.output).toContain(
      `rolled back (alarm demo-app-production-rollout-error-rate went into ALARM); ${production.asg} runs launch template version 2 (${AMI_2}) again`,
    );
    expect((await phasesOf(production)).at(-1)).toEqual(["replacing:1", "checkpoint:1", "rollback", "rolled-back"]);
    expect(groupVersion(production)).toBe("2");
    // Terraform sees nothing (the group's version is AWS's to change) ...
    expectNoChanges(production, await plan(production, AMI_1));
    // ... but the release check does, and fails as drift does.
    const status = await statusCheck(production);
    expect(status.status).toBe(5);
    expect(status.output).toContain(
      `${production.asg} runs launch template version 2, but the last apply wrote version 3: its instance refresh ended RollbackSuccessful`,
    );
    expect(status.output).toContain("(alarm demo-app-production-rollout-error-rate went into ALARM)");
    setAlarmState(production, "demo-app-production-rollout-error-rate", "OK");
    await emu.setRefreshOutcome({ group: production.asg, status: "Successful" });
  });

  it("6. the documented rollback: the previous image again is a new version rolled out the same way", async () => {
    const variableStacks = stacks.filter((s) => !s.imageParameter);
    const results = await timed("apply the previous image", () => Promise.all(variableStacks.map((s) => apply(s, AMI_1))));
    for (const [i, s] of variableStacks.entries()) expectOk(s, results[i], "the rollback apply");
    const rollouts = await timed("rollout of the rollback", () => Promise.all(variableStacks.map((s) => rollout(s))));
    for (const [i, s] of variableStacks.entries()) {
      expect({ stack: s.name, status: rollouts[i].status, output: rollouts[i].output }).toMatchObject({ status: 0 });
      const version = output(s, "launch_template_version");
      expect(groupVersion(s)).toBe(version);
      expect(rollouts[i].output).toContain(`(${AMI_1})`);
    }
    // Production's version 3 (AMI_1) was rolled back in step 5: rolling it out again says what it retries.
    const production = variableStacks.find((s) => s.config === "example" && s.name === "production")!;
    expect(rollouts[variableStacks.indexOf(production)].output).toContain(
      `retrying launch template version 3 (${AMI_1}): its last rollout ended RollbackSuccessful`,
    );
    // After a release, a rolled-back one and the rollback: nothing to change (and the secrets set out of
    // band in step 3 are not Terraform's to overwrite).
    const plans = await timed("plan after the rollouts", () => Promise.all(stacks.map((s) => plan(s, AMI_1))));
    for (const [i, s] of stacks.entries()) expectNoChanges(s, plans[i]);
  });

  it("6b. a group put on the new version by hand, its instances still on the old one: the rollout replaces them instead of calling it done", async () => {
    const staging = stacks.find((s) => s.config === "example" && s.name === "staging")!;
    expectOk(staging, await apply(staging, AMI_2), "the apply of a new image");
    const want = output(staging, "launch_template_version");
    const instancesOf = () =>
      emu
        .aws(staging.region, ["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", staging.asg])
        .AutoScalingGroups[0].Instances.map((i: any) => i.LaunchTemplate.Version);
    // What an operator might do in the console: name the version on the group, which launches no instance.
    emu.aws(staging.region, [
      "autoscaling",
      "update-auto-scaling-group",
      "--auto-scaling-group-name",
      staging.asg,
      "--launch-template",
      `LaunchTemplateId=${output(staging, "launch_template_id")},Version=${want}`,
    ]);
    expect(groupVersion(staging)).toBe(want);
    const before = instancesOf();
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((v: string) => v !== want)).toEqual(before);
    const startsBefore = (await starts(staging)).length;
    const result = await rollout(staging);
    expect({ status: result.status, output: result.output }).toMatchObject({ status: 0 });
    expect(result.output).toMatch(new RegExp(`is on launch template version ${want}, but instances i-\\w+.* are not: replacing them`));
    expect(result.output).not.toContain("nothing to roll out");
    const recorded = await starts(staging);
    expect(recorded.length).toBe(startsBefore + 1);
    expect(preferencesOf(recorded[recorded.length - 1])).toMatchObject({ SkipMatching: true });
    expect(instancesOf().every((v: string) => v === want)).toBe(true);
    expect((await rollout(staging)).output).toContain("nothing to roll out");
    expectNoChanges(staging, await plan(staging, AMI_2));
  });

  it("6c. break-glass: with an alarm in ALARM, --ignore-alarms starts the refresh without its alarm specification and says so", async () => {
    const staging = stacks.find((s) => s.config === "example" && s.name === "staging")!;
    expectOk(staging, await apply(staging, AMI_HOTFIX), "the hotfix apply");
    setAlarmState(staging, "demo-app-staging-rollout-latency", "ALARM");
    const before = (await starts(staging)).length;
    const result = await rollout(staging, ["--ignore-alarms"]);
    expect(result.status).toBe(0);
    expect(result.output).toContain("BREAK-GLASS: --ignore-alarms: this rollout runs WITHOUT its alarms");
    const started = (await starts(staging)).slice(before);
    expect(started).toHaveLength(1);
    expect(started[0].params.Preferences.AlarmSpecification).toBeUndefined();
    expect(preferencesOf(started[0])).toMatchObject({ AutoRollback: true, BakeTime: 300 });
    expect(groupVersion(staging)).toBe(output(staging, "launch_template_version"));
    setAlarmState(staging, "demo-app-staging-rollout-latency", "OK");
  });

  it("7. resolve:ssm: a new image in the parameter is rolled out without a rollback (AWS cannot roll back to one)", async () => {
    const edge = stacks.find((s) => s.imageParameter)!;
    emu.aws(edge.region, [
      "ssm",
      "put-parameter",
      "--overwrite",
      "--name",
      edge.imageParameter!,
      "--type",
      "String",
      "--data-type",
      "aws:ec2:image",
      "--value",
      AMI_2,
    ]);
    const result = await timed("rollout (resolve:ssm)", () => rollout(edge));
    expect(result.status).toBe(0);
    const all = await starts(edge);
    const prefs = preferencesOf(all[all.length - 1]);
    expect(prefs).toMatchObject({ AutoRollback: false, SkipMatching: false });
    expect(
      refreshPreferenceProblems(prefs, { desiredVersion: output(edge, "launch_template_version"), groupVersion: "1", imageFromSsm: true }),
    ).toEqual([]);
  });

  it("8. destroy removes every environment without deletion protection; production's protection stops the plan before anything goes", async () => {
    const [protectedStacks, others] = [stacks.filter((s) => s.deletionProtection), stacks.filter((s) => !s.deletionProtection)];
    expect(protectedStacks.map((s) => `${s.config}/${s.name}`)).toEqual(["example/production"]);
    const destroyArgs = (s: Stack) => [
      "destroy",
      "-auto-approve",
      "-input=false",
      "-no-color",
      "-lock=false",
      "-refresh=false",
      ...vars(s, AMI_1),
    ];
    const before = protectedStacks.map((s) => s.tf.ok(["state", "list"]));
    const results = await timed("destroy", () => Promise.all([...others, ...protectedStacks].map((s) => s.tf.runAsync(destroyArgs(s)))));
    for (const [i, s] of others.entries()) expectOk(s, results[i], "destroy");
    for (const s of others) {
      expect(s.tf.ok(["state", "list"]).trim()).toBe("");
      expect(
        emu.aws(s.region, ["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", s.asg]).AutoScalingGroups,
      ).toEqual([]);
    }
    protectedStacks.forEach((s, i) => {
      const result = results[others.length + i];
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/lifecycle\.prevent_destroy/);
      expect(s.tf.ok(["state", "list"])).toBe(before[i]);
    });
  });
});
