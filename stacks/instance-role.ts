import { Construct } from "constructs";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { dnsSuffixOf, partitionOf } from "../managed/aws-rules";
import { RELEASE_METRICS_PREFIX } from "../managed/names";

export interface InstanceRoleProps {
  /** `<app>-<env>`: also the name of the environment's Auto Scaling group. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  /** `/<app>/<env>/`: the only parameters the instances may read. */
  readonly parameterPath: string;
  /** The environment's key, which encrypts its secrets. */
  readonly keyArn: string;
  readonly logGroupArn: string;
  /**
   * ARN of the managed policy the role carries as its permissions boundary (the bootstrap stack's, when
   * CI deploys: the deploy role may create roles only with it).
   * @default none
   */
  readonly permissionsBoundary?: string;
}

/** The instance role's one policy, by statement id: what each grant is for. */
export const INSTANCE_POLICY_SIDS = [
  "SessionManager",
  "ReadOwnParameters",
  "DecryptOwnSecrets",
  "WriteOwnLogs",
  "CompleteOwnLaunch",
  "ReportOwnBootFailures",
  "NoOtherParameters",
] as const;

/**
 * What an instance may do: Session Manager for break-glass access, read and decrypt its own
 * environment's parameters, write its own logs, complete its own group's launch lifecycle hook and
 * report a boot failure in its own environment's metric namespace. Nothing else, and explicitly not another
 * environment's parameters, whatever else a team attaches to the role later.
 *
 * No AWS managed policy: AmazonSSMManagedInstanceCore allows ssm:GetParameter and ssm:GetParameters on
 * every parameter ("Resource": "*", AWS Managed Policy Reference), so a staging instance could read
 * production's configuration.
 */
export class InstanceRole extends Construct {
  public readonly role: IamRole;
  public readonly policy: IamRolePolicy;
  public readonly profile: IamInstanceProfile;

  constructor(scope: Construct, id: string, props: InstanceRoleProps) {
    super(scope, id);
    const { namePrefix } = props;
    this.role = new IamRole(this, "role", {
      namePrefix: `${namePrefix}-`,
      description: `Instances of ${namePrefix}`,
      permissionsBoundary: props.permissionsBoundary,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    this.policy = new IamRolePolicy(this, "runtime", { name: "runtime", role: this.role.id, policy: instancePolicy(props) });
    this.profile = new IamInstanceProfile(this, "profile", { namePrefix: `${namePrefix}-`, role: this.role.name });
  }
}

/** The policy document (JSON); exported for the tests that evaluate it. */
export function instancePolicy(props: InstanceRoleProps): string {
  const partition = partitionOf(props.region);
  const path = props.parameterPath.replace(/\/$/, "");
  const parameterArn = `arn:${partition}:ssm:${props.region}:${props.accountId}:parameter${path}`;
  const ownParameters = [parameterArn, `${parameterArn}/*`];
  const statements = [
    {
      // Systems Manager User Guide, getting-started-create-iam-instance-profile.html, "minimal
      // Session Manager permissions": the agent's heartbeat and the session channels.
      Sid: "SessionManager",
      Effect: "Allow",
      Action: [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ],
      Resource: "*",
    },
    {
      Sid: "ReadOwnParameters",
      Effect: "Allow",
      Action: ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
      Resource: ownParameters,
    },
    {
      // Reading a SecureString with decryption makes Parameter Store call kms:Decrypt with the
      // PARAMETER_ARN encryption context (KMS Developer Guide, services-parameter-store.html).
      Sid: "DecryptOwnSecrets",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: props.keyArn,
      Condition: {
        StringEquals: { "kms:ViaService": `ssm.${props.region}.${dnsSuffixOf(props.region)}` },
        StringLike: { "kms:EncryptionContext:PARAMETER_ARN": `${parameterArn}/*` },
      },
    },
    {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      Resource: [props.logGroupArn, `${props.logGroupArn}:*`],
    },
    {
      // The boot script completes the launch lifecycle hook of its own group. Resource: the group's ARN
      // (Service Authorization Reference, Amazon EC2 Auto Scaling: CompleteLifecycleAction on
      // autoScalingGroup, arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupName}),
      // by name, so that the group (which depends on this policy) is not needed to write it.
      Sid: "CompleteOwnLaunch",
      Effect: "Allow",
      Action: "autoscaling:CompleteLifecycleAction",
      Resource: `arn:${partition}:autoscaling:${props.region}:${props.accountId}:autoScalingGroup:*:autoScalingGroupName/${props.namePrefix}`,
    },
    {
      // PutMetricData has no resource; the cloudwatch:namespace condition key limits it to the
      // environment's own namespace (CloudWatch User Guide, iam-cw-condition-keys-namespace.html), so an
      // instance cannot raise another environment's boot-failure alarm.
      Sid: "ReportOwnBootFailures",
      Effect: "Allow",
      Action: "cloudwatch:PutMetricData",
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": `${RELEASE_METRICS_PREFIX}${props.namePrefix}` } },
    },
    {
      // An explicit deny wins over any allow (IAM User Guide, policy evaluation logic), so a managed
      // policy attached later cannot open other environments' parameters either.
      Sid: "NoOtherParameters",
      Effect: "Deny",
      Action: ["ssm:GetParameter*"],
      NotResource: ownParameters,
    },
  ];
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
