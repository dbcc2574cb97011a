/**
 * The ops README of one exported stack. Everything specific in it (names, parameter paths, refresh
 * preferences, alarms, variables, outputs, what the rollout command reads and calls) is read from the
 * synthesized configuration and from rollout.sh itself, so it stays true when either changes.
 *
 * What it says AWS does is what stacks/fleet.ts, managed/rollout.sh and managed/aws-rules.ts cite;
 * the few further claims cite their AWS page where they are made.
 */
import type { Syntax } from "./args";
import type { Json, JsonObject } from "./hcl";
import type { SynthesizedStack } from "./synth";
import { unescapeTfString } from "../escape";
import { REFRESH_STATUSES, type RefreshPreferences } from "../aws-rules";

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
  readonly image:
    | { readonly mode: "variable"; readonly variable: string }
    | { readonly mode: "ssm"; readonly parameter: string }
    | { readonly mode: "fixed"; readonly value: string };
  readonly asg?: { readonly name: string };
  /** The start-instance-refresh input of the stack's `instance_refresh` output. */
  readonly refresh?: {
    readonly strategy?: string;
    readonly desiredConfiguration: boolean;
    readonly preferences: RefreshPreferences;
  };
  /** The alarms the refresh watches, with their descriptions. */
  readonly alarms: ReadonlyArray<{ readonly name: string; readonly description?: string }>;
  readonly secrets: ReadonlyArray<{
    readonly name: string;
    readonly address: string;
    readonly keyAlias?: string;
    readonly placeholder?: string;
  }>;
  /** The KMS aliases of the stack's keys. */
  readonly keyAliases: readonly string[];
  readonly keyDeletionWindowDays?: number;
  /** Addresses with lifecycle.prevent_destroy. */
  readonly preventDestroy: readonly string[];
  readonly loadBalancerDeletionProtection: boolean;
  /** An S3 bucket is destroyed with its objects. */
  readonly forceDestroyBuckets: boolean;
  /** The load balancer terminates TLS with a certificate for the user's domain. */
  readonly https: boolean;
  readonly configParameters: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly logGroups: readonly string[];
  /** AWS services the stack's resources belong to. */
  readonly services: readonly string[];
  readonly rollout?: RolloutFacts;
  readonly hasOutput: (name: string) => boolean;
}

type Resources = Record<string, Record<string, JsonObject>>;

/** Resource type prefixes -> the AWS service ops need permissions for. */
const SERVICES: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^aws_(vpc|subnet|security_group|default_security_group|launch_template|nat_gateway|eip|route|internet_gateway|flow_log|network_acl|vpc_endpoint)/,
    "EC2",
  ],
  [/^aws_autoscaling_/, "Auto Scaling"],
  [/^aws_lb/, "Elastic Load Balancing"],
  [/^aws_iam_/, "IAM"],
  [/^aws_kms_/, "KMS"],
  [/^aws_ssm_/, "SSM"],
  [/^aws_cloudwatch_log_/, "CloudWatch Logs"],
  [/^aws_cloudwatch_metric_alarm$/, "CloudWatch"],
  [/^aws_s3_/, "S3"],
  [/^aws_wafv2_/, "WAF"],
];

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
    outputs: [...new Set([...script.matchAll(/\$\(output ([a-z_]+)[ )]/g)].map((m) => m[1]))],
    calls: [...calls].sort(),
  };
}

