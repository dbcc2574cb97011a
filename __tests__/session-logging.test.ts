/**
 * Break-glass shells logged (stacks/session-logging.ts): the environment's Session preferences
 * document streams to its encrypted log group, the instance role may write there and nowhere else,
 * and the environment's stack creates it, with the deploy role allowed to manage that document only.
 */
import { TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { resolveConfig } from "../managed/config-validation";
import { deployPolicies, readStatements } from "../managed/ci-policies";
import { SessionLogging } from "../stacks/session-logging";
import { exampleConfigJson } from "./support/synth";
import { type PolicyDocument, simulate } from "./support/iam-eval";

function synth(idleTimeoutMinutes?: number): any {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  const provider = new AwsProvider(stack, "aws", { region: "eu-west-1" });
  new SessionLogging(stack, "sessions", {
    namePrefix: "demo-app-production",
    logGroupName: "/demo-app/production/sessions",
    logRetentionDays: 90,
    keyArn: "arn:aws:kms:eu-west-1:123456789012:key/1",
    keyPolicy: provider,
    instanceRoleId: "demo-app-production-instance",
    idleTimeoutMinutes,
  });
  return JSON.parse(Testing.synth(stack));
}

describe("Session Manager logging", () => {
  it("streams every session of the environment's document to its encrypted log group", () => {
    const json = synth();
    const [document] = Object.values<any>(json.resource.aws_ssm_document);
    expect(document).toMatchObject({ name: "demo-app-production-session", document_type: "Session", document_format: "JSON" });
    const content = JSON.parse(document.content);
    expect(content.sessionType).toBe("Standard_Stream");
    expect(content.inputs).toMatchObject({
      cloudWatchLogGroupName: "/demo-app/production/sessions",
      cloudWatchEncryptionEnabled: true,
      cloudWatchStreamingEnabled: true,
      idleSessionTimeout: "20",
    });
    const [group] = Object.values<any>(json.resource.aws_cloudwatch_log_group);
    expect(group).toMatchObject({ name: "/demo-app/production/sessions", kms_key_id: "arn:aws:kms:eu-west-1:123456789012:key/1" });
    const [policy] = Object.values<any>(json.resource.aws_iam_role_policy);
    const statements = JSON.parse(policy.policy).Statement;
    expect(statements[0].Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]);
    expect(statements[0].Resource).toHaveLength(2);
  });

  it("refuses an idle timeout Session Manager does not take, naming the field", () => {
    expect(() => synth(0)).toThrow(/idleTimeoutMinutes must be a whole number of minutes from 1 to 60, not 0/);
    expect(() => synth(61)).toThrow(/idleTimeoutMinutes/);
    expect(synth(60)).toBeDefined();
  });

  it("lets an environment's deploy role manage its own session document and no other", async () => {
    const config = resolveConfig({ ...exampleConfigJson(), github: { repository: "acme/demo-app" } });
    const [staging, production] = config.environments;
    const ctx = { config, partition: "aws", accountId: "123456789012" };
    const deploy = Object.values(deployPolicies(ctx, staging)) as unknown as PolicyDocument[];
    const document = (env: string) => `arn:aws:ssm:${config.region}:123456789012:document/demo-app-${env}-session`;
    expect(await simulate(deploy, { action: "ssm:UpdateDocument", resource: document("staging") })).toBe("Allow");
    expect(await simulate(deploy, { action: "ssm:UpdateDocument", resource: document("production") })).toBe("ImplicitDeny");
    expect(
      await simulate(deploy, {
        action: "ssm:UpdateDocument",
        resource: `arn:aws:ssm:${config.region}:123456789012:document/SSM-SessionManagerRunShell`,
      }),
    ).toBe("ImplicitDeny");
    const read = [{ Statement: readStatements(ctx, production) }] as unknown as PolicyDocument[];
    expect(await simulate(read, { action: "ssm:GetDocument", resource: document("production") })).toBe("Allow");
    expect(await simulate(read, { action: "ssm:UpdateDocument", resource: document("production") })).toBe("ImplicitDeny");
  });
});
