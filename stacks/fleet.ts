import { Construct } from "constructs";
import { Fn, TerraformLocal, Token } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { partitionOf } from "../managed/aws-rules";
import { renderUserData } from "../managed/user-data";

export interface FleetProps {
  readonly appName: string;
  readonly environment: string;
  readonly region: string;
  /** `<app>-<env>`. */
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Private subnets in at least two zones. */
  readonly subnetIds: readonly string[];
  /** `ami-...`, `${var.ami_id}` or `resolve:ssm:<parameter>`. */
  readonly imageId: string;
  readonly instanceType: string;
  /** The root device of the base OS: /dev/sda1 (Ubuntu) or /dev/xvda (Amazon Linux). */
  readonly rootDeviceName: string;
  /** @default 20 */
  readonly rootVolumeGb?: number;
  readonly appPort: number;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly desiredCapacity: number;
  readonly minHealthyPercentage: number;
  readonly instanceWarmupSeconds: number;
  readonly healthCheckGracePeriodSeconds: number;
  readonly cpuTargetPercent: number;
  /** The load balancer's security group: the only source allowed to reach the app port. */
  readonly loadBalancerSecurityGroupId: string;
  readonly targetGroupArn: string;
  /** ARN of the KMS key that encrypts the environment's secrets. */
  readonly parameterKeyArn: string;
  /** `/<app>/<env>/`. */
  readonly parameterPath: string;
  readonly logGroupArn: string;
  /** Plain config values of the environment (overrides merged): their names and a hash reach user data. */
  readonly config: Readonly<Record<string, string>>;
  /** Secret names of the environment. */
  readonly secrets: readonly string[];
  /**
   * Tags for instances and volumes, which the provider's default_tags do not reach.
   * @default only Name
   */
  readonly tags?: Readonly<Record<string, string>>;
}

const MANAGED_SSM_POLICY = "AmazonSSMManagedInstanceCore";

/**
 * The instances: a launch template for the baked image and an Auto Scaling group that replaces them
 * through a rolling instance refresh whenever the template changes. No SSH key, no public address,
 * no inbound rule but the app port from the load balancer.
 */
export class Fleet extends Construct {
  public readonly securityGroup: SecurityGroup;
  public readonly role: IamRole;
  public readonly instanceProfile: IamInstanceProfile;
  public readonly launchTemplate: LaunchTemplate;
  public readonly autoScalingGroup: AutoscalingGroup;
  public readonly scalingPolicy: AutoscalingPolicy;