/** Reads what the README needs out of the stack's Terraform JSON (and rollout.sh, when the folder has it). */
export function stackFacts(
  stack: SynthesizedStack,
  syntax: Syntax,
  files: readonly string[],
  requiredVersion: string,
  rolloutScript?: string,
): StackFacts {
  const c = stack.config;
  const resources = (c.resource ?? {}) as unknown as Resources;
  const all = (type: string) => Object.values(resources[type] ?? {});
  const entries = (type: string) => Object.entries(resources[type] ?? {});
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
  const outputValues = (c.output ?? {}) as JsonObject;
  const outputs = Object.keys(outputValues)
    .sort()
    .map((name) => {
      const o = outputValues[name] as JsonObject;
      return { name, description: typeof o.description === "string" ? o.description : undefined };
    });

  const template = all("aws_launch_template")[0];
  const imageId = typeof template?.image_id === "string" ? template.image_id : "";
  const variableRef = /^\$\{var\.([A-Za-z0-9_-]+)\}$/.exec(imageId);
  const image: StackFacts["image"] = variableRef
    ? { mode: "variable", variable: variableRef[1] }
    : imageId.startsWith("resolve:ssm:")
      ? { mode: "ssm", parameter: imageId.slice("resolve:ssm:".length) }
      : { mode: "fixed", value: imageId };

  const group = all("aws_autoscaling_group")[0];
  const asg = typeof group?.name === "string" ? { name: group.name } : undefined;

  // The output is the exact --cli-input-json: a JSON text whose only interpolations are strings.
  const refreshValue = (outputValues.instance_refresh as JsonObject | undefined)?.value;
  let refresh: StackFacts["refresh"];
  if (typeof refreshValue === "string") {
    const input = JSON.parse(refreshValue) as { Strategy?: string; DesiredConfiguration?: unknown; Preferences?: RefreshPreferences };
    refresh = {
      strategy: input.Strategy,
      desiredConfiguration: input.DesiredConfiguration !== undefined,
      preferences: input.Preferences ?? {},
    };
  }
  const alarmDescriptions = new Map(
    all("aws_cloudwatch_metric_alarm")
      .filter((a) => typeof a.alarm_name === "string")
      .map((a) => [a.alarm_name as string, typeof a.alarm_description === "string" ? a.alarm_description : undefined]),
  );
  const alarms = (refresh?.preferences.AlarmSpecification?.Alarms ?? []).map((name) => ({
    name,
    description: alarmDescriptions.get(name),
  }));

  // key id reference -> alias name, so the put-parameter command names the same key Terraform uses.
  const aliasOfKey = new Map<string, string>();
  for (const alias of all("aws_kms_alias")) {
    const target = /^\$\{aws_kms_key\.([^.]+)\.(key_id|arn|id)\}$/.exec(String(alias.target_key_id ?? ""));
    if (target && typeof alias.name === "string") aliasOfKey.set(target[1], alias.name);
  }
  const parameters = entries("aws_ssm_parameter").filter(([, p]) => typeof p.name === "string");
  const secrets = parameters
    .filter(([, p]) => p.type === "SecureString")
    .map(([resource, p]) => {
      const key = /^\$\{aws_kms_key\.([^.]+)\.(arn|key_id|id)\}$/.exec(String(p.key_id ?? ""));
      const placeholder = typeof p.value_wo === "string" ? p.value_wo : typeof p.value === "string" ? p.value : undefined;
      return {
        name: p.name as string,
        address: `aws_ssm_parameter.${resource}`,
        keyAlias: key ? aliasOfKey.get(key[1]) : typeof p.key_id === "string" && !p.key_id.includes("${") ? p.key_id : undefined,
        placeholder: placeholder === undefined ? undefined : unescapeTfString(placeholder),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const configParameters = parameters
    .map(([, p]) => p)
    .filter((p) => p.type !== "SecureString")
    .map((p) => ({ name: p.name as string, value: typeof p.value === "string" ? unescapeTfString(p.value) : "" }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

  const preventDestroy: string[] = [];
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, body] of Object.entries(byName)) {
      const lifecycle = body.lifecycle as JsonObject | undefined;
      if (lifecycle?.prevent_destroy === true) preventDestroy.push(`${type}.${name}`);
    }
  }
  const windows = all("aws_kms_key")
    .map((k) => num(k.deletion_window_in_days))
    .filter((d): d is number => d !== undefined);
  const services = SERVICES.filter(([pattern]) => Object.keys(resources).some((type) => pattern.test(type))).map(([, name]) => name);

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
    refresh,
    alarms,
    secrets,
    keyAliases: [...aliasOfKey.values()].sort(),
    keyDeletionWindowDays: windows.length > 0 ? Math.max(...windows) : undefined,
    preventDestroy: preventDestroy.sort(),
    loadBalancerDeletionProtection: all("aws_lb").some((lb) => bool(lb.enable_deletion_protection) === true),
    forceDestroyBuckets: all("aws_s3_bucket").some((b) => bool(b.force_destroy) === true),
    https: all("aws_lb_listener").some((l) => l.protocol === "HTTPS"),
    configParameters,
    logGroups: all("aws_cloudwatch_log_group")
      .map((g) => g.name)
      .filter((n): n is string => typeof n === "string")
      .sort(),
    services,
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
  return /^[A-Za-z0-9_.,/:@=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
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

/** `describe-instance-refreshes` -> `DescribeInstanceRefreshes`: the API action (and IAM action) of a CLI operation. */
function apiName(operation: string): string {
  return operation
    .split("-")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** What each preference of the refresh does (Auto Scaling API reference, RefreshPreferences). */
function preferenceLines(f: StackFacts, p: RefreshPreferences): string[] {
  const lines: string[] = [];
  const item = (key: string, value: unknown, what: string) =>
    lines.push(`- \`${key}\` ${code(typeof value === "string" ? value : JSON.stringify(value))}: ${what}`);
  if (p.MinHealthyPercentage !== undefined) {
    item(
      "MinHealthyPercentage",
      p.MinHealthyPercentage,
      `keeps at least ${p.MinHealthyPercentage}% of the capacity in service (of the group's desired capacity);`,
    );
  }
  if (p.MaxHealthyPercentage !== undefined) {
    item(
      "MaxHealthyPercentage",
      p.MaxHealthyPercentage,
      `may run up to ${p.MaxHealthyPercentage}% of it${p.MaxHealthyPercentage > 100 ? ", so new instances start before old ones stop" : ""};`,
    );
  }
  if (p.InstanceWarmup !== undefined) {
    item(
      "InstanceWarmup",
      p.InstanceWarmup,
      `after a new instance enters the \`InService\` state, waits ${p.InstanceWarmup} s before it moves on to replacing the next one;`,
    );
  }
  if (p.SkipMatching !== undefined) {
    item(
      "SkipMatching",
      p.SkipMatching,
      p.SkipMatching
        ? "leaves alone the instances that already run the desired launch template version;"
        : f.image.mode === "ssm"
          ? "replaces every instance: the launch template may be unchanged while the image behind the parameter is new;"
          : "replaces every instance;",
    );
  }
  if (p.AutoRollback !== undefined) {
    item(
      "AutoRollback",
      p.AutoRollback,
      p.AutoRollback
        ? 'if the refresh fails or an alarm below goes to `ALARM`, AWS rolls it back: it restores "the configuration that you last saved on the Auto Scaling group before starting the instance refresh" (User Guide, instance-refresh-rollback.html), the version that ran before;'
        : f.image.mode === "ssm"
          ? "no automatic rollback: AWS cannot roll back a group whose launch template takes its image from an SSM parameter (RefreshPreferences, AutoRollback);"
          : "no automatic rollback;",
    );
  }
  if (p.ScaleInProtectedInstances !== undefined || p.StandbyInstances !== undefined) {
    const keys = [
      ...(p.ScaleInProtectedInstances !== undefined ? [`\`ScaleInProtectedInstances\` ${code(p.ScaleInProtectedInstances)}`] : []),
      ...(p.StandbyInstances !== undefined ? [`\`StandbyInstances\` ${code(p.StandbyInstances)}`] : []),
    ];
    const replaced = p.ScaleInProtectedInstances === "Refresh" && p.StandbyInstances === "Terminate";
    lines.push(
      `- ${keys.join(", ")}: ${replaced ? "protected and standby instances are replaced too, so a release leaves none of the old image behind;" : "what happens to protected and standby instances;"}`,
    );
  }
  if (p.CheckpointPercentages !== undefined) {
    item(
      "CheckpointPercentages",
      p.CheckpointPercentages,
      `stops when ${list(p.CheckpointPercentages.map((c) => `${c}%`))} of the instances are new ("the minimum percentage of instances ... that must be new instances before the checkpoint is considered reached", User Guide, asg-adding-checkpoints-instance-refresh.html); the first is a canary of one instance (\`./rollout.sh\` recomputes it from the group's desired capacity when it starts);`,
    );
  }
  if (p.CheckpointDelay !== undefined) {
    item(
      "CheckpointDelay",
      p.CheckpointDelay,
      `waits ${p.CheckpointDelay} s at each checkpoint, long enough for every alarm below to act;`,
    );
  }
  if (p.BakeTime !== undefined) {
    item(
      "BakeTime",
      p.BakeTime,
      `waits ${p.BakeTime} s after the last replacement before the refresh is complete: AWS can roll a refresh back only until then ("You can't roll it back after it's finished", instance-refresh-rollback.html);`,
    );
  }
  const alarms = p.AlarmSpecification?.Alarms;
  if (alarms && alarms.length > 0) {
    lines.push(
      `- \`AlarmSpecification\`: the refresh fails when one of these CloudWatch alarms goes to \`ALARM\`${p.AutoRollback ? ", and is then rolled back" : ""}:`,
    );
    for (const alarm of f.alarms) lines.push(`  - \`${alarm.name}\`${alarm.description ? `: ${alarm.description}` : ""}`);
  }
  return lines;
}

/** A refresh of its own that replaces every instance: the rollout's preferences, SkipMatching off, no desired configuration. */
function replaceAllCommand(f: StackFacts, r: string, asgName: string): string[] {
  const { AutoRollback: _rollback, ...rest } = f.refresh?.preferences ?? {};
  const preferences: RefreshPreferences = { ...rest, SkipMatching: false };
  return [
    `aws autoscaling start-instance-refresh ${r} --auto-scaling-group-name ${asgName} \\`,
    `  --preferences ${sh(JSON.stringify(preferences))}`,
  ];
}

export function renderReadme(f: StackFacts): string {
  const region = f.region ?? "<region>";
  const r = `--region ${sh(region)}`;
  const title = f.app ? `${f.app} — ${f.stack}` : f.stack;
  const asgName = f.asg ? sh(f.asg.name) : `"$(terraform output -raw asg_name)"`;
  const imageVar = f.image.mode === "variable" ? f.image.variable : undefined;
  const tfVar = imageVar ? ` -var "${imageVar}=$AMI_ID"` : "";
  const rollout = f.rollout;
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines, "");

  p(`# ${title}`);
  p(
    `A self-contained Terraform configuration for the **${f.stack}** environment${f.app ? ` of **${f.app}**` : ""}` +
      `${f.region ? ` in \`${f.region}\`` : ""}: network, load balancer, configuration and secrets in SSM Parameter Store, ` +
      "logs in CloudWatch, and an Auto Scaling group that runs a pre-baked image (AMI). It was exported from the app's " +
      "CDKTF project; running it needs Terraform, the AWS CLI and AWS credentials — no Node, no cdktf, no access to that repository.",
  );

  p("## Files");
  p(
    "| File | Contents |",
    "| --- | --- |",
    ...f.files.map((name) => `| ${code(name)} | ${cell(FILE_ROLES[name] ?? "")} |`),
    "| `.export-manifest.json` | checksums of the files above, written by the export (see *Regenerating*) |",
  );

  p("## Requirements");
  const requirements = [
    `- Terraform \`${f.requiredVersion}\` (see \`versions.tf\`); the AWS provider is pinned to \`${f.providerVersion ?? "see versions.tf"}\`.`,
    `- AWS credentials for the target account (environment variables, a profile or SSO), allowed to manage ${list(f.services.length > 0 ? f.services : ["the resources in main"])}.`,
  ];
  if (f.secrets.length > 0) {
    const keys = [...new Set(f.secrets.map((s) => s.keyAlias).filter((k): k is string => k !== undefined))];
    requirements.push(
      `- The principal that runs Terraform needs \`kms:Decrypt\` on ${keys.length > 0 ? `the key ${list(keys.map((k) => `\`${k}\``))}` : "the secrets' key"}, ` +
        "although Terraform never stores the secrets: the provider reads SecureString parameters with decryption and discards the value " +
        "(hashicorp/terraform-provider-aws#42849).",
    );
  }
  if (rollout) {
    requirements.push(
      "- For `rollout.sh` and the commands below: bash and the AWS CLI (v1 or v2); no `jq`, no Node. `rollout.sh` calls the AWS CLI " +
        `without \`--region\`: give it this environment's region, e.g. \`export AWS_DEFAULT_REGION=${region}\`, which AWS CLI v1 and v2 ` +
        "both read (AWS CLI User Guide, cli-configure-envvars.html), or a profile with that region.",
    );
  } else {
    requirements.push("- The AWS CLI (v1 or v2) for the commands below.");
  }
  requirements.push(
    "- Commit `.terraform.lock.hcl` after the first `terraform init`; never commit state, plans or `.terraform/` " +
      "(`.gitignore` lists them).",
  );
  p(...requirements);

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
    p(
      "```hcl",
      "terraform {",
      '  backend "s3" {',
      '    bucket       = "<state-bucket>"',
      `    key          = "${f.app ?? "<app>"}/${f.stack}.tfstate"`,
      `    region       = "${region}"`,
      "    encrypt      = true",
      "    use_lockfile = true",
      "  }",
      "}",
      "```",
    );
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

  renderRelease(f, p, r);
  if (f.secrets.length > 0) renderFirstDeploy(f, p, { tfVar });
  if (f.asg && rollout) {
    renderRollout(f, rollout, p);
    renderWatch(f, p, { r, asgName });
  }
  renderRollback(f, p, { r, asgName });
  renderSecrets(f, p, { r, asgName });

  if (f.configParameters.length > 0) {
    p("## Configuration values");
    p(
      "Plain values are String parameters managed by Terraform; change them in the app's configuration and export again " +
        "rather than in the console (the next apply would undo it). Instances read them at boot; a changed value also " +
        "changes the launch template's user data (its config revision), so the apply writes a new launch template version" +
        (rollout ? ": roll it out with `./rollout.sh`, like a release." : "."),
    );
    p(
      "| Parameter | Value (as a JSON string) |",
      "| --- | --- |",
      ...f.configParameters.map((c) => `| ${code(c.name)} | ${literalCell(c.value)} |`),
    );
  }

  p("## Logs and access");
  if (f.logGroups.length > 0) {
    p("The last 15 minutes of each log group (AWS CLI v1 and v2):");
    p(
      "```sh",
      ...f.logGroups.flatMap((g) => [
        `aws logs filter-log-events ${r} --log-group-name ${sh(g)} \\`,
        `  --start-time "$(( ($(date +%s) - 900) * 1000 ))" --query 'events[].message' --output text`,
      ]),
      "```",
    );
  }
  p(
    "No SSH, no port 22. For a break-glass shell use Session Manager (the AWS CLI needs its Session Manager plugin): " +
      "list the instances, set `INSTANCE_ID` to one of them, and start a session:",
  );
  p(
    "```sh",
    `aws autoscaling describe-auto-scaling-groups ${r} --auto-scaling-group-names ${asgName} \\`,
    "  --query 'AutoScalingGroups[0].Instances[].[InstanceId,LaunchTemplate.Version,LifecycleState,HealthStatus]' --output text",
    `aws ssm start-session ${r} --target "$INSTANCE_ID"`,
    "```",
  );
  p("Never fix an instance by hand: the next refresh replaces it. Fix the image, bake, release.");

  renderDestroy(f, p, { tfVar });

  p("## Inputs");
  if (f.variables.length > 0) {
    p(
      "| Variable | Type | Required | Description | Rule |",
      "| --- | --- | --- | --- | --- |",
      ...f.variables.map(
        (v) =>
          `| ${code(v.name)} | ${cell(v.type ?? "any")} | ${v.required ? "yes" : "no"} | ${cell(v.description)} | ${cell(v.rules.join(" "))} |`,
      ),
    );
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
      "writes nothing. Files of your own (`terraform.tfvars`, `.terraform.lock.hcl`, extra `*.tf`) are left alone." +
      (rollout ? " `rollout.sh` is the app repository's `managed/rollout.sh`, byte for byte: change it there." : ""),
  );
  return out.join("\n").replace(/\n+$/, "\n");
}

type Emit = (...lines: string[]) => void;

function renderRelease(f: StackFacts, p: Emit, r: string): void {
  const rollout = f.rollout !== undefined && f.asg !== undefined;
  const group = f.asg ? `\`${f.asg.name}\`` : "the Auto Scaling group";
  p("## Deploy a release");
  if (f.image.mode === "variable") {
    const v = f.image.variable;
    p(
      `Every release is one new image: the only input is \`${v}\`, the AMI that Packer baked with the app inside. ` +
        "`packer build` in the app repository records it in `packer/packer-manifest.json` (`artifact_id` is `<region>:<ami-id>`, " +
        "newest build last; in a checkout of that repository this folder is `terraform/" +
        f.stack +
        "/`, else ask for the file or " +
        `take the id from CI). A release is an apply and then the rollout${rollout ? ", `./rollout.sh`" : ""}:`,
    );
    p(
      "```sh",
      "terraform init",
      `AMI_ID=$(grep -o '${f.region ?? "<region>"}:ami-[0-9a-f]*' ../../packer/packer-manifest.json | tail -n 1 | cut -d: -f2)`,
      `terraform plan -var "${v}=$AMI_ID" -out release.tfplan`,
      "terraform apply release.tfplan",
      ...(rollout ? ["./rollout.sh"] : []),
      "```",
    );
    p(`Or copy \`terraform.tfvars.example\` to \`terraform.tfvars\` and set \`${v}\` there.`);
  } else if (f.image.mode === "ssm") {
    p(
      `The launch template reads the image from the SSM parameter \`${f.image.parameter}\` (\`resolve:ssm:\`), so Terraform has no ` +
        "image input. A release is a new AMI id in that parameter (the Packer build publishes to its configured parameter; to " +
        "promote an image, set `AMI_ID` to it and write it with the first command below), then an apply for whatever else changed, " +
        "then the rollout:",
    );
    p(
      "```sh",
      `aws ssm put-parameter ${r} --name ${sh(f.image.parameter)} --type String --data-type aws:ec2:image --overwrite --value "$AMI_ID"`,
      "terraform init",
      "terraform plan -out release.tfplan",
      "terraform apply release.tfplan",
      ...(rollout ? ["./rollout.sh"] : []),
      "```",
    );
  } else {
    p("```sh", "terraform init", "terraform plan -out release.tfplan", "terraform apply release.tfplan", "```");
  }
  if (!f.asg) {
    p("This stack has no Auto Scaling group.");
    return;
  }
  const facts: string[] = [];
  if (f.image.mode === "ssm") {
    facts.push(
      "- A new image changes nothing in the configuration: the launch template keeps its version, and `terraform apply` replaces no instance.",
    );
  } else {
    facts.push(
      `- \`terraform apply\` writes a new version of the launch template and replaces no instance: Terraform never moves ${group} ` +
        "off the launch template version it runs (`ignore_changes` on the group's `launch_template[0].version`). Anything else in " +
        "the plan is a change of the configuration itself, so read it before applying.",
    );
  }
  if (rollout) {
    facts.push(
      f.image.mode === "ssm"
        ? `- \`./rollout.sh\` compares the image of every running instance of ${group} with the parameter's and, if one differs, ` +
            "starts an instance refresh that replaces every instance, waits for it and prints its progress (see *The rollout*)."
        : `- \`./rollout.sh\` starts an instance refresh of ${group} whose desired configuration is the version the apply wrote ` +
            "(`terraform output launch_template_version`), waits for it and prints its progress (see *The rollout*). The group keeps " +
            'the version it runs until the refresh succeeds: "Once the instance refresh succeeds, Amazon EC2 Auto Scaling updates the ' +
            'settings of the Auto Scaling group to reflect the new desired configuration" (Auto Scaling API reference, StartInstanceRefresh).',
      "- On the first apply the group starts on the launch template's first version, without a refresh; `./rollout.sh` then has nothing to roll out." +
        (f.secrets.length > 0 ? " This environment has secrets: its first deploy creates them first (see *First deploy*)." : ""),
    );
  }
  p(...facts);
}

function renderFirstDeploy(f: StackFacts, p: Emit, { tfVar }: { tfVar: string }): void {
  p("## First deploy: the secrets before any instance");
  const names = f.secrets.map((s) => sh(s.name)).join(" ");
  p(
    "Instances read their secrets when they boot and refuse to start while one still holds the placeholder Terraform wrote, so " +
      "the first deploy of this environment creates the secret parameters (and the key that encrypts them) and nothing that " +
      "launches an instance, then stops until every secret is set:",
  );
  p(
    "```sh",
    "terraform init",
    `terraform apply${tfVar} ${f.secrets.map((s) => `-target=${s.address}`).join(" ")}`,
    ...(f.rollout ? [`./rollout.sh --check-secrets ${names}`] : []),
    "```",
  );
  p(
    (f.image.mode === "variable"
      ? "`AMI_ID` is the image of the release, as in *Deploy a release* (Terraform needs every variable, even here). "
      : "") +
      "Terraform warns that targeting makes the plan incomplete: that is the point here." +
      (f.rollout
        ? " `--check-secrets` exits 4 and prints, for each secret that still holds the placeholder, the command that sets it. " +
          'Set each one (see *Secrets*), run the check again until it exits 0 ("every secret is set"), then deploy as any release: ' +
          "`terraform apply`, then `./rollout.sh`."
        : " Set each secret (see *Secrets*), then apply without `-target`."),
  );
}

function renderRollout(f: StackFacts, rollout: RolloutFacts, p: Emit): void {
  const group = `\`${f.asg!.name}\``;
  p("## The rollout: `./rollout.sh`");
  p("```sh", `./${rollout.usage}`, "```");
  p(
    "Run it in this folder after `terraform apply`: it reads the outputs " +
      list(rollout.outputs.map((o) => `\`${o}\``)) +
      " with `terraform output`. In order, it:",
  );
  const steps = [
    ...(f.secrets.length > 0
      ? ["checks that every secret holds a value set out of band, and otherwise exits 4 with the commands that set them;"]
      : []),
    "waits for an instance refresh of the group that is still running (one refresh at a time per group: AWS refuses a second one, InstanceRefreshInProgress);",
    f.image.mode === "ssm"
      ? "stops with nothing to do when every running instance already runs the parameter's image on the launch template's version;"
      : `stops with nothing to do when ${group} already runs the launch template version of the last apply;`,
    ...(f.alarms.length > 0
      ? [
          "waits for new rollout alarms to leave `INSUFFICIENT_DATA` and refuses to start while one is in `ALARM`: an alarm in either state makes " +
            "StartInstanceRefresh fail (User Guide, instance-refresh-rollback.html);",
        ]
      : []),
    'starts the refresh with `aws autoscaling start-instance-refresh --cli-input-json "$(terraform output -raw instance_refresh)"` and waits ' +
      "until it ends, printing its status, percentage and the instances left whenever they change.",
  ];
  p(...steps.map((s, i) => `${i + 1}. ${s.charAt(0).toUpperCase()}${s.slice(1).replace(/;$/, ".")}`));
  if (f.refresh) {
    p(
      `The refresh is the \`instance_refresh\` output: strategy \`${f.refresh.strategy ?? "Rolling"}\`, ` +
        `${f.refresh.desiredConfiguration ? "as desired configuration the launch template at version `launch_template_version`, " : ""}` +
        "and these preferences (as the Auto Scaling API reference, RefreshPreferences, defines them):",
    );
    p(...preferenceLines(f, f.refresh.preferences));
  }
  p("It exits with:");
  p(
    "| Exit | Meaning |",
    "| --- | --- |",
    "| 0 | rolled out, or nothing to roll out |",
    `| 1 | the refresh failed, was cancelled, could not be rolled back or did not end within \`--timeout\` (it goes on)${f.alarms.length > 0 ? ", a rollout alarm was in `ALARM` before it started" : ""}, or an AWS or terraform call failed |`,
    "| 2 | bad usage |",
    f.image.mode === "ssm"
      ? "| 3 | the refresh was rolled back; AWS cannot roll back this environment's refreshes (resolve:ssm), so not here |"
      : "| 3 | the refresh was rolled back: AWS put the previous version back, and the group runs it again |",
    "| 4 | a secret still holds its placeholder |",
    "| 5 | (`--status`) the group runs another launch template version than the last apply wrote: a rollback Terraform cannot see |",
  );
  const options = [
    `\`--timeout SECONDS\` bounds the wait${rollout.timeoutSeconds !== undefined ? ` (default ${rollout.timeoutSeconds})` : ""}`,
    `\`--poll SECONDS\` sets how often it asks${rollout.pollSeconds !== undefined ? ` (default ${rollout.pollSeconds})` : ""}`,
    "`--dir DIR` runs it for another folder than the current one",
    "`--ignore-alarms` starts the refresh without its alarms (break-glass: a hotfix while one is in `ALARM`; failed health checks still roll it back)",
    "`--probe-url URL` sends the probe requests (the `probe_requests_per_second` output, while the refresh runs, so that a quiet environment gives the error-rate alarm requests to judge) to your own domain instead of `health_check_url`",
    "`--status` only says whether the group runs the release the last apply wrote (exit 5 after a rollback)",
  ];
  p(`Options: ${list(options)}. In GitHub Actions its errors are annotations.`);
  if (rollout.calls.length > 0) {
    p(
      "The AWS APIs it calls, for the policy of whoever runs it: " +
        list(
          rollout.calls.map((c) => {
            const [service, operation] = c.split(" ");
            return `\`${service}:${apiName(operation)}\``;
          }),
        ) +
        ".",
    );
  }
}

function renderWatch(f: StackFacts, p: Emit, { r, asgName }: { r: string; asgName: string }): void {
  p("## Watch or stop a rollout");
  p(
    "`./rollout.sh` prints the refresh's progress until it ends, in " +
      list(REFRESH_STATUSES.ended.map((s) => `\`${s}\``)).replace(/ and (?=[^,]*$)/, " or ") +
      ". From another terminal: the refresh, the instances with their " +
      "launch template version, the rollout alarms, and the app through the load balancer:",
  );
  p(
    "```sh",
    `aws autoscaling describe-instance-refreshes ${r} --auto-scaling-group-name ${asgName} --max-records 1 \\`,
    "  --query 'InstanceRefreshes[0].[Status,PercentageComplete,InstancesToUpdate,StatusReason]' --output text",
    `aws autoscaling describe-auto-scaling-groups ${r} --auto-scaling-group-names ${asgName} \\`,
    "  --query 'AutoScalingGroups[0].Instances[].[InstanceId,LaunchTemplate.Version,LifecycleState,HealthStatus]' --output text",
    ...(f.alarms.length > 0
      ? [
          `aws cloudwatch describe-alarms ${r} --alarm-names ${f.alarms.map((a) => sh(a.name)).join(" ")} \\`,
          "  --query 'MetricAlarms[].[AlarmName,StateValue,StateReason]' --output text",
        ]
      : []),
    ...(!f.hasOutput("health_check_url")
      ? []
      : f.https
        ? [
            "# The certificate names your domain, not the load balancer's DNS name: --insecure checks that the app",
            "# answers through the load balancer; curl https://<your domain>/ checks the certificate.",
            'curl -fsS --insecure "$(terraform output -raw health_check_url)"',
          ]
        : ['curl -fsS "$(terraform output -raw health_check_url)"']),
    "```",
  );
  p(
    "Ctrl-C, or the end of `--timeout`, stops only the waiting: the refresh goes on. `./rollout.sh` run again waits for it, " +
      (f.image.mode === "ssm"
        ? "then starts another if an instance still runs another image than the parameter's."
        : "then rolls out the last apply's release if the group does not run it yet."),
  );
  const cancel = ["```sh", `aws autoscaling cancel-instance-refresh ${r} --auto-scaling-group-name ${asgName}`, "```"];
  if (f.image.mode === "ssm") {
    p(
      'To stop a refresh, cancel it. "Canceling an instance refresh does not roll back any instances that were already replaced" ' +
        "(User Guide, cancel-instance-refresh.html), and AWS cannot roll back a group whose image comes from an SSM parameter " +
        "(RollbackInstanceRefresh): to go back, put the previous image into the parameter and run `./rollout.sh` (see *Roll back*).",
    );
    p(...cancel);
    return;
  }
  p(
    "To stop a bad rollout and put the previous version back on the instances it already replaced, roll it back by hand; " +
      'RollbackInstanceRefresh "cancels an instance refresh that is in progress and rolls back any changes that it made" ' +
      "(Auto Scaling API reference). A `./rollout.sh` waiting on it then exits 3:",
  );
  p("```sh", `aws autoscaling rollback-instance-refresh ${r} --auto-scaling-group-name ${asgName}`, "```");
  p(
    'Cancelling only stops it: "Canceling an instance refresh does not roll back any instances that were already replaced" ' +
      "(User Guide, cancel-instance-refresh.html), and the group stays on the version it ran before (it changes only when a " +
      "refresh succeeds), so both versions run until the next rollout:",
  );
  p(...cancel);
}

function renderRollback(f: StackFacts, p: Emit, { r, asgName }: { r: string; asgName: string }): void {
  p("## Roll back");
  const rollout = f.rollout !== undefined && f.asg !== undefined;
  if (f.image.mode === "variable") {
    const v = f.image.variable;
    p(
      `A rollback is a release of the previous image, by the same path: apply the previous \`${v}\`` +
        `${rollout ? ", then `./rollout.sh`" : ""}. The apply writes a new launch template version with that image` +
        `${rollout ? ", and the rollout replaces the instances with the same preferences, alarms and automatic rollback as any release" : ""}. ` +
        "Every version of the launch template with its image, and the version the group runs:",
    );
    p(
      "```sh",
      `aws ec2 describe-launch-template-versions ${r} --launch-template-id "$(terraform output -raw launch_template_id)" \\`,
      "  --query 'LaunchTemplateVersions[].[VersionNumber,LaunchTemplateData.ImageId,CreateTime]' --output text",
      ...(f.asg
        ? [
            `aws autoscaling describe-auto-scaling-groups ${r} --auto-scaling-group-names ${asgName} \\`,
            "  --query 'AutoScalingGroups[0].LaunchTemplate.Version' --output text",
          ]
        : []),
      "```",
    );
    p("The image of the version before the last apply's (or set `VERSION` to any version of the list), applied and rolled out:");
    p(
      "```sh",
      "VERSION=$(( $(terraform output -raw launch_template_version) - 1 ))",
      `PREVIOUS_AMI=$(aws ec2 describe-launch-template-versions ${r} --launch-template-id "$(terraform output -raw launch_template_id)" \\`,
      "  --versions \"$VERSION\" --query 'LaunchTemplateVersions[0].LaunchTemplateData.ImageId' --output text)",
      `terraform apply -var "${v}=$PREVIOUS_AMI"`,
      ...(rollout ? ["./rollout.sh"] : []),
      "```",
    );
    if (rollout && f.refresh?.preferences.AutoRollback) {
      p(
        "When `./rollout.sh` exited 3, AWS has already put the previous version back and the group runs it: nothing is broken. " +
          "The last apply's version is still the bad release, though, and `./rollout.sh` run again would roll it out again: " +
          "release a fixed image, or apply the previous image as above so that what Terraform wrote last is what runs.",
      );
    }
  } else if (f.image.mode === "ssm") {
    p(
      "Put the previous AMI id back into the parameter, then run `./rollout.sh`, which replaces every instance whose image differs. " +
        "AWS cannot roll back a refresh of a group whose launch template takes its image from an SSM parameter " +
        "(RefreshPreferences, AutoRollback), so this is the way back, also after a failed rollout. The parameter's history: " +
        "set `PREVIOUS_AMI` to the value to return to.",
    );
    p(
      "```sh",
      `aws ssm get-parameter-history ${r} --name ${sh(f.image.parameter)} --query 'Parameters[].[Version,Value,LastModifiedDate]' --output text`,
      `aws ssm put-parameter ${r} --name ${sh(f.image.parameter)} --type String --data-type aws:ec2:image --overwrite --value "$PREVIOUS_AMI"`,
      ...(rollout ? ["./rollout.sh"] : []),
      "```",
    );
  } else {
    p("Apply the previous version of this configuration.");
  }
}

function renderSecrets(f: StackFacts, p: Emit, { r, asgName }: { r: string; asgName: string }): void {
  p("## Secrets: set out of band");
  if (f.secrets.length === 0) {
    p("This stack has no secrets.");
    return;
  }
  const placeholder = f.secrets[0].placeholder;
  const keys = [...new Set(f.secrets.map((s) => s.keyAlias).filter((k): k is string => k !== undefined))];
  p(
    `Each secret is a SecureString parameter${keys.length > 0 ? ` encrypted with the environment's key ${list(keys.map((k) => `\`${k}\``))}` : ""}. ` +
      `Terraform writes it once${placeholder ? `, with the placeholder \`${placeholder}\`` : ""}, through the write-only argument ` +
      "`value_wo`, which the provider never stores in the state, and writes it again only if `value_wo_version` changes: the real " +
      "value never appears in this configuration, a plan or the state. Set each one with the AWS CLI, on the first deploy and " +
      "whenever it rotates (reading the value from the terminal keeps it out of the shell history):",
  );
  const commands = f.secrets.flatMap((s) => [
    "read -rs VALUE",
    `aws ssm put-parameter ${r} --name ${sh(s.name)} --type SecureString${s.keyAlias ? ` --key-id ${sh(s.keyAlias)}` : ""} --overwrite --value "$VALUE"`,
  ]);
  p("```sh", ...commands, "unset VALUE", "```");
  if (f.rollout) {
    p(
      "`./rollout.sh` counts a secret as set once its parameter is at version 2 or later (Terraform wrote version 1); it reads the " +
        "versions with DescribeParameters, which returns no values, and starts no rollout while one is unset.",
    );
  }
  if (!f.asg) return;
  p(
    "Instances read their parameters when they boot. After a rotation, replace them with a refresh of their own: the launch " +
      `template${f.image.mode === "ssm" ? " and the image" : ""} did not change, so \`./rollout.sh\` has nothing to roll out. ` +
      "This one replaces every instance (`SkipMatching` off) " +
      "with the rollout's other preferences and alarms, but without a desired configuration, and so without automatic rollback " +
      "(RefreshPreferences, AutoRollback); watch it as in *Watch or stop a rollout*:",
  );
  p("```sh", ...replaceAllCommand(f, r, asgName), "```");
}

function renderDestroy(f: StackFacts, p: Emit, { tfVar }: { tfVar: string }): void {
  p("## Destroy");
  const protectedOnes = f.preventDestroy;
  const window = f.keyDeletionWindowDays;
  const keyNote =
    window === undefined
      ? ""
      : ` The KMS key is not deleted at once: Terraform schedules its deletion after ${window} days (\`deletion_window_in_days\`), ` +
        'during which "all calls to use the key for cryptographic operations will fail" and the deletion can still be cancelled ' +
        "(KMS, key-deletion.html; ScheduleKeyDeletion, CancelKeyDeletion).";
  if (protectedOnes.length === 0) {
    p(
      "This environment has no deletion protection: `terraform destroy` removes everything it created" +
        `${f.forceDestroyBuckets ? ", the access-log bucket with its logs (`force_destroy`)" : ""}.${keyNote}`,
    );
    p("```sh", `terraform destroy${tfVar}`, "```");
    if (tfVar) p("Destroy needs every variable set; any valid AMI id will do, such as the one running.");
    return;
  }
  p(
    `This environment is deletion-protected: ${list(protectedOnes.map((a) => `\`${a}\``))} have \`prevent_destroy\`` +
      `${f.loadBalancerDeletionProtection ? ", and the load balancer has its own deletion protection (`enable_deletion_protection`)" : ""}. ` +
      "`terraform destroy` stops at the plan with an error naming `lifecycle.prevent_destroy`, before it removes anything.",
  );
  p(
    'To remove the environment on purpose: in the app repository, set `"deletionProtection": false` on this environment in ' +
      "`immutable.config.json` and run `npm run export`; bring the new files here and `terraform apply` them" +
      `${f.loadBalancerDeletionProtection ? " (this turns the load balancer's deletion protection off)" : ""}; then destroy:`,
  );
  p("```sh", `terraform apply${tfVar}`, `terraform destroy${tfVar}`, "```");
  if (tfVar) p("`AMI_ID` is the image that runs: the apply must not start a release.");
  if (keyNote) p(keyNote.trim());
}
