/**
 * cloudsplaining (Salesforce's least-privilege scanner, pinned in requirements-test.txt) on every
 * generated policy, twice: as it runs by default (actions without resource constraints) and with
 * --flag-all-risky-actions (-aR: every privilege-escalation, resource-exposure, data-exfiltration,
 * credentials and infrastructure-modification action, constrained or not). Each finding must be
 * covered by a written reason below, action by action (a pattern of the actions the reason covers):
 * a new risky action in a policy fails here until someone writes why it is there.
 *
 * cloudsplaining reads actions and resources only: it does not read Condition blocks (so tag-held
 * statements are flagged as if open), nor the ARNs' scope beyond "*" or not.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../managed/config-validation";
import { bakePolicy, boundaryPolicy, deployPolicies, driftPolicy, packerBuildInstancePolicy } from "../managed/ci-policies";
import { instancePolicy } from "../stacks/instance-role";
import { venvTool } from "./support/emulated-aws";
import { exampleConfigJson } from "./support/synth";
import { tempDir } from "./support/terraform";

jest.setTimeout(300_000);

type Category = "escalation" | "exposure" | "exfiltration" | "credentials" | "modification" | "service-wildcard";

const TITLES: Array<[RegExp, Category]> = [
  [/Privilege Escalation/, "escalation"],
  [/Resource Exposure/, "exposure"],
  [/Data Exfiltration/, "exfiltration"],
  [/return credentials/, "credentials"],
  [/Infrastructure Modification/, "modification"],
  [/ALL Actions from a service/, "service-wildcard"],
];

/** Findings of one run: category -> the actions named (a service name for service-wildcard). */
function scan(file: string, allRisky: boolean): Array<[Category, string]> {
  const r = spawnSync(venvTool("cloudsplaining"), ["scan-policy-file", "-i", file, ...(allRisky ? ["-aR"] : [])], { encoding: "utf8" });
  if (r.status !== 0 && !/Potential Issue found/.test(r.stdout)) throw new Error(`cloudsplaining failed (${r.status}): ${r.stderr}`);
  // cloudsplaining colours its output
  const text = r.stdout.replace(/\x1b\[[0-9;]*m/g, "");
  const found: Array<[Category, string]> = [];
  let category: Category | undefined;
  for (const line of text.split("\n")) {
    const title = /Potential Issue found: (.*)/.exec(line);
    if (title) {
      category = TITLES.find(([re]) => re.test(title[1]))?.[1];
      if (!category) throw new Error(`cloudsplaining reported a kind of finding this test does not know: ${title[1]}`);
      continue;
    }
    const actions = /^\s*Actions: (.*)$/.exec(line);
    if (actions && category) for (const a of actions[1].split(/,\s*/)) found.push([category, a.trim()]);
  }
  return found;
}

interface Reason {
  readonly category: Category;
  /** The actions (case-insensitive) this reason covers. */
  readonly actions: RegExp;
  readonly why: string;
}

/** What each policy is flagged for, and why it is so. */
const REASONS: Record<string, readonly Reason[]> = {
  bake: [
    {
      category: "credentials",
      actions: /^ecr:GetAuthorizationToken$/i,
      why: "a registry login for the app image push; the action takes no resource (wildcard-only), the push itself is held to the app's repositories",
    },
    {
      category: "escalation",
      actions: /^(iam:passrole|ec2:runinstances)$/i,
      why: "CreateEC2WithExistingIP: PassRole of the one build role the bootstrap made (to EC2 only: Session Manager and ECR pull), launched only tagged app=<app> into the build subnet",
    },
    {
      category: "exposure",
      actions: /^iam:PassRole$/i,
      why: "the bootstrap's build role only, to ec2.amazonaws.com only (iam:PassedToService)",
    },
    {
      category: "modification",
      actions:
        /^(ec2:.*|ecr:(CompleteLayerUpload|InitiateLayerUpload|PutImage|UploadLayerPart)|iam:PassRole|ssm:(StartSession|ResumeSession|TerminateSession))$/i,
      why: "Packer's build: every EC2 call on resources tagged app=<app> without an environment tag (created so, tagged in the create call), in the bootstrap's build VPC and subnet; the ECR push to the app's repositories; Session Manager to the build instance only",
    },
  ],
  "packer build instance": [
    {
      category: "credentials",
      actions: /^ecr:GetAuthorizationToken$/i,
      why: "the build instance pulls a private app image; the action takes no resource, the pull is held to the app's repositories",
    },
    {
      category: "modification",
      actions: /^ssm:UpdateInstanceInformation$/i,
      why: "the SSM agent registers its own instance (Session Manager for Packer's tunnel); wildcard-only",
    },
  ],
  boundary: [
    {
      category: "exfiltration",
      actions: /^ssm:GetParameters?(ByPath)?$/i,
      why: "an instance reads its own environment's parameters, /<app>/<env>/ only; the boundary caps what the environment's roles can hold",
    },
    {
      category: "modification",
      actions:
        /^(ssm:(UpdateInstanceInformation|GetParameters?(ByPath)?)|kms:Decrypt|logs:(CreateLogStream|PutLogEvents)|autoscaling:CompleteLifecycleAction)$/i,
      why: "what an instance does: the SSM agent, its own parameters and key (through SSM), its own log groups, its own group's launch hook",
    },
  ],
  drift: [
    {
      category: "exfiltration",
      actions: /^(s3:GetObject|ssm:GetParameters?(ByPath)?)$/i,
      why: "a plan reads its environment's state object and parameters (the provider decrypts SecureStrings): the role is trusted only for that GitHub environment's jobs",
    },
    {
      category: "modification",
      actions: /^(kms:Decrypt|s3:GetObject|ssm:GetParameters?(ByPath)?)$/i,
      why: "cloudsplaining counts these reads as modification; kms:Decrypt only through SSM for the environment's parameters",
    },
  ],
  "deploy read": [
    {
      category: "exfiltration",
      actions: /^(s3:GetObject|ssm:GetParameters?(ByPath)?)$/i,
      why: "the deploy plans and applies its environment: its state object and parameters, nothing of another environment",
    },
    {
      category: "modification",
      actions: /^(kms:Decrypt|s3:GetObject|ssm:GetParameters?(ByPath)?)$/i,
      why: "the same reads; kms:Decrypt only through SSM for the environment's parameters",
    },
  ],
  "deploy network": [
    {
      category: "exposure",
      actions: /^ec2:(DeleteNetworkInterfacePermission|ModifySnapshotAttribute|ModifyVpcEndpointServicePermissions)$/i,
      why: "within Ec2ChangeOwn's ec2:Delete* and ec2:Modify*, held to resources tagged app=<app>, environment=<env> (which cloudsplaining does not read); the environment has no snapshot or endpoint service",
    },
    {
      category: "modification",
      actions: /^ec2:.*$/i,
      why: "creating the environment's network only with its tags in the request (one statement per EC2 resource type and its create call), changing and deleting only what carries its tags; launches from the app's images",
    },
  ],
  "deploy platform": [
    {
      category: "service-wildcard",
      actions: /^(autoscaling|elasticloadbalancing|logs|wafv2)$/i,
      why: "each service:* statement names the environment's own resources only: its Auto Scaling group, load balancer, listeners and rules (by name), target groups (by tags), log groups under /<app>/<env>/, its web ACL",
    },
    {
      category: "exposure",
      actions: /^(sqs:(CreateQueue|SetQueueAttributes)|iam:CreateServiceLinkedRole|wafv2:(DeletePermissionPolicy|PutPermissionPolicy))$/i,
      why: "queues named <app>-<env>-* only; service-linked roles of Auto Scaling and ELB only (iam:AWSServiceName); WAF permission policies of the environment's own web ACL ARN only",
    },
    {
      category: "modification",
      actions: /^(autoscaling|elasticloadbalancing|logs|wafv2|cloudwatch|sqs|iam:CreateServiceLinkedRole):?/i,
      why: "the same statements: the environment's group, load balancer, target groups, log groups, web ACL, alarms and queues",
    },
  ],
  "deploy data": [
    {
      category: "exfiltration",
      actions: /^s3:GetObject$/i,
      why: "the environment's state lock object (S3 native locking), nothing else",
    },
    {
      category: "exposure",
      actions: /^(iam:.*|kms:PutKeyPolicy|s3:(DeleteBucketPolicy|PutBucketPolicy|PutBucketPublicAccessBlock))$/i,
      why: "roles and instance profiles named <app>-<env>-* only, created and changed only with the environment's permissions boundary, passed only to EC2 and VPC Flow Logs; its own key's policy (tags; other environments' keys denied); its own access-log bucket",
    },
    {
      category: "modification",
      actions: /^(iam|kms|s3|ssm):/i,
      why: "the environment's roles (bounded), key and alias, parameters and session document, access-log bucket and state objects",
    },
  ],
  instance: [
    {
      category: "exfiltration",
      actions: /^ssm:GetParameters?(ByPath)?$/i,
      why: "an instance reads its own environment's parameters; every other parameter is denied explicitly",
    },
    {
      category: "modification",
      actions:
        /^(ssm:(UpdateInstanceInformation|GetParameters?(ByPath)?)|kms:Decrypt|logs:(CreateLogStream|PutLogEvents)|autoscaling:CompleteLifecycleAction|cloudwatch:PutMetricData)$/i,
      why: "the SSM agent, its own parameters and key through SSM, its own logs, its own group's launch hook, boot failures in its own namespace",
    },
  ],
};

const config = resolveConfig({
  ...exampleConfigJson(),
  backend: { bucket: "acme-terraform-state" },
  github: { repository: "acme/demo-app" },
  waf: true,
});
const ctx = { config, partition: "aws", accountId: "123456789012" };
const [staging] = config.environments;

const POLICIES: Array<[string, string, unknown]> = [
  ["bake", "bake", bakePolicy(ctx)],
  ["packer build instance", "packer build instance", packerBuildInstancePolicy(ctx)],
  ["staging boundary", "boundary", boundaryPolicy(ctx, staging)],
  ["staging drift", "drift", driftPolicy(ctx, staging)],
  ...Object.entries(deployPolicies(ctx, staging)).map(([part, p]): [string, string, unknown] => [
    `staging deploy ${part}`,
    `deploy ${part}`,
    p,
  ]),
  [
    "staging instance",
    "instance",
    JSON.parse(
      instancePolicy({
        namePrefix: "demo-app-staging",
        region: config.region,
        accountId: "123456789012",
        parameterPath: "/demo-app/staging/",
        keyArn: `arn:aws:kms:${config.region}:123456789012:key/11111111-2222-3333-4444-555555555555`,
        logGroupArn: `arn:aws:logs:${config.region}:123456789012:log-group:/demo-app/staging/app`,
      }),
    ),
  ],
];

describe("cloudsplaining on every generated policy", () => {
  const dir = tempDir("cloudsplaining");

  it.each(POLICIES)("%s: every finding, by default and with -aR, has its written reason", (name, kind, policy) => {
    const file = join(dir, `${name.replace(/\W+/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(policy));
    const reasons = REASONS[kind] ?? [];
    const unexplained = [...scan(file, false), ...scan(file, true)]
      .filter(([category, action]) => !reasons.some((r) => r.category === category && r.actions.test(action)))
      .map(([category, action]) => `${category}: ${action}`);
    expect([...new Set(unexplained)]).toEqual([]);
    for (const r of reasons) expect(r.why.length).toBeGreaterThan(40);
  });

  it("does report an unconstrained policy (the scan is not silent)", () => {
    const file = join(dir, "open.json");
    writeFileSync(
      file,
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["iam:PassRole", "s3:GetObject"], Resource: "*" }] }),
    );
    const found = scan(file, false).map(([c, a]) => `${c}: ${a}`);
    expect(found).toEqual(expect.arrayContaining(["exposure: iam:PassRole", "exfiltration: s3:GetObject"]));
  });
});
