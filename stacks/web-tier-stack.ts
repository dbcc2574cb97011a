import { type Construct, Node } from "constructs";
import { type TerraformElement, TerraformOutput, TerraformStack, TerraformVariable, Token } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { AppConfig, EnvironmentConfig } from "../managed/config";
import { partitionOf, PATTERNS } from "../managed/aws-rules";
import { configureBackend, REQUIRED_TERRAFORM_VERSION } from "../managed/backend";
import { escapeTfStringMap } from "../managed/escape";
import {
  flowLogGroupName,
  kmsAliasName,
  logGroupName,
  MANAGED_BY,
  parameterPath,
  launchHookName,
  permissionsBoundaryArn,
  releaseMetricsNamespace,
  resourcePrefix,
  rolloutAlarmNames,
  wafLogGroupName,
} from "../managed/names";
import { refreshPreferences } from "../managed/rollout";
import { EncryptionKey } from "./encryption-key";
import { Fleet } from "./fleet";
import { InstanceRole } from "./instance-role";
import { LoadBalancer } from "./load-balancer";
import { Network } from "./network";
import { Parameters } from "./parameters";
import { SessionLogging } from "./session-logging";
import { alarmList, RolloutAlarms } from "./rollout-alarms";
import { Waf } from "./waf";

export interface WebTierStackProps {
  /** The validated configuration (resolveConfig). */
  readonly config: AppConfig;
  /** One of config.environments. */
  readonly environment: EnvironmentConfig;
}

/**
 * Root devices of the base images Packer bakes from. Debian registers its AMIs with
 * root_device_name='/dev/xvda' (debian-cloud-images, src/debian_cloud_images/cli/upload_ec2.py).
 */
const ROOT_DEVICE = { "ubuntu-24.04": "/dev/sda1", al2023: "/dev/xvda", "debian-12": "/dev/xvda" } as const;

/**
 * One environment of the web tier: network, load balancer, parameters, logs, the fleet and the alarms
 * that guard its rollouts. Its only input at apply time is the image: the variable `ami_id` (or an SSM
 * parameter, see AmiSource). Add your own resources next to these, in this scope.
 */
export class WebTierStack extends TerraformStack {
  public readonly amiId?: TerraformVariable;
  public readonly key: EncryptionKey;
  public readonly network: Network;
  public readonly loadBalancer: LoadBalancer;
  public readonly parameters: Parameters;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly instanceRole: InstanceRole;
  /** Break-glass Session Manager shells, logged (stacks/session-logging.ts). */
  public readonly sessionLogging: SessionLogging;
  public readonly fleet: Fleet;
  public readonly rolloutAlarms: RolloutAlarms;
  public readonly waf?: Waf;

