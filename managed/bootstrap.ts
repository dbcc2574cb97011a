/**
 * `npm run bootstrap [-- --plan | --destroy] [--auto-approve] [--account-id ID]`
 *
 * Once per account, by someone with administrator credentials: creates what CI needs (the bootstrap
 * stack, stacks/bootstrap-stack.ts: the state bucket of the configured backend, the GitHub OIDC
 * provider or the existing one, the bake role and its build network, each environment's deploy and
 * drift roles and permissions boundary), then prints the GitHub variables to set.
 * State: the configured backend (`<keyPrefix>/bootstrap.tfstate`), else terraform.bootstrap.tfstate in
 * the project root. In a fresh account the bucket that backend names does not exist yet: the first run
 * applies with the local state file, then moves the state into the bucket it made (terraform init
 * -migrate-state). Exit codes: 0 done, 1 failed, 2 bad usage or no github.repository in the config.
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { STATE_BUCKET_ADDRESS, STATE_BUCKET_RESOURCES } from "../stacks/state-bucket";
import { s3StateKey } from "./backend";
import { type AppConfig, CONFIG_FILE } from "./config";
import { loadConfigOrReport } from "./load-config";
import { stackDir, synthesize } from "./synth";

export const USAGE = `Usage: npm run bootstrap [-- --plan | --destroy] [--auto-approve] [--account-id ID]

  --plan            show what would be created or changed; change nothing
  --destroy         remove the roles, the boundaries and the OIDC provider if this stack created it
  --auto-approve    apply (or destroy) without asking
  --account-id ID   the account (default: the caller's, from aws sts get-caller-identity)
`;

export interface BootstrapOptions {
  readonly mode: "apply" | "plan" | "destroy";
  readonly autoApprove: boolean;
  readonly accountId?: string;
}

export class UsageError extends Error {}

export function parseBootstrapArgs(argv: readonly string[]): BootstrapOptions | "help" {
  let mode: BootstrapOptions["mode"] = "apply";
  let autoApprove = false;
  let accountId: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "--plan" || arg === "--destroy") {
      if (mode !== "apply") throw new UsageError(`--plan and --destroy are exclusive`);
      mode = arg === "--plan" ? "plan" : "destroy";
    } else if (arg === "--auto-approve") autoApprove = true;
    else if (arg === "--account-id") {
      accountId = argv[++i];
      if (accountId === undefined || !/^\d{12}$/.test(accountId)) throw new UsageError("--account-id needs a 12-digit account id");
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return { mode, autoApprove, accountId };
}

/** What `npm run bootstrap` says when the config names no repository. */
export function missingRepositoryMessage(): string {
  return (
    `bootstrap: ${CONFIG_FILE} has no github.repository, so there is nothing to trust. Add\n` +
    `  "github": { "repository": "<owner>/<name>" }\n` +
    `(the repository whose workflows deploy this app; "branch" defaults to main), then run npm run bootstrap again.`
  );
}

export interface BootstrapOutputs {
  readonly bake_role_arn: string;
  readonly packer_instance_profile: string;
  readonly packer_subnet_id: string;
  readonly image_repository: string;
  readonly drift_role_arns: Readonly<Record<string, string>>;
  readonly deploy_role_arns: Readonly<Record<string, string>>;
  readonly oidc_provider_arn: string;
}

