/**
 * The web ACL's logging and its core rule set, as synthesized: credentials redacted, only blocked and
 * counted requests logged, bodies over 8 KB counted rather than blocked; and each default undone by
 * its prop.
 */
import { Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Waf, type WafProps } from "../stacks/waf";

function synth(extra: Partial<WafProps> = {}): { acl: any; logging: any } {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  new AwsProvider(stack, "aws", { region: "eu-west-1" });
  const waf = new Waf(stack, "waf", {
    name: "demo-app-production",
    loadBalancerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/demo-app-production/1",
    logGroupName: "aws-waf-logs-demo-app-production",
    logRetentionDays: 90,
    keyArn: "arn:aws:kms:eu-west-1:123456789012:key/1",
    keyPolicy: dependable(stack),
    ...extra,
  });
  expect(waf.webAcl).toBeDefined();
  const json = JSON.parse(Testing.synth(stack));
  const only = (type: string) => Object.values(json.resource[type])[0] as any;
  return { acl: only("aws_wafv2_web_acl"), logging: only("aws_wafv2_web_acl_logging_configuration") };
}

/** Something the log group can depend on, as the environment key's policy is in the stack. */
function dependable(stack: TerraformStack) {
  return new AwsProvider(stack, "other", { region: "eu-west-1", alias: "other" });
}

const coreRuleSet = (acl: any) =>
  acl.rule.find((r: any) => r.name === "AWSManagedRulesCommonRuleSet").statement.managed_rule_group_statement;

describe("the web ACL", () => {
  it("redacts the authorization and cookie headers and logs only what a rule blocked or counted", () => {
    const { logging } = synth();
    expect(logging.redacted_fields).toEqual([{ single_header: { name: "authorization" } }, { single_header: { name: "cookie" } }]);
    expect(logging.logging_filter).toEqual({
      default_behavior: "DROP",
      filter: [
        {
          behavior: "KEEP",
          requirement: "MEETS_ANY",
          condition: [{ action_condition: { action: "BLOCK" } }, { action_condition: { action: "COUNT" } }],
        },
      ],
    });
  });

  it("counts SizeRestrictions_BODY of the core rule set (bodies over 8 KB) and leaves every other rule as AWS sets it", () => {
    const { acl } = synth();
    expect(coreRuleSet(acl).rule_action_override).toEqual([{ name: "SizeRestrictions_BODY", action_to_use: { count: {} } }]);
    for (const rule of acl.rule.filter((r: any) => r.name !== "AWSManagedRulesCommonRuleSet")) {
      expect(rule.statement.managed_rule_group_statement.rule_action_override).toBeUndefined();
    }
    expect(acl.rule.every((r: any) => r.override_action.none !== undefined)).toBe(true);
  });

  it("takes another header list, logs everything, or blocks large bodies when asked", () => {
    const { acl, logging } = synth({ redactedHeaders: ["x-api-key"], logAllRequests: true, blockLargeBodies: true });
    expect(logging.redacted_fields).toEqual([{ single_header: { name: "x-api-key" } }]);
    expect(logging.logging_filter).toBeUndefined();
    expect(coreRuleSet(acl).rule_action_override).toBeUndefined();
  });
});
