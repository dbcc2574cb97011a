/**
 * The ops README of one exported stack. Everything specific in it (names, parameter paths, refresh
 * settings, variables, outputs, what the rollout command reads and calls) is read from the synthesized
 * configuration and from rollout.sh itself, so it stays true when either changes.
 */
import { Syntax } from "./args";
import { Json, JsonObject } from "./hcl";
import { SynthesizedStack } from "./synth";
import { unescapeTfString } from "../escape";

export interface VariableFact {
  readonly name: string;
  readonly type?: string;
  readonly description?: string;
  readonly required: boolean;
  readonly rules: readonly string[];
}

/** What the README says about the rollout command, read from the script. */
export interface RolloutFacts {
  /** The synopsis on the script's second line. */
  readonly usage: string;
  readonly timeoutSeconds?: number;
  readonly pollSeconds?: number;
  /** The `terraform output` names it reads. */
  readonly outputs: readonly string[];
  /** The AWS CLI operations it calls, as `service operation`. */
  readonly calls: readonly string[];
}

export interface StackFacts {
  readonly stack: string;
  readonly syntax: Syntax;
  readonly files: readonly string[];
  readonly app?: string;
  readonly region?: string;
  readonly providerVersion?: string;
  /** versions.tf's required_version. */
  readonly requiredVersion: string;
  /** `local`, or the remote backend's type and settings. */
  readonly backend: { readonly type: string; readonly settings: JsonObject };
  readonly variables: readonly VariableFact[];
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly description?: string }>;
  /** How the launch template gets its image: the variable, or an SSM parameter resolved by EC2. */
  readonly image: { readonly mode: "variable"; readonly variable: string } | { readonly mode: "ssm"; readonly parameter: string } | { readonly mode: "fixed"; readonly value: string };
  readonly asg?: {
    readonly name: string;
    readonly minHealthyPercentage?: number;
    readonly maxHealthyPercentage?: number;
    readonly instanceWarmup?: string;
    readonly autoRollback?: boolean;
    readonly skipMatching?: boolean;
    readonly healthCheckGracePeriod?: number;
  };
  readonly secrets: ReadonlyArray<{ readonly name: string; readonly keyAlias?: string; readonly placeholder?: string }>;
  /** The load balancer terminates TLS with a certificate for the user's domain. */
  readonly https: boolean;
  readonly configParameters: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly logGroups: readonly string[];
  readonly rollout?: RolloutFacts;
  readonly hasOutput: (name: string) => boolean;
}

type Resources = Record<string, Record<string, JsonObject>>;