/** The GitHub variables to set, where, and the `gh` commands that set them. */
export function githubVariablesText(config: AppConfig, outputs: BootstrapOutputs): string {
  const repo = config.github!.repository;
  const branch = config.github!.branch;
  const lines = [
    `CI roles of ${config.appName}, trusted by ${outputs.oidc_provider_arn}:`,
    `  bake   ${outputs.bake_role_arn}   (pushes to ${config.github!.branch})`,
    ...config.environments.flatMap((e) => [
      `  ${e.name.padEnd(6)} ${outputs.deploy_role_arns[e.name]}   (deploy: jobs of the GitHub environment ${e.name})`,
      `  ${e.name.padEnd(6)} ${outputs.drift_role_arns[e.name]}   (drift, read-only: jobs of the GitHub environment ${e.name})`,
    ]),
    "",
    `Set these GitHub Actions variables of ${repo} (variables, not secrets: role ARNs are not secret;`,
    `IMAGE_REPOSITORY is the ECR repository a project with a Dockerfile pushes its app image to):`,
    `Repository variables (Settings > Secrets and variables > Actions > Variables):`,
    `  gh variable set AWS_BAKE_ROLE_ARN --repo ${repo} --body ${outputs.bake_role_arn}`,
    `  gh variable set PACKER_INSTANCE_PROFILE --repo ${repo} --body ${outputs.packer_instance_profile}`,
    `  gh variable set PACKER_SUBNET_ID --repo ${repo} --body ${outputs.packer_subnet_id}`,
    `  gh variable set IMAGE_REPOSITORY --repo ${repo} --body ${outputs.image_repository}`,
    `Environments, one per environment: create each, limited to the branch ${branch}, then set its variables`,
    `(Settings > Environments > <name> > Deployment branches and tags: Selected branches, ${branch}):`,
    ...config.environments.flatMap((e) => [
      `  gh api -X PUT repos/${repo}/environments/${e.name} -F 'deployment_branch_policy[protected_branches]=false' -F 'deployment_branch_policy[custom_branch_policies]=true'`,
      `  gh api -X POST repos/${repo}/environments/${e.name}/deployment-branch-policies -f name=${branch} -f type=branch`,
      `  gh variable set AWS_ROLE_ARN --env ${e.name} --repo ${repo} --body ${outputs.deploy_role_arns[e.name]}`,
      `  gh variable set AWS_DRIFT_ROLE_ARN --env ${e.name} --repo ${repo} --body ${outputs.drift_role_arns[e.name]}`,
    ]),
    "",
    `A deploy or drift role trusts its environment's jobs from any branch: the token's subject`,
    `(repo:${repo}:environment:<name>) names no branch, so only the deployment branch policy above keeps`,
    `a job of another branch out of the environment. AWS cannot check it; keep it.`,
    `Then protect the environments that need it (Settings > Environments > production > Required reviewers),`,
    `and the branch ${branch} (the bake role trusts every push to it). A drift plan reads the environment's`,
    `secrets, so it runs in the environment: where reviewers are required, they approve each scheduled run.`,
  ];
  return lines.join("\n");
}

