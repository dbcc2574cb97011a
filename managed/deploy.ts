/**
 * `npm run deploy -- <env> [--ami ami-...] [--auto-approve] [--timeout SECONDS]`
 *
 * One release of one environment, end to end: synthesize the stacks, `terraform apply` the
 * environment (a new launch template version; the group keeps running the old one), then roll the
 * new version out by an instance refresh and wait for it (managed/rollout.sh). The exit code is the
 * rollout's: 0 rolled out, 1 failed, 2 bad usage, 3 rolled back, 4 secrets not set yet.
 *
 * The image: --ami, or else the newest build in packer/packer-manifest.json for the app's region
 * (what `npm run image:build` wrote). Environments that resolve their image from an SSM parameter take
 * none. Rollback is the same command with the previous AMI id.
 *
 * A first deploy of an environment that declares secrets creates the secret parameters (with their
 * placeholder) and nothing else, and stops with the commands that set them: instances started before
 * would refuse to boot. Once they are set, the same command creates the rest.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { PATTERNS } from "./aws-rules";
import type { AppConfig, EnvironmentConfig } from "./config";
import { loadConfigOrReport } from "./load-config";
import { secretParameterName } from "./names";
import { creditWarning } from "./release-config";
import { formatTimeline, releaseTimeline } from "./release-model";
import { stackDir, synthesize } from "./synth";

export const USAGE = `Usage: npm run deploy -- <environment> [--ami ami-...] [--auto-approve] [--timeout SECONDS] [--replace-all] [--ignore-alarms] [--probe-url URL]
       npm run plan -- <environment> [--ami ami-...]      (what a deploy would change, the release model, and
                                                          whether the group runs the last release; changes nothing)

  <environment>      one of the environments in immutable.config.json
  --ami ID           the image to deploy (default: the newest build in packer/packer-manifest.json);
                     the previous id rolls back
  --auto-approve     apply without asking (CI)
  --timeout SECONDS  how long to wait for the instance refresh (default 3600)
  --replace-all      replace every instance even without a new version (after a secret's value changed)
  --ignore-alarms    break-glass: roll out without the rollout alarms (a hotfix while one is in ALARM);
                     only failed health checks can stop or roll it back
  --probe-url URL    send the rollout's probe requests here instead of the load balancer's health URL

Exit codes: 0 rolled out, 1 failed, 2 bad usage, 3 the refresh was rolled back, 4 a secret is not set,
5 (plan) the group runs another version than the last release wrote (it was rolled back).
`;

export const MANIFEST = join("packer", "packer-manifest.json");

export interface DeployOptions {
  readonly environment: string;
  readonly ami?: string;
  readonly autoApprove: boolean;
  readonly timeout?: string;
  /** terraform plan instead of apply and rollout. */
  readonly planOnly: boolean;
  /** Replace every instance, even if the group already runs the version (rollout.sh --replace-all). */
  readonly replaceAll: boolean;
  /** Break-glass: the refresh without its alarm specification (rollout.sh --ignore-alarms). */
  readonly ignoreAlarms: boolean;
  /** Where the rollout's probe goes (rollout.sh --probe-url). @default the stack's health_check_url */
  readonly probeUrl?: string;
}

export class UsageError extends Error {}

export function parseDeployArgs(argv: readonly string[]): DeployOptions | "help" {
  let environment: string | undefined;
  let ami: string | undefined;
  let timeout: string | undefined;
  let autoApprove = false;
  let planOnly = false;
  let replaceAll = false;
  let ignoreAlarms = false;
  let probeUrl: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === "-h" || arg === "--help") return "help";
    else if (arg === "--ami") ami = value();
    else if (arg.startsWith("--ami=")) ami = arg.slice("--ami=".length);
    else if (arg === "--timeout") timeout = value();
    else if (arg === "--auto-approve") autoApprove = true;
    else if (arg === "--plan") planOnly = true;
    else if (arg === "--replace-all") replaceAll = true;
    else if (arg === "--ignore-alarms") ignoreAlarms = true;
    else if (arg === "--probe-url") probeUrl = value();
    else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else if (environment === undefined) environment = arg;
    else throw new UsageError(`one environment at a time (got ${environment} and ${arg})`);
  }
  if (environment === undefined) throw new UsageError("which environment? e.g. npm run deploy -- staging");
  if (ami !== undefined && !PATTERNS.amiId.test(ami))
    throw new UsageError(`--ami ${JSON.stringify(ami)} is not an AMI id like ami-0123456789abcdef0`);
  if (timeout !== undefined && !/^[1-9][0-9]*$/.test(timeout))
    throw new UsageError(`--timeout ${JSON.stringify(timeout)} is not a number of seconds`);
  if (planOnly && ignoreAlarms) throw new UsageError("--ignore-alarms is for a deploy; a plan starts no rollout");
  if (probeUrl !== undefined && !/^https?:\/\/\S+$/.test(probeUrl))
    throw new UsageError(`--probe-url ${JSON.stringify(probeUrl)} is not an http:// or https:// URL`);
  return { environment, ami, autoApprove, timeout, planOnly, replaceAll, ignoreAlarms, ...(probeUrl ? { probeUrl } : {}) };
}