  constructor(scope: Construct, props: WebTierStackProps) {
    const { config, environment: env } = props;
    super(scope, env.name);
    const app = config.appName;
    const prefix = resourcePrefix(app, env.name);
    const region = config.region;

    configureBackend(this, env.name, config.backend);
    // Write-only arguments (the secrets' value_wo) need Terraform 1.11; S3 native locking 1.10.
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
    const tags = { ...escapeTfStringMap(config.tags), app, environment: env.name, "managed-by": MANAGED_BY };
    new AwsProvider(this, "aws", { region, defaultTags: [{ tags }] });

    let imageId: string;
    if (env.amiSource.mode === "variable") {
      this.amiId = new TerraformVariable(this, "ami_id", {
        type: "string",
        description: "AMI baked by Packer for this release (packer/packer-manifest.json). Roll back by applying the previous id.",
        validation: [
          {
            condition: `\${can(regex("${PATTERNS.amiId.source}", var.ami_id))}`,
            errorMessage: "The ami_id value must look like ami-0123456789abcdef0.",
          },
        ],
      });
      imageId = this.amiId.stringValue;
    } else {
      imageId = `resolve:ssm:${env.amiSource.parameter}`;
    }

    this.key = new EncryptionKey(this, "key", {
      aliasName: kmsAliasName(app, env.name),
      description: `Encrypts the secrets under ${parameterPath(app, env.name)} and the logs of ${prefix}`,
      region,
      logGroups: [`/${app}/${env.name}/*`, ...(env.waf ? [wafLogGroupName(app, env.name)] : [])],
      preventDestroy: env.deletionProtection,
    });
    const accountId = this.key.accountId;
    // With CI (config.github), the deploy role may create roles only with the bootstrap stack's boundary.
    const permissionsBoundary = config.github ? permissionsBoundaryArn(partitionOf(region), accountId, app, env.name) : undefined;
    this.network = new Network(this, "network", {
      network: config.network,
      namePrefix: prefix,
      region,
      accountId,
      natGateways: env.natGateways,
      flowLogs: {
        logGroupName: flowLogGroupName(app, env.name),
        retentionDays: env.logRetentionDays,
        keyArn: this.key.key.arn,
        permissionsBoundary,
      },
      keyPolicy: this.key.policy,
    });
    this.loadBalancer = new LoadBalancer(this, "load-balancer", {
      name: prefix,
      vpcId: this.network.vpcId,
      subnetIds: this.network.publicSubnetIds,
      appPort: config.appPort,
      healthCheckPath: config.healthCheckPath,
      healthCheckMatcher: config.healthCheckMatcher,
      slowStartSeconds: env.slowStartSeconds,
      certificateArn: env.certificateArn,
      deletionProtection: env.deletionProtection,
      region,
      accountId,
      logRetentionDays: env.logRetentionDays,
    });
    if (env.waf) {
      this.waf = new Waf(this, "waf", {
        name: prefix,
        loadBalancerArn: this.loadBalancer.lb.arn,
        logGroupName: wafLogGroupName(app, env.name),
        logRetentionDays: env.logRetentionDays,
        keyArn: this.key.key.arn,
        keyPolicy: this.key.policy,
      });
    }
    const envConfig = { ...config.config, ...env.config };
    this.parameters = new Parameters(this, "parameters", {
      appName: app,
      environment: env.name,
      config: envConfig,
      secrets: config.secrets,
      keyArn: this.key.key.arn,
    });
    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: logGroupName(app, env.name),
      retentionInDays: env.logRetentionDays,
      kmsKeyId: this.key.key.arn,
      dependsOn: [this.key.policy],
    });
    const metricsNamespace = releaseMetricsNamespace(app, env.name);
    this.instanceRole = new InstanceRole(this, "instance", {
      namePrefix: prefix,
      region,
      accountId,
      parameterPath: this.parameters.path,
      keyArn: this.key.key.arn,
      logGroupArn: this.logGroup.arn,
      permissionsBoundary,
    });
    this.sessionLogging = new SessionLogging(this, "sessions", {
      namePrefix: prefix,
      logGroupName: `${parameterPath(app, env.name)}sessions`,
      logRetentionDays: env.logRetentionDays,
      keyArn: this.key.key.arn,
      keyPolicy: this.key.policy,
      instanceRoleId: this.instanceRole.role.id,
    });
    this.fleet = new Fleet(this, "fleet", {
      appName: app,
      environment: env.name,
      region,
      namePrefix: prefix,
      vpcId: this.network.vpcId,
      subnetIds: this.network.privateSubnetIds,
      imageId,
      instanceType: env.instanceType,
      rootDeviceName: ROOT_DEVICE[config.image.baseOs],
      appPort: config.appPort,
      minCapacity: env.minCapacity,
      maxCapacity: env.maxCapacity,
      desiredCapacity: env.desiredCapacity,
      instanceWarmupSeconds: env.instanceWarmupSeconds,
      healthCheckGracePeriodSeconds: env.healthCheckGracePeriodSeconds,
      cpuTargetPercent: env.cpuTargetPercent,
      requestsPerTarget: env.requestsPerTarget,
      requestCountResourceLabel: `${this.loadBalancer.lb.arnSuffix}/${this.loadBalancer.targetGroup.arnSuffix}`,
      minHealthyPercentage: env.minHealthyPercentage,
      maxHealthyPercentage: env.maxHealthyPercentage,
      cpuCredits: env.cpuCredits,
      warmPool: env.warmPool,
      launchHook: { name: launchHookName(app, env.name), timeoutSeconds: env.bootTimeoutSeconds },
      healthCheckPath: config.healthCheckPath,
      loadBalancerSecurityGroupId: this.loadBalancer.securityGroup.id,
      targetGroupArn: this.loadBalancer.targetGroup.arn,
      instanceProfileArn: this.instanceRole.profile.arn,
      config: envConfig,
      secrets: config.secrets,
      tags,
      bootDependencies: [
        ...this.network.egressPath,
        this.instanceRole.policy,
        this.logGroup,
        ...this.parameters.configParameters,
        ...this.parameters.secretParameters,
      ],
    });
    const alarmNames = rolloutAlarmNames(app, env.name);
    this.rolloutAlarms = new RolloutAlarms(this, "rollout-alarms", {
      names: alarmNames,
      loadBalancerArnSuffix: this.loadBalancer.lb.arnSuffix,
      targetGroupArnSuffix: this.loadBalancer.targetGroup.arnSuffix,
      autoScalingGroupName: prefix,
      bootMetricsNamespace: metricsNamespace,
      maxErrorRatePercent: env.rollbackErrorRatePercent,
      minRequestsPerMinute: env.rollbackMinRequestsPerMinute,
      maxLatencyMs: env.rollbackLatencyMs,
      unhealthyMinutes: env.rollbackUnhealthyMinutes,
    });
    this.addOutputs(config, env, alarmList(alarmNames));
  }

  private addOutputs(config: AppConfig, env: EnvironmentConfig, alarms: string[]): void {
    const { lb } = this.loadBalancer;
    const { autoScalingGroup: group, launchTemplate: template } = this.fleet;
    const scheme = env.certificateArn ? "https" : "http";
    const output = (id: string, value: string, description: string) => new TerraformOutput(this, id, { value, description });
    output("alb_dns_name", lb.dnsName, "DNS name of the load balancer");
    output(
      "health_check_url",
      `${scheme}://${lb.dnsName}${config.healthCheckPath}`,
      "The app's health URL through the load balancer (smoke check after a deploy)",
    );
    output("asg_name", group.name, "Auto Scaling group; watch refreshes with aws autoscaling describe-instance-refreshes");
    output("launch_template_id", template.id, "Launch template; one version per release");
    output(
      "launch_template_version",
      Token.asString(template.latestVersion),
      "The release this apply wrote; the rollout (rollout.sh) makes it the group's version",
    );
    output("parameter_path", this.parameters.path, "SSM path of this environment's config and secrets");
    const imageFromSsm = env.amiSource.mode === "ssm";
    // The exact --cli-input-json of `aws autoscaling start-instance-refresh` for this release: a JSON
    // text whose only interpolations are the group, the template and its version (names are validated,
    // so none needs JSON escaping), which reads the same in Terraform JSON and in the HCL export.
    output(
      "instance_refresh",
      JSON.stringify({
        AutoScalingGroupName: group.name,
        Strategy: "Rolling",
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: template.id, Version: Token.asString(template.latestVersion) } },
        Preferences: refreshPreferences({ environment: env, imageFromSsm, alarmNames: alarms }),
      }),
      "start-instance-refresh input of this release (the rollout command passes it as --cli-input-json)",
    );
    output("rollout_alarms", alarms.join(" "), "CloudWatch alarms that stop and roll back the instance refresh");
    output(
      "canary",
      env.canaryOneInstance ? "one-instance" : "fixed",
      "one-instance: the rollout sets the first checkpoint to one instance's share of the group's capacity when it starts",
    );
    output(
      "checkpoint_delay_seconds",
      String(env.checkpointDelaySeconds),
      "Seconds the refresh waits at each checkpoint (the rollout adds the canary's checkpoints when the group has grown since the synth)",
    );
    output(
      "probe_requests_per_second",
      String(env.probeRequestsPerSecond),
      "Requests a second the rollout sends to health_check_url while the refresh runs, so the error-rate alarm has data",
    );
    output(
      "image_parameter",
      env.amiSource.mode === "ssm" ? env.amiSource.parameter : "",
      "SSM parameter the launch template resolves the image from; empty with the ami_id variable",
    );
    output(
      "secret_parameters",
      this.parameters.secretParameters.map((p) => p.name).join(" "),
      "SecureString parameters that must hold a value set out of band before instances start",
    );
  }

  /**
   * Addresses ops can read in a plan: `aws_lb.load_balancer_alb` instead of cdktf's default
   * `aws_lb.load-balancer_alb_15AADC07`. Construct paths are unique within the stack, so these are too.
   */
  protected allocateLogicalId(element: TerraformElement | Node): string {
    const node = element instanceof Node ? element : element.node;
    const scopes = node.scopes;
    return scopes
      .slice(scopes.indexOf(this) + 1)
      .map((scope) => scope.node.id)
      .join("_")
      .replace(/-/g, "_");
  }
}