function run(command: string, args: readonly string[], capture = false): { status: number; stdout: string } {
  const result = spawnSync(command, [...args], { stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit", encoding: "utf8" });
  if (result.error) {
    console.error(`bootstrap: cannot run ${command}: ${result.error.message}`);
    return { status: 1, stdout: "" };
  }
  return { status: result.status ?? 1, stdout: result.stdout ?? "" };
}

/**
 * Where the bootstrap stack's state is now, with a backend configured: in the bucket ("s3"), or not yet
 * ("local": a fresh account, or a first run with an existing bucket). Anything but "found" or "not
 * found" (no rights, a bucket of another account) is an error to report, never a reason to start over.
 */
export type StateLocation = "s3" | "local" | { readonly error: string };

function bootstrapStateLocation(config: AppConfig): StateLocation {
  const backend = config.backend!;
  const key = s3StateKey(backend, "bootstrap");
  const head = spawnSync("aws", ["s3api", "head-object", "--bucket", backend.bucket, "--key", key, "--region", backend.region], {
    encoding: "utf8",
  });
  if (head.error) return { error: `cannot run aws: ${head.error.message}` };
  if (head.status === 0) return "s3";
  // HeadObject answers 404 both for a missing key and a missing bucket (no body to tell them apart).
  if (/\(404\)|Not Found/.test(head.stderr)) return "local";
  return {
    error:
      `cannot read s3://${backend.bucket}/${key} (backend.bucket in ${CONFIG_FILE}): ${head.stderr.trim()}\n` +
      `A 403 means the bucket belongs to another account, or these credentials may not read it.`,
  };
}

/** The override that points the stack at the local state file while the bucket cannot hold it yet. */
const LOCAL_BACKEND_OVERRIDE = "bootstrap_local_backend_override.tf.json";

export function bootstrap(options: BootstrapOptions, config: AppConfig): number {
  if (!config.github) {
    console.error(missingRepositoryMessage());
    return 2;
  }
  let accountId = options.accountId;
  if (!accountId) {
    const who = run("aws", ["sts", "get-caller-identity", "--query", "Account", "--output", "text"], true);
    accountId = who.stdout.trim();
    if (who.status !== 0 || !/^\d{12}$/.test(accountId)) {
      console.error(
        "bootstrap: cannot tell the account (aws sts get-caller-identity failed): run it with an administrator's AWS credentials, or pass --account-id",
      );
      return 1;
    }
  }
  const location: StateLocation = config.backend ? bootstrapStateLocation(config) : "local";
  if (typeof location === "object") {
    console.error(`bootstrap: ${location.error}`);
    return 1;
  }
  const { outdir } = synthesize(config);
  const dir = relative(process.cwd(), stackDir(outdir, "bootstrap"));
  const terraform = (...args: string[]) => run("terraform", [`-chdir=${dir}`, ...args]).status;
  const approve = options.autoApprove ? ["-auto-approve"] : [];
  const vars = ["-var", `account_id=${accountId}`];
  // Local first: the stack's backend is the bucket it creates. Override files replace the backend
  // block ("Within a top-level block, any nested blocks within an override block replace all blocks of
  // the same type in the original block", Terraform docs, language/files/override).
  const local = config.backend !== undefined && location === "local";
  const override = join(dir, LOCAL_BACKEND_OVERRIDE);
  if (local) {
    writeFileSync(
      override,
      `${JSON.stringify({ terraform: { backend: { local: { path: "../../../terraform.bootstrap.tfstate" } } } }, null, 2)}\n`,
    );
    console.log(
      `bootstrap: no state in s3://${config.backend!.bucket} yet: this run keeps it in terraform.bootstrap.tfstate, then moves it there.`,
    );
  }
  try {
    let code = terraform("init", "-input=false", "-reconfigure");
    if (code !== 0) return code;
    if (local && options.mode !== "destroy") {
      code = adoptExistingBucket(config, dir, vars);
      if (code !== 0) return code;
    }
    if (options.mode === "plan") return terraform("plan", "-input=false", ...vars);
    if (options.mode === "destroy") {
      // The bucket holds every environment's state: it stays (prevent_destroy), out of this state first.
      if (config.backend) {
        const listed = run("terraform", [`-chdir=${dir}`, "state", "list"], true);
        const held = STATE_BUCKET_RESOURCES.filter((a) => listed.stdout.split("\n").includes(a));
        if (held.length > 0 && terraform("state", "rm", ...held) !== 0) return 1;
        console.log(
          `bootstrap: the state bucket ${config.backend.bucket} stays: it holds every environment's state. Delete it yourself once they are destroyed.`,
        );
      }
      return terraform("destroy", "-input=false", ...approve, ...vars);
    }
    code = terraform("apply", "-input=false", ...approve, ...vars);
    if (code !== 0) return code;
    if (local) {
      rmSync(override);
      // -force-copy: "Suppress prompts about copying state data when initializating a new state
      // backend" (terraform init -help): the copy is what this run is for.
      code = terraform("init", "-input=false", "-migrate-state", "-force-copy");
      if (code !== 0) return code;
      console.log(
        `bootstrap: the state is now s3://${config.backend!.bucket}/${s3StateKey(config.backend!, "bootstrap")}; ` +
          `terraform.bootstrap.tfstate here is the copy from before the move (not read again: delete it once you have checked).`,
      );
    }
    const out = run("terraform", [`-chdir=${dir}`, "output", "-json"], true);
    if (out.status !== 0) return out.status;
    const raw = JSON.parse(out.stdout) as Record<string, { value: unknown }>;
    const outputs = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.value])) as unknown as BootstrapOutputs;
    console.log(`\n${githubVariablesText(config, outputs)}`);
    return 0;
  } finally {
    rmSync(override, { force: true });
  }
}

/**
 * A bucket that exists before the first run (made by hand for an earlier version of this project) is
 * imported, not created again, so that the stack takes over its settings (versioning, encryption, TLS
 * only) without touching its objects.
 */
function adoptExistingBucket(config: AppConfig, dir: string, vars: readonly string[]): number {
  const backend = config.backend!;
  const listed = run("terraform", [`-chdir=${dir}`, "state", "list"], true);
  if (listed.stdout.split("\n").includes(STATE_BUCKET_ADDRESS)) return 0;
  const head = spawnSync("aws", ["s3api", "head-bucket", "--bucket", backend.bucket, "--region", backend.region], { encoding: "utf8" });
  if (head.status !== 0) return 0;
  console.log(`bootstrap: the bucket ${backend.bucket} exists: importing it into the bootstrap stack.`);
  return run("terraform", [`-chdir=${dir}`, "import", "-input=false", ...vars, STATE_BUCKET_ADDRESS, backend.bucket]).status;
}

function main(argv: readonly string[]): number {
  try {
    const options = parseBootstrapArgs(argv);
    if (options === "help") {
      console.log(USAGE.trimEnd());
      return 0;
    }
    const config = loadConfigOrReport();
    if (!config) return 2;
    return bootstrap(options, config);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`bootstrap: ${error.message}\nRun npm run bootstrap -- --help for the options.`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