/** The AMI of the newest build of packer/packer-manifest.json in `region` (artifact_id "region:ami-..."). */
export function manifestAmi(file: string, region: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, "utf8")) as { builds?: Array<{ artifact_id?: string }> };
  const ids = (manifest.builds ?? [])
    .flatMap((b) => (b.artifact_id ?? "").split(","))
    .map((id) => id.split(":"))
    .filter(([r, ami]) => r === region && PATTERNS.amiId.test(ami ?? ""))
    .map(([, ami]) => ami);
  return ids[ids.length - 1];
}

function imageVariable(options: DeployOptions, env: EnvironmentConfig, config: AppConfig): string[] {
  if (env.amiSource.mode === "ssm") {
    if (options.ami) {
      throw new UsageError(
        `${env.name} takes its image from the SSM parameter ${env.amiSource.parameter}, not from --ami: put the AMI id there (the bake does), then deploy`,
      );
    }
    return [];
  }
  const ami = options.ami ?? manifestAmi(MANIFEST, config.region);
  if (!ami) throw new UsageError(`no image: pass --ami ami-..., or bake one first (npm run image:build writes ${MANIFEST})`);
  return ["-var", `ami_id=${ami}`];
}

function run(command: string, args: readonly string[]): number {
  const result = spawnSync(command, [...args], { stdio: "inherit" });
  if (result.error) {
    console.error(`deploy: cannot run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

export function deploy(options: DeployOptions, config: AppConfig): number {
  const env = config.environments.find((e) => e.name === options.environment);
  if (!env) {
    throw new UsageError(
      `${options.environment} is not an environment of immutable.config.json; they are ${config.environments.map((e) => e.name).join(", ")}`,
    );
  }
  const image = imageVariable(options, env, config);
  const { outdir } = synthesize(config);
  const dir = relative(process.cwd(), stackDir(outdir, env.name));
  const terraform = (...args: string[]) => run("terraform", [`-chdir=${dir}`, ...args]);
  const approve = options.autoApprove ? ["-auto-approve"] : [];
  const credits = creditWarning(env);
  console.log(`${formatTimeline(env.name, releaseTimeline(env))}${credits ? `\n  note: ${credits}` : ""}\n`);
  let code = terraform("init", "-input=false");
  if (code !== 0) return code;
  if (options.planOnly) {
    code = terraform("plan", "-input=false", ...image);
    if (code !== 0 || !groupExists(dir)) return code;
    // After a rollback the state names the release that AWS undid: say so, and fail like drift does.
    return run("bash", [join("managed", "rollout.sh"), "--dir", dir, "--status"]);
  }

  const secrets = config.secrets.map((name) => secretParameterName(config.appName, env.name, name));
  if (secrets.length > 0 && !groupExists(dir)) {
    // The secret parameters (and the key they need) first, nothing that launches an instance.
    console.log(`${env.name}: first deploy; creating the secret parameters first (${secrets.join(", ")})`);
    code = terraform("apply", "-input=false", ...approve, ...image, ...secretTargets(dir));
    if (code !== 0) return code;
    code = run("bash", [join("managed", "rollout.sh"), "--check-secrets", ...secrets]);
    if (code !== 0) {
      console.error(`Nothing else of ${env.name} was created. Set the secrets, then run npm run deploy -- ${env.name} again.`);
      return code;
    }
  }
  code = terraform("apply", "-input=false", ...approve, ...image);
  if (code !== 0) return code;
  return run("bash", [
    join("managed", "rollout.sh"),
    "--dir",
    dir,
    ...(options.timeout ? ["--timeout", options.timeout] : []),
    ...(options.replaceAll ? ["--replace-all"] : []),
    ...(options.ignoreAlarms ? ["--ignore-alarms"] : []),
    ...(options.probeUrl ? ["--probe-url", options.probeUrl] : []),
  ]);
}

function groupExists(dir: string): boolean {
  const result = spawnSync("terraform", [`-chdir=${dir}`, "state", "list"], { encoding: "utf8" });
  return result.status === 0 && /^aws_autoscaling_group\./m.test(result.stdout);
}

/** -target for every SecureString parameter of the synthesized stack. */
function secretTargets(dir: string): string[] {
  const synth = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as {
    resource?: Record<string, Record<string, { type?: string }>>;
  };
  return Object.entries(synth.resource?.aws_ssm_parameter ?? {})
    .filter(([, body]) => body.type === "SecureString")
    .map(([name]) => `-target=aws_ssm_parameter.${name}`);
}

function main(argv: readonly string[]): number {
  let options: ReturnType<typeof parseDeployArgs>;
  try {
    options = parseDeployArgs(argv);
    if (options === "help") {
      console.log(USAGE.trimEnd());
      return 0;
    }
    const config = loadConfigOrReport();
    if (!config) return 2;
    return deploy(options, config);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`deploy: ${error.message}\nRun npm run deploy -- --help for the options.`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
