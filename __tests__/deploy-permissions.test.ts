/**
 * The deploy role follows the stacks (managed/deploy-permissions.ts): every resource type that any
 * configuration's environment stacks synthesize is in the table (the test that fails when someone adds
 * a resource type and not its rights), a team's queue beside a stack extends that environment's roles
 * and no other's, and a type nobody knows stops the synth with its name and where to add it.
 */
import { App, TerraformResource, type TerraformStack } from "cdktf";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { resolveConfig } from "../managed/config-validation";
import { DEPLOY_PERMISSIONS, permissionsFor } from "../managed/deploy-permissions";
import { BootstrapStack } from "../stacks/bootstrap-stack";
import { addStacks } from "../stacks/app";
import { WebTierStack } from "../stacks/web-tier-stack";
import { exampleConfigJson } from "./support/synth";
import { tempDir } from "./support/terraform";

const CONFIGS: Array<[string, Record<string, unknown>]> = [
  ["the example", exampleConfigJson()],
  ["WAF and an S3 backend", { ...exampleConfigJson(), waf: true, backend: { bucket: "acme-state" } }],
  [
    "an existing VPC",
    {
      ...exampleConfigJson(),
      // Each environment its own image parameter (one shared by two is refused).
      environments: (exampleConfigJson().environments as Array<{ name: string }>).map((e) => ({
        ...e,
        amiSource: `resolve:ssm:/demo-app/image/${e.name}/ami-id`,
      })),
      network: {
        mode: "existing",
        vpcId: "vpc-0123456789abcdef0",
        publicSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        privateSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
      },
    },
  ],
];

function typesOf(stack: TerraformStack): string[] {
  return [...new Set(stack.node.findAll().flatMap((c) => (c instanceof TerraformResource ? [c.terraformResourceType] : [])))].sort();
}

describe("the deploy role's table", () => {
  it.each(CONFIGS)("%s: every resource type of every environment's stack has its rights in the table", (_what, json) => {
    const config = resolveConfig({ ...json, github: { repository: "acme/demo-app" } });
    const app = new App({ outdir: tempDir("permissions") });
    for (const stack of addStacks(app, config).filter((s) => s.node.id !== "bootstrap")) {
      const unknown = typesOf(stack).filter((t) => !(t in DEPLOY_PERMISSIONS));
      expect([stack.node.id, unknown]).toEqual([stack.node.id, []]);
    }
  });

  it("refuses a type it does not know, naming the type, the stack and the table's file", () => {
    expect(() => permissionsFor(["aws_vpc", "aws_dynamodb_table"], "staging")).toThrow(
      /the stack staging has resources of type aws_dynamodb_table, for which the deploy role has no rights: add each type to DEPLOY_PERMISSIONS in managed\/deploy-permissions\.ts/,
    );
  });

  it("derives less for less: a stack without a load balancer or queue gets no ELB or SQS statement", () => {
    const { grants } = permissionsFor(["aws_ssm_parameter", "aws_kms_key"], "staging");
    expect([...grants].sort()).toEqual(["kms", "ssmParameters"]);
  });
});

describe("a team's queue beside the staging stack", () => {
  const config = resolveConfig({ ...exampleConfigJson(), github: { repository: "acme/demo-app" } });

  function bootstrapWith(add: (staging: TerraformStack) => void): BootstrapStack {
    const app = new App({ outdir: tempDir("permissions-queue") });
    const stacks = config.environments.map((environment) => new WebTierStack(app, { config, environment }));
    add(stacks[0]);
    return new BootstrapStack(app, { config });
  }

  /** The Sids of an environment's deploy role (its managed policies) or drift role (its inline policy). */
  function sidsOf(stack: BootstrapStack, role: "deploy" | "drift", env: string): string[] {
    const resources = JSON.parse(JSON.stringify((stack as any).toTerraform())).resource;
    const documents =
      role === "deploy"
        ? Object.values<any>(resources.aws_iam_policy).filter((p) => p.name.startsWith(`demo-app-${env}-deploy-`))
        : [resources.aws_iam_role_policy[`drift_${env}_policy`]];
    return documents.flatMap((p) => JSON.parse(p.policy).Statement.map((s: any) => s.Sid));
  }

  it("extends staging's deploy and drift roles at the next bootstrap, and production's not at all", () => {
    const without = bootstrapWith(() => {});
    expect(sidsOf(without, "deploy", "staging")).not.toContain("SqsOwnQueues");
    expect(sidsOf(without, "drift", "staging")).not.toContain("ReadOwnQueues");
    const withQueue = bootstrapWith((staging) => new SqsQueue(staging, "orders", { name: "demo-app-staging-orders" }));
    expect(sidsOf(withQueue, "deploy", "staging")).toEqual(expect.arrayContaining(["SqsOwnQueues", "ReadOwnQueues"]));
    expect(sidsOf(withQueue, "drift", "staging")).toContain("ReadOwnQueues");
    expect(sidsOf(withQueue, "deploy", "production")).not.toContain("SqsOwnQueues");
    expect(sidsOf(withQueue, "drift", "production")).not.toContain("ReadOwnQueues");
  });

  it("stops the synth on a resource type without rights, naming it", () => {
    class Unknown extends TerraformResource {}
    expect(() => bootstrapWith((staging) => new Unknown(staging, "mystery", { terraformResourceType: "aws_mystery_thing" }))).toThrow(
      /the stack staging has resources of type aws_mystery_thing/,
    );
  });
});
