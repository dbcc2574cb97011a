import { Construct } from "constructs";
import { Fn, type ITerraformDependable, Token } from "cdktf";
import { AutoscalingGroup, type AutoscalingGroupWarmPool } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingLifecycleHook } from "@cdktf/provider-aws/lib/autoscaling-lifecycle-hook";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { WarmPoolConfig } from "../managed/config";
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
  readonly instanceWarmupSeconds: number;
  readonly healthCheckGracePeriodSeconds: number;
  readonly cpuTargetPercent: number;
  /**
   * Scale on ALBRequestCountPerTarget (requests per target per minute) instead of CPU; needs
   * requestCountResourceLabel.
   * @default CPU
   */
  readonly requestsPerTarget?: number;
  /** `<lb arn_suffix>/<target group arn_suffix>`, the ALBRequestCountPerTarget resource label. */
  readonly requestCountResourceLabel?: string;
  /** Keep in service, and at most run, this share of the desired capacity while instances are replaced. */
  readonly minHealthyPercentage: number;
  readonly maxHealthyPercentage: number;
  /** @default the instance type's default (unlimited for T3) */
  readonly cpuCredits?: "standard" | "unlimited";
  /** @default none */
  readonly warmPool?: WarmPoolConfig;
  /** The launch lifecycle hook: its name and how long a new instance may take to answer. */
  readonly launchHook: { readonly name: string; readonly timeoutSeconds: number };
  /** The health check path the boot script asks locally before it completes the launch hook. */
  readonly healthCheckPath: string;
  /** The load balancer's security group: the only source allowed to reach the app port. */
  readonly loadBalancerSecurityGroupId: string;
  readonly targetGroupArn: string;
  readonly instanceProfileArn: string;
  /** Plain config values of the environment (overrides merged): their names and a hash reach user data. */
  readonly config: Readonly<Record<string, string>>;
  /** Secret names of the environment. */
  readonly secrets: readonly string[];
  /**
   * What an instance needs before it boots: its route to AWS's APIs (NAT gateway routes or VPC
   * endpoints) and its permissions. The group is created only after them, so that the first
   * instances do not start without a way to read their configuration.
   * @default none
   */
  readonly bootDependencies?: readonly ITerraformDependable[];
  /**
   * Tags for instances and volumes, which the provider's default_tags do not reach.
   * @default only Name
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The instances: a launch template (one version per release) and an Auto Scaling group behind the
 * load balancer. No SSH key, no public address, no inbound rule but the app port from the load balancer.
 *
 * The group is created on the template's version of the first deploy and Terraform never moves it
 * afterwards (`ignore_changes` on launch_template[0].version): a release is a new template version
 * that the rollout command (managed/rollout.sh) hands to an instance refresh as its desired
 * configuration. AWS moves the group to that version only when the refresh succeeds ("Once the
 * instance refresh succeeds, Amazon EC2 Auto Scaling updates the settings of the Auto Scaling group to
 * reflect the new desired configuration", StartInstanceRefresh), and a rollback restores "the
 * configuration that you last saved on the Auto Scaling group before starting the instance refresh"
 * (User Guide, instance-refresh-rollback.html): the version that ran before. The provider's own
 * instance_refresh block would save the new version on the group first and then start the refresh
 * (resourceGroupUpdate; hashicorp/terraform-provider-aws#34189), which leaves a rollback nothing to
 * restore, so the group has none.
 */
export class Fleet extends Construct {
  public readonly securityGroup: SecurityGroup;
  /** The instances' only egress: HTTPS to AWS's APIs. */
  public readonly httpsEgress: VpcSecurityGroupEgressRule;
  public readonly launchTemplate: LaunchTemplate;
  public readonly autoScalingGroup: AutoscalingGroup;
  public readonly scalingPolicy: AutoscalingPolicy;
  public readonly launchHook: AutoscalingLifecycleHook;

