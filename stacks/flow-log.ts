import type { Construct } from "constructs";
import type { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { partitionOf } from "../managed/aws-rules";

export interface FlowLogProps {
  /** `<app>-<env>` (or the build network's prefix): the role's name prefix and the flow log's Name tag. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** The encrypted group the flow log writes to. */
  readonly group: CloudwatchLogGroup;
  /** @default none */
  readonly permissionsBoundary?: string;
  /** @default "/" */
  readonly rolePath?: string;
}

/**
 * Flow logs of all traffic to CloudWatch Logs, through a role that only the flow-log service of this
 * account may assume (VPC User Guide, flow-logs-iam-role.html: trust vpc-flow-logs.amazonaws.com,
 * aws:SourceAccount and aws:SourceArn "to protect yourself against the confused deputy problem").
 * The resources are made in `scope` itself (ids flow-logs-role, flow-logs-policy, flow-log), so their
 * Terraform addresses are those of the stacks that had them inline.
 */
export function addFlowLog(scope: Construct, props: FlowLogProps): FlowLog {
  const partition = partitionOf(props.region);
  const { group } = props;
  const role = new IamRole(scope, "flow-logs-role", {
    namePrefix: `${props.namePrefix}-flow-`,
    ...(props.rolePath ? { path: props.rolePath } : {}),
    description: `VPC flow logs of ${props.namePrefix}`,
    permissionsBoundary: props.permissionsBoundary,
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "vpc-flow-logs.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "aws:SourceAccount": props.accountId },
            ArnLike: { "aws:SourceArn": `arn:${partition}:ec2:${props.region}:${props.accountId}:vpc-flow-log/*` },
          },
        },
      ],
    }),
  });
  new IamRolePolicy(scope, "flow-logs-policy", {
    name: "write-flow-logs",
    role: role.id,
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [group.arn, `${group.arn}:*`],
        },
        // A list call: it takes no resource narrower than * (IAM Service Authorization Reference).
        { Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
      ],
    }),
  });
  return new FlowLog(scope, "flow-log", {
    vpcId: props.vpcId,
    trafficType: "ALL",
    logDestinationType: "cloud-watch-logs",
    logDestination: group.arn,
    iamRoleArn: role.arn,
    maxAggregationInterval: 60,
    tags: { Name: `${props.namePrefix}-flow-log` },
  });
}