/** Reads what the README says about rollout.sh out of the script. */
export function rolloutFacts(script: string): RolloutFacts {
  const lines = script.split("\n");
  const calls = new Set<string>();
  for (const line of lines) {
    if (/^\s*#/.test(line)) continue;
    // Quoted text is data (messages, queries, the commands it prints for the reader), not a call.
    const bare = line.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, "");
    for (const m of bare.matchAll(/(?:^|[\s(])aws ([a-z0-9-]+) ([a-z0-9-]+)/g)) calls.add(`${m[1]} ${m[2]}`);
  }
  const number = (name: string) => {
    const m = new RegExp(`^${name}=(\\d+)$`, "m").exec(script);
    return m ? Number(m[1]) : undefined;
  };
  return {
    usage: (lines[1] ?? "").replace(/^# ?/, ""),
    timeoutSeconds: number("timeout"),
    pollSeconds: number("poll"),
    outputs: [...new Set([...script.matchAll(/\$\(output ([a-z_]+)\)/g)].map((m) => m[1]))],
    calls: [...calls].sort(),
  };
}

/** Reads what the README needs out of the stack's Terraform JSON (and rollout.sh, when the folder has it). */
export function stackFacts(stack: SynthesizedStack, syntax: Syntax, files: readonly string[], requiredVersion: string, rolloutScript?: string): StackFacts {
  const c = stack.config;
  const resources = (c.resource ?? {}) as unknown as Resources;
  const all = (type: string) => Object.values(resources[type] ?? {});
  const provider = first((c.provider as JsonObject | undefined)?.aws) as JsonObject | undefined;
  const defaultTags = first(provider?.default_tags) as JsonObject | undefined;
  const tags = (defaultTags?.tags ?? {}) as JsonObject;
  const terraform = (c.terraform ?? {}) as JsonObject;
  const backendBlock = (terraform.backend ?? { local: {} }) as JsonObject;
  const backendType = Object.keys(backendBlock)[0] ?? "local";
  const awsRequirement = ((terraform.required_providers ?? {}) as JsonObject).aws as JsonObject | undefined;

  const variables = Object.entries((c.variable ?? {}) as JsonObject)
    .map(([name, raw]): VariableFact => {
      const v = raw as JsonObject;
      const validations = Array.isArray(v.validation) ? v.validation : v.validation ? [v.validation] : [];
      return {
        name,
        type: typeof v.type === "string" ? v.type : undefined,
        description: typeof v.description === "string" ? v.description : undefined,
        required: v.default === undefined,
        rules: validations.map((r) => (r as JsonObject).error_message).filter((m): m is string => typeof m === "string"),
      };
    })
    .sort((a, b) => (a.name === "ami_id" ? -1 : b.name === "ami_id" ? 1 : a.name < b.name ? -1 : 1));
  const outputs = Object.keys((c.output ?? {}) as JsonObject).sort().map((name) => {
    const o = (c.output as JsonObject)[name] as JsonObject;
    return { name, description: typeof o.description === "string" ? o.description : undefined };
  });

  const template = all("aws_launch_template")[0];
  const imageId = typeof template?.image_id === "string" ? template.image_id : "";
  const variableRef = /^\$\{var\.([A-Za-z0-9_-]+)\}$/.exec(imageId);
  const image: StackFacts["image"] = variableRef
    ? { mode: "variable", variable: variableRef[1] }
    : imageId.startsWith("resolve:ssm:") ? { mode: "ssm", parameter: imageId.slice("resolve:ssm:".length) } : { mode: "fixed", value: imageId };

  const group = all("aws_autoscaling_group")[0];
  const preferences = first((first(group?.instance_refresh) as JsonObject | undefined)?.preferences) as JsonObject | undefined;
  const asg = typeof group?.name === "string" ? {
    name: group.name,
    minHealthyPercentage: num(preferences?.min_healthy_percentage),
    maxHealthyPercentage: num(preferences?.max_healthy_percentage),
    instanceWarmup: preferences?.instance_warmup === undefined ? undefined : String(preferences.instance_warmup),
    autoRollback: bool(preferences?.auto_rollback),
    skipMatching: bool(preferences?.skip_matching),
    healthCheckGracePeriod: num(group.health_check_grace_period),
  } : undefined;

  // key id reference -> alias name, so the put-parameter command names the same key Terraform uses.
  const aliasOfKey = new Map<string, string>();
  for (const alias of all("aws_kms_alias")) {
    const target = /^\$\{aws_kms_key\.([^.]+)\.(key_id|arn|id)\}$/.exec(String(alias.target_key_id ?? ""));
    if (target && typeof alias.name === "string") aliasOfKey.set(target[1], alias.name);
  }
  const parameters = all("aws_ssm_parameter").filter((p) => typeof p.name === "string");
  const secrets = parameters.filter((p) => p.type === "SecureString").map((p) => {
    const key = /^\$\{aws_kms_key\.([^.]+)\.(arn|key_id|id)\}$/.exec(String(p.key_id ?? ""));
    return {
      name: p.name as string,
      keyAlias: key ? aliasOfKey.get(key[1]) : typeof p.key_id === "string" && !p.key_id.includes("${") ? p.key_id : undefined,
      placeholder: typeof p.value === "string" ? p.value : undefined,
    };
  }).sort((a, b) => (a.name < b.name ? -1 : 1));
  const configParameters = parameters.filter((p) => p.type !== "SecureString")
    .map((p) => ({ name: p.name as string, value: typeof p.value === "string" ? unescapeTfString(p.value) : "" }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

  return {
    stack: stack.name,
    syntax,
    files,
    app: typeof tags.app === "string" ? tags.app : undefined,
    region: typeof provider?.region === "string" ? provider.region : undefined,
    providerVersion: typeof awsRequirement?.version === "string" ? awsRequirement.version : undefined,
    requiredVersion,
    backend: { type: backendType, settings: (backendBlock[backendType] ?? {}) as JsonObject },
    variables,
    outputs,
    image,
    asg,
    secrets,
    https: all("aws_lb_listener").some((l) => l.protocol === "HTTPS"),
    configParameters,
    logGroups: all("aws_cloudwatch_log_group").map((g) => g.name).filter((n): n is string => typeof n === "string").sort(),
    rollout: rolloutScript === undefined ? undefined : rolloutFacts(rolloutScript),
    hasOutput: (name) => outputs.some((o) => o.name === name),
  };
}

function first(value: Json | undefined): Json | undefined {
  return Array.isArray(value) ? value[0] : value;
}
function num(value: Json | undefined): number | undefined {
  return typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : undefined;
}
function bool(value: Json | undefined): boolean | undefined {
  return typeof value === "boolean" ? value : value === "true" ? true : value === "false" ? false : undefined;
}

/** Quotes a word for sh only when it needs it. */
export function sh(word: string): string {
  return /^[A-Za-z0-9_.,\/:@=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A manual refresh with the stack's own preferences, replacing every instance. */
function startRefreshCommand(f: StackFacts, region: string, asgName: string): string[] {
  const a = f.asg;
  const preferences: Record<string, number | boolean> = {};
  if (a?.minHealthyPercentage !== undefined) preferences.MinHealthyPercentage = a.minHealthyPercentage;
  if (a?.maxHealthyPercentage !== undefined) preferences.MaxHealthyPercentage = a.maxHealthyPercentage;
  if (a?.instanceWarmup !== undefined && /^\d+$/.test(a.instanceWarmup)) preferences.InstanceWarmup = Number(a.instanceWarmup);
  preferences.SkipMatching = false;
  return [
    `aws autoscaling start-instance-refresh ${region} --auto-scaling-group-name ${asgName} \\`,
    `  --preferences '${JSON.stringify(preferences)}'`,
  ];
}

/** A Markdown table cell. */
function cell(text: string | undefined): string {
  return (text ?? "").replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function code(text: string): string {
  const fence = text.includes("`") ? "``" : "`";
  return `${fence}${text}${fence}`;
}

/**
 * A value shown exactly in a table cell: as a JSON string (newlines, quotes and backslashes visible)
 * in a code span whose fence is longer than any run of backticks inside; `|` escaped for the table.
 */
export function literalCell(value: string): string {
  const json = JSON.stringify(value).replace(/\|/g, "\\|");
  const longest = Math.max(0, ...(json.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  return `${fence} ${json} ${fence}`;
}

const FILE_ROLES: Readonly<Record<string, string>> = {
  "main.tf.json": "provider and resources (Terraform JSON syntax)",
  "main.tf": "provider and resources",
  "variables.tf.json": "input variables, with descriptions and validation",
  "variables.tf": "input variables, with descriptions and validation",
  "outputs.tf.json": "outputs",
  "outputs.tf": "outputs",
  "versions.tf": "required Terraform and provider versions (the provider is pinned)",
  "backend.tf": "where the state lives",
  "terraform.tfvars.example": "example variable values; copy to `terraform.tfvars`",
  "rollout.sh": "the rollout command: run `./rollout.sh` after every `terraform apply` (see *Deploy a release*)",
  "README.md": "this file",
  ".gitignore": "keeps Terraform's working files, state and plans out of version control",
};

export function renderReadme(f: StackFacts): string {
  const region = f.region ?? "<region>";
  const r = `--region ${sh(region)}`;
  const title = f.app ? `${f.app} — ${f.stack}` : f.stack;
  const asgName = f.asg ? sh(f.asg.name) : `"$(terraform output -raw asg_name)"`;
  const startRefresh = startRefreshCommand(f, r, asgName);
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines, "");

  p(`# ${title}`);
  p(
    `A self-contained Terraform configuration for the **${f.stack}** environment${f.app ? ` of **${f.app}**` : ""}` +
      `${f.region ? ` in \`${f.region}\`` : ""}: network, load balancer, configuration and secrets in SSM Parameter Store, ` +
      "logs in CloudWatch, and an Auto Scaling group that runs a pre-baked image (AMI). It was exported from the app's " +
      "CDKTF project; running it needs only Terraform and AWS credentials — no Node, no cdktf, no access to that repository.",
  );

  p("## Files");
  p("| File | Contents |", "| --- | --- |", ...f.files.map((name) => `| ${code(name)} | ${cell(FILE_ROLES[name] ?? "")} |`),
    "| `.export-manifest.json` | checksums of the files above, written by the export (see *Regenerating*) |");

  p("## Requirements");
  p(
    `- Terraform \`${f.requiredVersion}\` (see \`versions.tf\`); the AWS provider is pinned to \`${f.providerVersion ?? "see versions.tf"}\`.`,
    "- AWS credentials for the target account (environment variables, a profile or SSO), allowed to manage EC2, " +
      "Auto Scaling, Elastic Load Balancing, IAM, KMS, SSM and CloudWatch Logs.",
    "- The AWS CLI and `jq` for the release, secret and monitoring commands below.",
    "- Commit `.terraform.lock.hcl` after the first `terraform init`; never commit state, plans or `.terraform/` " +
      "(`.gitignore` lists them).",
  );

  p("## State");
  if (f.backend.type === "local") {
    p(
      "The state is local: `terraform.tfstate` in this folder (Terraform's default; there is no backend " +
        "configuration). That suits one operator trying things out. For a team, put the state in S3 before the " +
        "first apply: add a `backend.tf` like the one below, then `terraform init -migrate-state`.",
    );
    p(
      `If this environment was already deployed with \`cdktf deploy\` from the app repository, its state is ` +
        `\`terraform.${f.stack}.tfstate\` at the root of that repository: copy it here as \`terraform.tfstate\` before ` +
        "the first plan (the resource addresses are the same), or Terraform will plan to create everything again.",
    );
    p("```hcl", "terraform {", '  backend "s3" {', '    bucket       = "<state-bucket>"', `    key          = "${f.app ?? "<app>"}/${f.stack}.tfstate"`,
      `    region       = "${region}"`, "    encrypt      = true", "    use_lockfile = true", "  }", "}", "```");
  } else if (f.backend.type === "s3") {
    const s = f.backend.settings;
    p(
      `The state lives in S3: \`s3://${String(s.bucket)}/${String(s.key)}\`${s.region ? ` (region \`${String(s.region)}\`)` : ""}` +
        `${s.encrypt === true ? ", encrypted" : ""}${s.use_lockfile === true ? ", locked with a lock file next to it (`use_lockfile`, Terraform >= 1.10; no DynamoDB table)" : ""}. ` +
        "`backend.tf` holds these settings. The bucket must exist (with versioning on) before `terraform init`. " +
        "`cdktf deploy` in the app repository uses the same state, so both see the same resources; the lock keeps them " +
        "from applying at the same time.",
    );
  } else {
    p(`The state lives in the \`${f.backend.type}\` backend configured in \`backend.tf\`.`);
  }

  p("## Deploy a release");
  if (f.image.mode === "variable") {
    const v = f.image.variable;
    p(
      `Every release is one new image: the only input is \`${v}\`, the AMI that Packer baked with the app inside. ` +
        "`packer build` in the app repository records it in `packer/packer-manifest.json` (`artifact_id` is `<region>:<ami-id>`; " +
        "in a checkout of that repository this folder is `terraform/" + f.stack + "/`, else ask for the file or take it from CI). " +
        "Take the id of the latest build:",
    );
    p(
      "```sh",
      "terraform init",
      "MANIFEST=../../packer/packer-manifest.json",
      `AMI_ID=$(jq -r '.builds[-1].artifact_id | split(":")[1]' "$MANIFEST")`,
      `terraform plan -var "${v}=$AMI_ID" -out release.tfplan`,
      "terraform apply release.tfplan",
      "```",
    );
    p(`Or copy \`terraform.tfvars.example\` to \`terraform.tfvars\` and set \`${v}\` there. The plan of a release changes ` +
      "the launch template (a new version) and, through it, the Auto Scaling group; anything else in the plan is a change " +
      "of the configuration itself, so read it before applying.");
  } else if (f.image.mode === "ssm") {
    p(
      `The launch template reads the image from the SSM parameter \`${f.image.parameter}\` (\`resolve:ssm:\`): a release ` +
        "writes an AMI id there (the Packer build publishes to its configured parameter; other environments' parameters are " +
        "written by promotion, `aws ssm put-parameter --overwrite --type String --data-type aws:ec2:image`), and instances " +
        "launched afterwards use it. Terraform itself has no image input:",
    );
    p("```sh", "terraform init", "terraform plan -out release.tfplan", "terraform apply release.tfplan", "```");
    p("After a new image is published, start an instance refresh (see below) to replace the running instances.");
  } else {
    p("```sh", "terraform init", "terraform plan -out release.tfplan", "terraform apply release.tfplan", "```");
  }

  p("## What the apply does: the instance refresh");
  if (f.asg) {
    const a = f.asg;
    const facts = [
      a.minHealthyPercentage !== undefined ? `keeps at least ${a.minHealthyPercentage}% of the capacity in service` : undefined,
      a.maxHealthyPercentage !== undefined ? `may run up to ${a.maxHealthyPercentage}% while it replaces` : undefined,
      a.instanceWarmup !== undefined ? `waits ${a.instanceWarmup} s of warm-up after a new instance passes the load balancer's health check` : undefined,
      a.skipMatching ? "skips instances that already run the new template version" : undefined,
      a.autoRollback ? "rolls back to the previous version by itself when the refresh fails" : undefined,
    ].filter(Boolean);
    if (f.image.mode === "ssm") {
      p(
        "A new image does not change the launch template (EC2 resolves the parameter at each launch), so Terraform starts " +
          `no refresh for it; start one yourself to replace the instances of \`${a.name}\`:`,
      );
      p("```sh", ...startRefresh, "```");
      p(
        "A change of the launch template itself (instance type, user data, ...) makes the group start a refresh on apply. " +
          `A refresh launches new instances, waits until the load balancer reports them healthy, then terminates old ones. ` +
          `It ${facts.join(", ")}. Instances are never changed in place.`,
      );
    } else {
      p(
        `A new image gives the launch template a new version; the Auto Scaling group \`${a.name}\` follows it and starts a ` +
          `rolling instance refresh: it launches instances from the new version, waits until the load balancer reports them ` +
          `healthy, then terminates old ones. It ${facts.join(", ")}. Instances are never changed in place.`,
      );
    }
    p(
      "`terraform apply` returns once the refresh has *started*; watch it until `Successful` " +
        "(other states: `Pending`, `InProgress`, `Failed`, `Cancelled`, `RollbackSuccessful`):",
    );
    p(
      "```sh",
      `aws autoscaling describe-instance-refreshes ${r} --auto-scaling-group-name ${sh(a.name)} --max-records 1 \\`,
      "  --query 'InstanceRefreshes[0].[Status,PercentageComplete,StatusReason]' --output text",
      ...(!f.hasOutput("health_check_url") ? [] : f.https ? [
        "# The certificate names your domain, not the load balancer's DNS name: --insecure checks that the app",
        "# answers through the load balancer; curl https://<your domain>/ checks the certificate.",
        'curl -fsS --insecure "$(terraform output -raw health_check_url)"',
      ] : ['curl -fsS "$(terraform output -raw health_check_url)"']),
      "```",
    );
    p(`To stop a refresh that goes wrong: \`aws autoscaling cancel-instance-refresh ${r} --auto-scaling-group-name ${sh(a.name)}\`, then roll back.`);
  } else {
    p("This stack has no Auto Scaling group.");
  }

  p("## Roll back");
  if (f.image.mode === "variable") {
    const v = f.image.variable;
    p(`A rollback is a release of the previous image: apply the previous \`${v}\`. The same rolling refresh replaces the ` +
      "instances; nothing else changes. The previous id is in the Packer manifest or in the launch template's history:");
    p(
      "```sh",
      "MANIFEST=../../packer/packer-manifest.json",
      `PREVIOUS=$(jq -r '.builds[-2].artifact_id | split(":")[1]' "$MANIFEST")`,
      ...(f.hasOutput("launch_template_id") ? [
        `aws ec2 describe-launch-template-versions ${r} --launch-template-id "$(terraform output -raw launch_template_id)" \\`,
        "  --query 'LaunchTemplateVersions[].[VersionNumber,LaunchTemplateData.ImageId]' --output text",
      ] : []),
      `terraform apply -var "${v}=$PREVIOUS"`,
      "```",
    );
  } else if (f.image.mode === "ssm") {
    p(
      "Put the previous AMI id back into the parameter, then start an instance refresh:",
    );
    p(
      "```sh",
      `aws ssm put-parameter ${r} --name ${sh(f.image.parameter)} --type String --data-type aws:ec2:image --overwrite --value ami-PREVIOUS`,
      ...startRefresh,
      "```",
    );
  } else {
    p("Apply the previous version of this configuration.");
  }

  p("## Secrets: set out of band");
  if (f.secrets.length > 0) {
    const placeholder = f.secrets[0].placeholder;
    p(
      `Terraform creates each secret as a SecureString parameter${placeholder ? ` holding the placeholder \`${placeholder}\`` : ""} and ` +
        "then ignores its value, so real values never appear in this configuration, in a plan or in a diff. Set each one " +
        "after the first apply (until every secret is set, instances refuse to start and the group replaces them), and again " +
        "whenever it rotates (reading the value from the terminal keeps it out of the shell history):",
    );
    const commands = f.secrets.flatMap((s) => [
      "read -rs VALUE",
      `aws ssm put-parameter ${r} --name ${sh(s.name)} --type SecureString${s.keyAlias ? ` --key-id ${sh(s.keyAlias)}` : ""} --overwrite --value "$VALUE"`,
    ]);
    p("```sh", ...commands, "unset VALUE", "```");
    p("Instances read their parameters at boot: after changing a value, replace them with a refresh of their own " +
      "(`SkipMatching` off, because the launch template did not change):");
    p("```sh", ...startRefresh, "```");
  } else {
    p("This stack has no secrets.");
  }

  if (f.configParameters.length > 0) {
    p("## Configuration values");
    p("Plain values are String parameters managed by Terraform; change them in the app's configuration and export again " +
      "rather than in the console (the next apply would undo it). Instances read them at boot; a changed value also " +
      "changes the launch template's user data (its config revision), so the apply rolls it out by instance refresh.");
    p("| Parameter | Value (as a JSON string) |", "| --- | --- |", ...f.configParameters.map((c) => `| ${code(c.name)} | ${literalCell(c.value)} |`));
  }

  p("## Logs and access");
  const lines: string[] = [];
  for (const g of f.logGroups) lines.push(`- Logs: \`aws logs tail ${r} ${sh(g)} --follow\``);
  lines.push(
    "- No SSH, no port 22. For a break-glass shell use Session Manager: " +
      `\`aws ssm start-session ${r} --target <instance-id>\`; the instance ids: ` +
      `\`aws autoscaling describe-auto-scaling-groups ${r} --auto-scaling-group-names ${asgName} --query 'AutoScalingGroups[0].Instances[].InstanceId'\`.`,
    "- Never fix an instance by hand: the next refresh replaces it. Fix the image, bake, release.",
  );
  p(...lines);

  p("## Inputs");
  if (f.variables.length > 0) {
    p("| Variable | Type | Required | Description | Rule |", "| --- | --- | --- | --- | --- |",
      ...f.variables.map((v) => `| ${code(v.name)} | ${cell(v.type ?? "any")} | ${v.required ? "yes" : "no"} | ${cell(v.description)} | ${cell(v.rules.join(" "))} |`));
  } else {
    p("None.");
  }

  p("## Outputs");
  if (f.outputs.length > 0) {
    p("| Output | Description |", "| --- | --- |", ...f.outputs.map((o) => `| ${code(o.name)} | ${cell(o.description)} |`));
    p("Read one with `terraform output -raw <name>`.");
  } else {
    p("None.");
  }

  p("## Regenerating");
  p(
    "These files are generated by `npm run export` in the app repository: change the infrastructure there " +
      `(\`immutable.config.json\`, \`stacks/\`) and export again${f.syntax === "hcl" ? " with `--hcl`" : ""}; the result is ` +
      "deterministic, so the diff shows exactly what changed. `.export-manifest.json` records a checksum of each file " +
      "the export wrote: the export refuses to overwrite a file that was edited here or that it did not write, and then " +
      "writes nothing. Files of your own (`terraform.tfvars`, `.terraform.lock.hcl`, extra `*.tf`) are left alone.",
  );
  return out.join("\n").replace(/\n+$/, "\n");
}
