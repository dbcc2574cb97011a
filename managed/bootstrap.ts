/**
 * `npm run bootstrap [-- --plan | --destroy] [--auto-approve] [--account-id ID]`
 *
 * Once per account, by someone with administrator credentials: creates what CI needs (the bootstrap
 * stack, stacks/bootstrap-stack.ts: the GitHub OIDC provider or the existing one, the bake, drift and
 * deploy roles, the environments' permissions boundary), then prints the GitHub variables to set.
 * State: the configured backend (`<keyPrefix>/bootstrap.tfstate`), else terraform.bootstrap.tfstate in
 * the project root. Exit codes: 0 done, 1 failed, 2 bad usage or no github.repository in the config.
 */
import { spawnSync } from "node:child_process";
import { relative } from "node:path";
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
  readonly drift_role_arn: string;
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
    `  drift  ${outputs.drift_role_arn}   (the scheduled plan, read-only)`,
    ...config.environments.map(
      (e) => `  ${e.name.padEnd(6)} ${outputs.deploy_role_arns[e.name]}   (jobs of the GitHub environment ${e.name})`,
    ),
    "",
    `Set these GitHub Actions variables of ${repo} (variables, not secrets: role ARNs are not secret):`,
    `Repository variables (Settings > Secrets and variables > Actions > Variables):`,
    `  gh variable set AWS_BAKE_ROLE_ARN --repo ${repo} --body ${outputs.bake_role_arn}`,
    `  gh variable set AWS_DRIFT_ROLE_ARN --repo ${repo} --body ${outputs.drift_role_arn}`,
    `  gh variable set PACKER_INSTANCE_PROFILE --repo ${repo} --body ${outputs.packer_instance_profile}`,
    `Environments, one per environment: create each, limited to the branch ${branch}, then set its variable`,
    `(Settings > Environments > <name> > Deployment branches and tags: Selected branches, ${branch}):`,
    ...config.environments.flatMap((e) => [
      `  gh api -X PUT repos/${repo}/environments/${e.name} -F 'deployment_branch_policy[protected_branches]=false' -F 'deployment_branch_policy[custom_branch_policies]=true'`,
      `  gh api -X POST repos/${repo}/environments/${e.name}/deployment-branch-policies -f name=${branch} -f type=branch`,
      `  gh variable set AWS_ROLE_ARN --env ${e.name} --repo ${repo} --body ${outputs.deploy_role_arns[e.name]}`,
    ]),
    "",
    `A deploy role trusts its environment's jobs from any branch: the token's subject`,
    `(repo:${repo}:environment:<name>) names no branch, so only the deployment branch policy above keeps`,
    `a job of another branch out of the environment. AWS cannot check it; keep it.`,
    `Then protect the environments that need it (Settings > Environments > production > Required reviewers),`,
    `and the branch ${branch} (the bake and drift roles trust every push to it).`,
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
  const { outdir } = synthesize(config);
  const dir = relative(process.cwd(), stackDir(outdir, "bootstrap"));
  const terraform = (...args: string[]) => run("terraform", [`-chdir=${dir}`, ...args]).status;
  const approve = options.autoApprove ? ["-auto-approve"] : [];
  const vars = ["-var", `account_id=${accountId}`];
  let code = terraform("init", "-input=false");
  if (code !== 0) return code;
  if (options.mode === "plan") return terraform("plan", "-input=false", ...vars);
  if (options.mode === "destroy") return terraform("destroy", "-input=false", ...approve, ...vars);
  code = terraform("apply", "-input=false", ...approve, ...vars);
  if (code !== 0) return code;
  const out = run("terraform", [`-chdir=${dir}`, "output", "-json"], true);
  if (out.status !== 0) return out.status;
  const raw = JSON.parse(out.stdout) as Record<string, { value: unknown }>;
  const outputs = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.value])) as unknown as BootstrapOutputs;
  console.log(`\n${githubVariablesText(config, outputs)}`);
  return 0;
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
