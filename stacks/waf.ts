import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";

export interface WafProps {
  /** `<app>-<env>`: the web ACL's name and its metrics' prefix. */
  readonly name: string;
  readonly loadBalancerArn: string;
  /** `aws-waf-logs-<app>-<env>`: WAF logs only to groups whose name starts with aws-waf-logs-. */
  readonly logGroupName: string;
  readonly logRetentionDays: number;
  readonly keyArn: string;
  readonly keyPolicy: ITerraformDependable;
  /**
   * Request headers whose values never reach the logs (lower case: WAF logs header names as sent).
   * @default ["authorization", "cookie"]
   */
  readonly redactedHeaders?: readonly string[];
  /**
   * Log every request, not only the ones a rule blocked or counted.
   * @default false
   */
  readonly logAllRequests?: boolean;
  /**
   * Let AWSManagedRulesCommonRuleSet's SizeRestrictions_BODY block bodies over 8 KB, instead of counting them.
   * @default false
   */
  readonly blockLargeBodies?: boolean;
}

/** The default of WafProps.redactedHeaders: credentials and session cookies. */
export const REDACTED_HEADERS = ["authorization", "cookie"] as const;

/**
 * AWS managed rule groups, in the order WAF evaluates them (WAF Developer Guide,
 * aws-managed-rule-groups-baseline.html and aws-managed-rule-groups-ip-rep.html): the core rule set,
 * known bad inputs (which holds the Log4j rules) and Amazon's IP reputation list. All of them are
 * included with WAF at no extra charge (waf-managed-rule-groups.html).
 */
export const MANAGED_RULE_GROUPS = [
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
] as const;

/**
 * A regional web ACL in front of the load balancer, blocking what the managed rule groups block (bodies
 * over 8 KB counted, see below), logging what a rule blocked or counted with the credentials redacted.
 */
export class Waf extends Construct {
  public readonly webAcl: Wafv2WebAcl;

  constructor(scope: Construct, id: string, props: WafProps) {
    super(scope, id);
    const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    this.webAcl = new Wafv2WebAcl(this, "acl", {
      name: props.name,
      description: `Managed rule groups in front of ${props.name}`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rule: MANAGED_RULE_GROUPS.map((group, i) => ({
        name: group,
        priority: i + 1,
        // "none": the group's own actions apply (blocking), not an override to count.
        overrideAction: { none: {} },
        // The statement is typed `any` in the bindings: its keys are Terraform's own.
        statement: {
          managed_rule_group_statement: {
            name: group,
            vendor_name: "AWS",
            // SizeRestrictions_BODY blocks every body over 8 KB ("Los cuerpos de solicitudes superiores a
            // 8 KB se bloquean", AWS Knowledge Center, waf-http-request-body-inspection, read in its Spanish
            // edition), and in front of an Application Load Balancer WAF sees only the first 8 KB of a
            // body (WAF Developer Guide, web-acl-setting-body-inspection-limit.html, read in its Chinese
            // edition: the limit is fixed at 8 KB for ALB). So every upload or long form would fail.
            // Counted by default: such requests pass and are logged, and their body past 8 KB is
            // inspected by no rule (blockLargeBodies blocks them again).
            ...(group === "AWSManagedRulesCommonRuleSet" && !props.blockLargeBodies
              ? { rule_action_override: [{ name: "SizeRestrictions_BODY", action_to_use: { count: {} } }] }
              : {}),
          },
        },
        visibilityConfig: visibility(`${props.name}-${group}`),
      })),
      visibilityConfig: visibility(props.name),
    });
    new Wafv2WebAclAssociation(this, "association", { resourceArn: props.loadBalancerArn, webAclArn: this.webAcl.arn });
    const logs = new CloudwatchLogGroup(this, "logs", {
      name: props.logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.keyArn,
      dependsOn: [props.keyPolicy],
    });
    new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [logs.arn],
      // "if you redact the SingleHeader field, the HEADER field in the logs will be REDACTED" (WAFV2's
      // LoggingConfiguration.RedactedFields, as the AWS SDK for Kotlin reference prints it): no bearer
      // token or session cookie is kept for the log group's retention. The same text: it "has no impact
      // on request sampling" (the console's sampled requests).
      redactedFields: (props.redactedHeaders ?? REDACTED_HEADERS).map((name) => ({ singleHeader: { name } })),
      // Only what a rule blocked or counted (logging_filter: "Filtering that specifies which web requests
      // are kept in the logs and which are dropped. You can filter on the rule action", aws-cdk-lib
      // CfnLoggingConfigurationProps): the requests worth reading, not a copy of every visitor's.
      ...(props.logAllRequests
        ? {}
        : {
            loggingFilter: {
              defaultBehavior: "DROP",
              filter: [
                {
                  behavior: "KEEP",
                  requirement: "MEETS_ANY",
                  condition: [{ actionCondition: { action: "BLOCK" } }, { actionCondition: { action: "COUNT" } }],
                },
              ],
            },
          }),
    });
  }
}