  constructor(scope: Construct, id: string, props: FleetProps) {
    super(scope, id);
    const tags: Record<string, string> = { ...props.tags, Name: props.namePrefix };
    this.securityGroup = this.createSecurityGroup(props);
    this.httpsEgress = new VpcSecurityGroupEgressRule(this, "https-out", {
      securityGroupId: this.securityGroup.id,
      description: "HTTPS to AWS APIs (SSM, KMS, CloudWatch Logs) through the NAT gateway or VPC endpoints",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
    });
    this.launchTemplate = this.createLaunchTemplate(props, tags);
    this.autoScalingGroup = this.createGroup(props, tags);
    // The same hook twice, on purpose. In the group's initial_lifecycle_hook, so that a new group's first
    // instances wait for it too: a hook of its own resource "will not be added until the autoscaling group
    // has been created, and depending on your capacity settings, after the initial instances have been
    // launched" (provider docs, aws_autoscaling_lifecycle_hook). And as its own resource, because the group's
    // initial_lifecycle_hook is applied only when a group is created: a group made by an earlier version gets
    // the hook too, and changes of its timeout reach AWS. Both write one hook by name (PutLifecycleHook
    // creates or updates it); the group ignores its initial list afterwards (lifecycle.ignore_changes).
    // ABANDON when the heartbeat runs out: "If the instance is launching, ABANDON indicates that you do not
    // want to proceed: Amazon EC2 Auto Scaling terminates the instance" (CompleteLifecycleAction).
    this.launchHook = new AutoscalingLifecycleHook(this, "app-ready", {
      name: props.launchHook.name,
      autoscalingGroupName: this.autoScalingGroup.name,
      lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
      defaultResult: "ABANDON",
      heartbeatTimeout: props.launchHook.timeoutSeconds,
    });
    this.scalingPolicy = new AutoscalingPolicy(this, props.requestsPerTarget ? "requests" : "cpu", {
      name: `${props.namePrefix}-${props.requestsPerTarget ? "requests" : "cpu"}`,
      autoscalingGroupName: this.autoScalingGroup.name,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: props.requestsPerTarget
        ? {
            // ResourceLabel: app/<load-balancer-name>/<id>/targetgroup/<target-group-name>/<id>
            // (Application Auto Scaling API, PredefinedMetricSpecification), the two arn_suffix values.
            predefinedMetricSpecification: {
              predefinedMetricType: "ALBRequestCountPerTarget",
              resourceLabel: props.requestCountResourceLabel,
            },
            targetValue: props.requestsPerTarget,
          }
        : {
            predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
            targetValue: props.cpuTargetPercent,
          },
    });
  }

  private createSecurityGroup(props: FleetProps): SecurityGroup {
    const { namePrefix, appPort } = props;
    const group = new SecurityGroup(this, "sg", {
      namePrefix: `${namePrefix}-app-`,
      description: `Instances of ${namePrefix}: app port from the load balancer only`,
      vpcId: props.vpcId,
      tags: { Name: `${namePrefix}-app` },
      lifecycle: { createBeforeDestroy: true },
    });
    new VpcSecurityGroupIngressRule(this, "from-alb", {
      securityGroupId: group.id,
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
      referencedSecurityGroupId: group.id,
    });
    return group;
  }

