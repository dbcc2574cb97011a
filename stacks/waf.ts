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
}

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

/** A regional web ACL in front of the load balancer, blocking what the managed rule groups block, logged. */
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
        statement: { managed_rule_group_statement: { name: group, vendor_name: "AWS" } },
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
    });
  }
}
