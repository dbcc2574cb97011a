/**
 * What an instance of one environment may do, decided by iam-simulate with AWS's IAM data (support/iam-eval.ts)
 * over every policy of its role: it reads and decrypts its own environment's parameters, and another
 * environment's parameters are denied, even with AWS's AmazonSSMManagedInstanceCore attached as well
 * (whose document comes from moto's copy of the AWS managed policies). The lifecycle test evaluates the
 * policies as the emulated AWS returns them after an apply.
 */
import { spawnSync } from "node:child_process";
import { instancePolicy } from "../stacks/instance-role";
import { type PolicyDocument, simulate } from "./support/iam-eval";
import { venvTool } from "./support/emulated-aws";

const ACCOUNT = "123456789012";
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/99999999-2222-3333-4444-555555555555`;
const parameter = (path: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${path}`;

function stagingPolicy(): PolicyDocument {
  return JSON.parse(
    instancePolicy({
      namePrefix: "demo-app-staging",
      region: "eu-west-1",
      accountId: ACCOUNT,
      parameterPath: "/demo-app/staging/",
      keyArn: KEY,
      logGroupArn: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/demo-app/staging/app`,
    }),
  );
}

/** AmazonSSMManagedInstanceCore as moto ships it (moto/iam/aws_managed_policies.py). */
let core: PolicyDocument | undefined;
function managedInstanceCore(): PolicyDocument {
  if (core) return core;
  const result = spawnSync(
    venvTool("python"),
    [
      "-c",
      "import json\nfrom moto.iam.aws_managed_policies import aws_managed_policies_data as d\n" +
        "print(json.dumps(json.loads(d)['AmazonSSMManagedInstanceCore']['Document']))",
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  core = JSON.parse(result.stdout) as PolicyDocument;
  return core;
}

describe("the evaluator follows IAM's evaluation logic", () => {
  const allowAll: PolicyDocument = { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
  it("an explicit deny wins over any allow; nothing matching is an implicit deny", async () => {
    const deny: PolicyDocument = { Statement: { Effect: "Deny", Action: "ssm:Get*", Resource: "arn:aws:ssm:*:*:parameter/x" } };
    expect(await simulate([allowAll, deny], { action: "ssm:GetParameter", resource: "arn:aws:ssm:eu-west-1:1:parameter/x" })).toBe(
      "ExplicitDeny",
    );
    expect(await simulate([allowAll, deny], { action: "ssm:GetParameter", resource: "arn:aws:ssm:eu-west-1:1:parameter/y" })).toBe("Allow");
    expect(await simulate([deny], { action: "ssm:GetParameter", resource: "arn:aws:ssm:eu-west-1:1:parameter/y" })).toBe("ImplicitDeny");
  });

  it("matches actions case-insensitively, resources case-sensitively, NotResource as the complement", async () => {
    const p: PolicyDocument = { Statement: [{ Effect: "Allow", Action: "SSM:getparameter", NotResource: "arn:aws:ssm:*:*:parameter/A*" }] };
    expect(await simulate([p], { action: "ssm:GetParameter", resource: "arn:aws:ssm:r:1:parameter/a" })).toBe("Allow");
    expect(await simulate([p], { action: "ssm:GetParameter", resource: "arn:aws:ssm:r:1:parameter/A" })).toBe("ImplicitDeny");
  });

  it("refuses a request AWS would not take: an unknown action, a resource of a type the action does not take, a condition key it never sends", async () => {
    const p: PolicyDocument = { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
    const parameterArn = "arn:aws:ssm:eu-west-1:123456789012:parameter/x";
    await expect(simulate([p], { action: "ssm:GetParameterz", resource: parameterArn })).rejects.toThrow(/invalid\.action/);
    await expect(simulate([p], { action: "ssm:GetParameter", resource: "arn:aws:s3:::bucket" })).rejects.toThrow(/iam-simulate refused/);
    await expect(
      simulate([p], { action: "ssm:GetParameter", resource: parameterArn, context: { "ec2:CreateAction": "RunInstances" } }),
    ).rejects.toThrow(/takes no context key ec2:CreateAction/);
    expect(await simulate([p], { action: "ssm:GetParameter", resource: parameterArn })).toBe("Allow");
  });
});

describe("a staging instance", () => {
  const viaSsm = (name: string) => ({
    "kms:ViaService": "ssm.eu-west-1.amazonaws.com",
    "kms:EncryptionContext:PARAMETER_ARN": parameter(name),
  });

  it.each([
    ["its own config value", "ssm:GetParameter", parameter("/demo-app/staging/config/LOG_LEVEL")],
    ["its own secret", "ssm:GetParameters", parameter("/demo-app/staging/secret/DATABASE_PASSWORD")],
    ["its own path", "ssm:GetParametersByPath", parameter("/demo-app/staging")],
  ])("reads %s", async (_what, action, resource) => {
    expect(await simulate([stagingPolicy()], { action, resource })).toBe("Allow");
  });

  it("decrypts its own secrets through SSM only", async () => {
    const secret = "/demo-app/staging/secret/DATABASE_PASSWORD";
    expect(await simulate([stagingPolicy()], { action: "kms:Decrypt", resource: KEY, context: viaSsm(secret) })).toBe("Allow");
    expect(await simulate([stagingPolicy()], { action: "kms:Decrypt", resource: KEY, context: {} })).toBe("ImplicitDeny");
    expect(await simulate([stagingPolicy()], { action: "kms:Decrypt", resource: OTHER_KEY, context: viaSsm(secret) })).toBe("ImplicitDeny");
  });

  it.each([
    ["production's secret", "ssm:GetParameter", parameter("/demo-app/production/secret/DATABASE_PASSWORD")],
    ["production's path", "ssm:GetParametersByPath", parameter("/demo-app/production")],
    ["production's history", "ssm:GetParameterHistory", parameter("/demo-app/production/secret/DATABASE_PASSWORD")],
    ["another app's parameter", "ssm:GetParameters", parameter("/billing/production/secret/API_KEY")],
    ["a sibling path with the same prefix", "ssm:GetParameter", parameter("/demo-app/staging-old/secret/X")],
  ])("is explicitly denied %s, even with AmazonSSMManagedInstanceCore attached too", async (_what, action, resource) => {
    expect(await simulate([stagingPolicy()], { action, resource })).toBe("ExplicitDeny");
    const managed = managedInstanceCore();
    // The managed policy alone would allow GetParameter(s): the reason it is not attached.
    expect(await simulate([managed], { action, resource })).toBe(
      action === "ssm:GetParametersByPath" || action === "ssm:GetParameterHistory" ? "ImplicitDeny" : "Allow",
    );
    expect(await simulate([stagingPolicy(), managed], { action, resource })).toBe("ExplicitDeny");
  });

  it("still has Session Manager (break-glass) and writes its own logs only", async () => {
    expect(await simulate([stagingPolicy()], { action: "ssmmessages:OpenDataChannel", resource: "*" })).toBe("Allow");
    expect(
      await simulate([stagingPolicy()], {
        action: "logs:PutLogEvents",
        resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/demo-app/staging/app:log-stream:i-1`,
      }),
    ).toBe("Allow");
    expect(
      await simulate([stagingPolicy()], {
        action: "logs:PutLogEvents",
        resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/demo-app/production/app:log-stream:i-1`,
      }),
    ).toBe("ImplicitDeny");
  });
});
