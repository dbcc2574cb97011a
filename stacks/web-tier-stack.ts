import { Construct, Node } from "constructs";
import { TerraformElement, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { AppConfig, EnvironmentConfig } from "../managed/config";
import { PATTERNS } from "../managed/aws-rules";
import { configureBackend } from "../managed/backend";
import { escapeTfStringMap } from "../managed/escape";
import { Fleet } from "./fleet";
import { LoadBalancer } from "./load-balancer";
import { logGroupName, MANAGED_BY, resourcePrefix } from "../managed/names";
import { Network } from "./network";
import { Parameters } from "./parameters";

export interface WebTierStackProps {
  /** The validated configuration (resolveConfig). */
  readonly config: AppConfig;
  /** One of config.environments. */
  readonly environment: EnvironmentConfig;
}

/** Root devices of the base images Packer bakes from. */
const ROOT_DEVICE = { "ubuntu-24.04": "/dev/sda1", al2023: "/dev/xvda" } as const;

/**
 * One environment of the web tier: network, load balancer, parameters, logs and the fleet. Its only
 * input at apply time is the image: the variable `ami_id` (or an SSM parameter, see AmiSource).
 */
export class WebTierStack extends TerraformStack {
  public readonly amiId?: TerraformVariable;
  public readonly network: Network;
  public readonly loadBalancer: LoadBalancer;
  public readonly parameters: Parameters;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly fleet: Fleet;

  constructor(scope: Construct, props: WebTierStackProps) {
    const { config, environment: env } = props;
    super(scope, env.name);
    const app = config.appName;
    const prefix = resourcePrefix(app, env.name);

    configureBackend(this, env.name, config.backend);
    const tags = { ...escapeTfStringMap(config.tags), app, environment: env.name, "managed-by": MANAGED_BY };
    new AwsProvider(this, "aws", { region: config.region, defaultTags: [{ tags }] });

    let imageId: string;
    if (env.amiSource.mode === "variable") {
      this.amiId = new TerraformVariable(this, "ami_id", {
        type: "string",
        description: "AMI baked by Packer for this release (packer/packer-manifest.json). Roll back by applying the previous id.",
        validation: [{
          condition: `\${can(regex("${PATTERNS.amiId.source}", var.ami_id))}`,
          errorMessage: "The ami_id value must look like ami-0123456789abcdef0.",
        }],
      });
      imageId = this.amiId.stringValue;
    } else {
      imageId = `resolve:ssm:${env.amiSource.parameter}`;
    }

    this.network = new Network(this, "network", { network: config.network, namePrefix: prefix });
    this.loadBalancer = new LoadBalancer(this, "load-balancer", {
      name: prefix,
      vpcId: this.network.vpcId,
      subnetIds: this.network.publicSubnetIds,
      appPort: config.appPort,
      healthCheckPath: config.healthCheckPath,
      certificateArn: env.certificateArn,
      deletionProtection: env.deletionProtection,
    });
    const envConfig = { ...config.config, ...env.config };
    this.parameters = new Parameters(this, "parameters", {
      appName: app,
      environment: env.name,
      config: envConfig,
      secrets: config.secrets,
    });
    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: logGroupName(app, env.name),
      retentionInDays: env.logRetentionDays,
    });
    this.fleet = new Fleet(this, "fleet", {
      appName: app,
      environment: env.name,
      region: config.region,
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
      minHealthyPercentage: env.minHealthyPercentage,
      instanceWarmupSeconds: env.instanceWarmupSeconds,
      healthCheckGracePeriodSeconds: env.healthCheckGracePeriodSeconds,
      cpuTargetPercent: env.cpuTargetPercent,
      loadBalancerSecurityGroupId: this.loadBalancer.securityGroup.id,
      targetGroupArn: this.loadBalancer.targetGroup.arn,
      parameterKeyArn: this.parameters.key.arn,
      parameterPath: this.parameters.path,
      logGroupArn: this.logGroup.arn,
      config: envConfig,
      secrets: config.secrets,
      tags,
    });

    const scheme = env.certificateArn ? "https" : "http";
    new TerraformOutput(this, "alb_dns_name", { value: this.loadBalancer.lb.dnsName, description: "DNS name of the load balancer" });
    new TerraformOutput(this, "health_check_url", {
      value: `${scheme}://${this.loadBalancer.lb.dnsName}${config.healthCheckPath}`,
      description: "The app's health URL through the load balancer (smoke check after a deploy)",
    });
    new TerraformOutput(this, "asg_name", { value: this.fleet.autoScalingGroup.name, description: "Auto Scaling group; watch refreshes with aws autoscaling describe-instance-refreshes" });
    new TerraformOutput(this, "launch_template_id", { value: this.fleet.launchTemplate.id, description: "Launch template; one version per image" });
    new TerraformOutput(this, "parameter_path", { value: this.parameters.path, description: "SSM path of this environment's config and secrets" });
  }

  /**
   * Addresses ops can read in a plan: `aws_lb.load_balancer_alb` instead of cdktf's default
   * `aws_lb.load-balancer_alb_15AADC07`. Construct paths are unique within the stack, so these are too.
   */
  protected allocateLogicalId(element: TerraformElement | Node): string {
    const node = element instanceof Node ? element : element.node;
    const scopes = node.scopes;
    return scopes.slice(scopes.indexOf(this) + 1).map((scope) => scope.node.id).join("_").replace(/-/g, "_");
  }
}