  private createLaunchTemplate(props: FleetProps, tags: Record<string, string>): LaunchTemplate {
    return new LaunchTemplate(this, "template", {
      namePrefix: `${props.namePrefix}-`,
      description: `${props.namePrefix}: one version per release`,
      imageId: props.imageId,
      instanceType: props.instanceType,
      updateDefaultVersion: true,
      iamInstanceProfile: { arn: props.instanceProfileArn },
      // Explicit, so that no instance gets a public address even in a subnet that maps them.
      networkInterfaces: [
        {
          deviceIndex: 0,
          associatePublicIpAddress: "false",
          deleteOnTermination: "true",
          securityGroups: [this.securityGroup.id],
        },
      ],
      // IMDSv2 only; hop limit 1 keeps the instance role away from containers (see packer/README.md).
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      },
      blockDeviceMappings: [
        {
          deviceName: props.rootDeviceName,
          ebs: {
            volumeSize: props.rootVolumeGb ?? 20,
            volumeType: "gp3",
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      monitoring: { enabled: true },
      // Explicit: T3 types launch in unlimited mode unless told (EC2 User Guide,
      // burstable-performance-instances-unlimited-mode-concepts.html); standard never bills surplus credits.
      ...(props.cpuCredits ? { creditSpecification: { cpuCredits: props.cpuCredits } } : {}),
      // A Hibernated warm pool needs hibernation on the template (and an encrypted root volume, above).
      ...(props.warmPool?.state === "Hibernated" ? { hibernationOptions: { configured: true } } : {}),
      userData: Fn.base64encode(
        renderUserData({
          appName: props.appName,
          environment: props.environment,
          region: props.region,
          appPort: props.appPort,
          config: props.config,
          secrets: props.secrets,
          healthCheckPath: props.healthCheckPath,
          bootTimeoutSeconds: props.launchHook.timeoutSeconds,
          warmPool: props.warmPool?.state,
        }),
      ),
      tagSpecifications: [
        { resourceType: "instance", tags },
        { resourceType: "volume", tags },
      ],
      lifecycle: { createBeforeDestroy: true },
    });
  }

  private createGroup(props: FleetProps, tags: Record<string, string>): AutoscalingGroup {
    return new AutoscalingGroup(this, "asg", {
      name: props.namePrefix,
      vpcZoneIdentifier: [...props.subnetIds],
      minSize: props.minCapacity,
      maxSize: props.maxCapacity,
      desiredCapacity: props.desiredCapacity,
      // A numbered version (never $Latest): AWS rolls back only to one (RefreshPreferences.AutoRollback).
      launchTemplate: { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
      targetGroupArns: [props.targetGroupArn],
      healthCheckType: "ELB",
      healthCheckGracePeriod: props.healthCheckGracePeriodSeconds,
      defaultInstanceWarmup: props.instanceWarmupSeconds,
      initialLifecycleHook: [
        {
          name: props.launchHook.name,
          lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
          defaultResult: "ABANDON",
          heartbeatTimeout: props.launchHook.timeoutSeconds,
        },
      ],
      // Replacements outside a refresh (an unhealthy instance, a rebalance) launch before they terminate,
      // as a release does: "the instance maintenance policy ... min healthy percentage and max healthy
      // percentage" (User Guide, ec2-auto-scaling-instance-maintenance-policy.html).
      instanceMaintenancePolicy: {
        minHealthyPercentage: props.minHealthyPercentage,
        maxHealthyPercentage: props.maxHealthyPercentage,
      },
      ...(props.warmPool ? { warmPool: warmPool(props.warmPool) } : {}),
      enabledMetrics: [
        "GroupDesiredCapacity",
        "GroupInServiceInstances",
        "GroupPendingInstances",
        "GroupTerminatingInstances",
        "GroupTotalInstances",
      ],
      // default_tags do not reach the group itself; instances get the same tags from the template too.
      tag: Object.keys(tags)
        .sort()
        .map((key) => ({ key, value: tags[key], propagateAtLaunch: true })),
      // The instances' way out (their egress rule) and to AWS's APIs, and their permissions, first.
      dependsOn: [this.httpsEgress, ...(props.bootDependencies ?? [])],
      lifecycle: {
        // Scaling policies own the desired capacity after the first apply; the instance refresh owns
        // the template version after the first apply (see the class comment); the hook's own resource
        // owns the hook after the group is created.
        ignoreChanges: ["desired_capacity", "launch_template[0].version", "initial_lifecycle_hook"],
      },
    });
  }
}

/**
 * The group's warm pool (User Guide, ec2-auto-scaling-warm-pools.html): instances boot once, complete the
 * launch lifecycle hook while they go to the pool (the boot script cannot tell the two transitions apart
 * and need not: the app must answer either way), and are started again when the group needs them.
 */
function warmPool(pool: WarmPoolConfig): AutoscalingGroupWarmPool {
  return { poolState: pool.state, minSize: pool.minSize, instanceReusePolicy: { reuseOnScaleIn: pool.reuseOnScaleIn } };
}