  constructor(scope: Construct, id: string, props: FleetProps) {
    super(scope, id);
    const { namePrefix, appPort } = props;
    const partition = partitionOf(props.region);

    this.securityGroup = new SecurityGroup(this, "sg", {
      namePrefix: `${namePrefix}-app-`,
      description: `Instances of ${namePrefix}: app port from the load balancer only`,
      vpcId: props.vpcId,
      tags: { Name: `${namePrefix}-app` },
      lifecycle: { createBeforeDestroy: true },
    });
    new VpcSecurityGroupIngressRule(this, "from-alb", {
      securityGroupId: this.securityGroup.id,
      description: `App port ${appPort} from the load balancer`,
      ipProtocol: "tcp",
      fromPort: appPort,
      toPort: appPort,
      referencedSecurityGroupId: props.loadBalancerSecurityGroupId,
    });
    new VpcSecurityGroupEgressRule(this, "alb-to-app", {
      securityGroupId: props.loadBalancerSecurityGroupId,
      description: `Load balancer to the instances on app port ${appPort}`,
      ipProtocol: "tcp",
      fromPort: appPort,
      toPort: appPort,
      referencedSecurityGroupId: this.securityGroup.id,
    });
    new VpcSecurityGroupEgressRule(this, "https-out", {
      securityGroupId: this.securityGroup.id,
      description: "HTTPS to AWS APIs (SSM, KMS, CloudWatch Logs) through the NAT gateway",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
    });

    this.role = new IamRole(this, "role", {
      namePrefix: `${namePrefix}-`,
      description: `Instances of ${namePrefix}`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    // Session Manager (break-glass shell without SSH) and the SSM agent's own needs.
    new IamRolePolicyAttachment(this, "ssm-core", {
      role: this.role.name,
      policyArn: `arn:${partition}:iam::aws:policy/${MANAGED_SSM_POLICY}`,
    });
    new IamRolePolicy(this, "runtime", {
      name: "runtime",
      role: this.role.id,
      policy: this.runtimePolicy(props, partition),
    });
    this.instanceProfile = new IamInstanceProfile(this, "profile", { namePrefix: `${namePrefix}-`, role: this.role.name });

    const tags: Record<string, string> = { ...props.tags, Name: namePrefix };
    this.launchTemplate = new LaunchTemplate(this, "template", {
      namePrefix: `${namePrefix}-`,
      description: `${namePrefix}: one version per image`,
      imageId: props.imageId,
      instanceType: props.instanceType,
      updateDefaultVersion: true,
      iamInstanceProfile: { arn: this.instanceProfile.arn },
      // Explicit, so that no instance gets a public address even in a subnet that maps them.
      networkInterfaces: [{
        deviceIndex: 0,
        associatePublicIpAddress: "false",
        deleteOnTermination: "true",
        securityGroups: [this.securityGroup.id],
      }],
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      },
      blockDeviceMappings: [{
        deviceName: props.rootDeviceName,
        ebs: {
          volumeSize: props.rootVolumeGb ?? 20,
          volumeType: "gp3",
          encrypted: "true",
          deleteOnTermination: "true",
        },
      }],
      monitoring: { enabled: true },
      userData: Fn.base64encode(renderUserData({
        appName: props.appName, environment: props.environment, region: props.region, appPort,
        config: props.config, secrets: props.secrets,
      })),
      tagSpecifications: [
        { resourceType: "instance", tags },
        { resourceType: "volume", tags },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    this.autoScalingGroup = new AutoscalingGroup(this, "asg", {
      name: namePrefix,
      vpcZoneIdentifier: [...props.subnetIds],
      minSize: props.minCapacity,
      maxSize: props.maxCapacity,
      desiredCapacity: props.desiredCapacity,
      // Each apply of a new image creates a template version; the group follows it and the refresh starts.
      launchTemplate: { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
      targetGroupArns: [props.targetGroupArn],
      healthCheckType: "ELB",
      healthCheckGracePeriod: props.healthCheckGracePeriodSeconds,
      defaultInstanceWarmup: props.instanceWarmupSeconds,
      instanceRefresh: {
        strategy: "Rolling",
        preferences: {
          minHealthyPercentage: props.minHealthyPercentage,
          maxHealthyPercentage: 200,
          instanceWarmup: String(props.instanceWarmupSeconds),
          skipMatching: true,
          // AWS cannot roll back to a template whose image is an SSM parameter (RollbackInstanceRefresh).
          autoRollback: !props.imageId.startsWith("resolve:ssm:"),
          scaleInProtectedInstances: "Refresh",
          standbyInstances: "Terminate",
        },
      },
      enabledMetrics: ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances"],
      // default_tags do not reach the group itself; instances get the same tags from the template too.
      tag: Object.keys(tags).sort().map((key) => ({ key, value: tags[key], propagateAtLaunch: true })),
      // Scaling policies own the desired capacity after the first apply.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });

    this.scalingPolicy = new AutoscalingPolicy(this, "cpu", {
      name: `${namePrefix}-cpu`,
      autoscalingGroupName: this.autoScalingGroup.name,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
        targetValue: props.cpuTargetPercent,
      },
    });
  }

  /** Read its own parameters, decrypt them with its own key through SSM, write its own logs. */
  private runtimePolicy(props: FleetProps, partition: string): string {
    // The account id is read off the key's ARN, so that no AWS data source is needed.
    const account = new TerraformLocal(this, "account_id", Fn.element(Fn.split(":", props.parameterKeyArn), 4)).asString;
    const path = props.parameterPath.replace(/\/$/, "");
    const parameterArn = `arn:${partition}:ssm:${props.region}:${account}:parameter${path}`;
    const dnsSuffix = partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
    return JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadOwnParameters",
          Effect: "Allow",
          Action: ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
          Resource: [parameterArn, `${parameterArn}/*`],
        },
        {
          Sid: "DecryptOwnSecrets",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: props.parameterKeyArn,
          Condition: { StringEquals: { "kms:ViaService": `ssm.${props.region}.${dnsSuffix}` } },
        },
        {
          Sid: "WriteOwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [props.logGroupArn, `${props.logGroupArn}:*`],
        },
      ],
    });
  }
}
