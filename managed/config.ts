import type { Architecture } from "./aws-rules";

/**
 * The project's configuration: one typed object, stored as JSON (`immutable.config.json`), validated
 * by `resolveConfig` (config-validation.ts), which also fills in the defaults below.
 */

/**
 * Where the launch template's image comes from. Written in the file as a string: "variable" or
 * "resolve:ssm:<parameter name>".
 */
export type AmiSource =
  /** Terraform variable `ami_id` (validated); rollback = apply the previous id. */
  | { readonly mode: "variable" }
  /**
   * `resolve:ssm:<parameter>`: EC2 resolves the parameter (data type aws:ec2:image) at launch. AWS
   * cannot roll back an instance refresh of a template whose image is an SSM parameter
   * (RefreshPreferences.AutoRollback), so a failed rollout stops where it is: roll back by putting the
   * previous AMI id back into the parameter and deploying again. Every instance that starts (scaling,
   * replacement) takes whatever the parameter holds then. One parameter per environment (two that
   * share one are refused), written only by that environment's deploy.
   */
  | { readonly mode: "ssm"; readonly parameter: string };

export type NetworkConfig = NewVpcNetwork | ExistingVpcNetwork;

/**
 * "single": one NAT gateway serves every zone, and a failure of its zone cuts the instances of the
 * others off from the internet and from AWS APIs (SSM, KMS, CloudWatch Logs) unless vpcEndpoints.
 * "per-az": one per zone, each zone independent; billed per gateway and hour, so zones times more.
 */
export type NatGateways = "single" | "per-az";

export interface NewVpcNetwork {
  readonly mode: "new";
  /**
   * The VPC's IPv4 block, /16 to /23 (split into 16 subnets: a /23 gives the load balancer /27s).
   * @default "10.0.0.0/16"
   */
  readonly cidr: string;
  /**
   * Availability zones to spread subnets over (2 to 6).
   * @default 2
   */
  readonly azCount: number;
  /**
   * Zone names; taken from the region's known zones when empty.
   * @default the first azCount zones of the region
   */
  readonly availabilityZones: readonly string[];
  /**
   * One NAT gateway for all zones, or one per zone. Set here, it applies to every environment;
   * otherwise each environment has its own default (see EnvironmentConfig.natGateways).
   * @default per environment
   */
  readonly natGateways?: NatGateways;
  /**
   * Interface endpoints for SSM, SSM messages, EC2 messages, KMS and CloudWatch Logs, and a gateway
   * endpoint for S3, in every environment's VPC: instances reach the AWS APIs they need without a
   * NAT gateway. Billed per endpoint, per zone and hour, and per GB.
   * @default false
   */
  readonly vpcEndpoints: boolean;
  /**
   * One public subnet (load balancer, NAT) per zone, inside `cidr`, not overlapping.
   * @default blocks 0..azCount-1 of cidr split into 16
   */
  readonly publicSubnetCidrs: readonly string[];
  /**
   * One private subnet (instances) per zone.
   * @default blocks 8..8+azCount-1 of cidr split into 16
   */
  readonly privateSubnetCidrs: readonly string[];
}

export interface ExistingVpcNetwork {
  readonly mode: "existing";
  readonly vpcId: string;
  /** Subnets for the load balancer, in at least two zones. */
  readonly publicSubnetIds: readonly string[];
  /** Subnets for the instances, in at least two zones, with a route to SSM, KMS and CloudWatch. */
  readonly privateSubnetIds: readonly string[];
}

export interface S3BackendConfig {
  readonly bucket: string;
  /**
   * State of stack `<env>` goes to `<keyPrefix>/<env>.tfstate`.
   * @default the app name
   */
  readonly keyPrefix: string;
  /** @default the app's region */
  readonly region: string;
}

export interface ImageConfig {
  /**
   * The app's container image, pulled and tagged when the AMI is baked.
   * @default "public.ecr.aws/nginx/nginx-unprivileged:alpine" (listens on 8080, serves /)
   */
  readonly containerImage: string;
  /** Base image of the AMI: Ubuntu 24.04 (Canonical), Amazon Linux 2023 or Debian 12 (Debian). @default "ubuntu-24.04" */
  readonly baseOs: "ubuntu-24.04" | "al2023" | "debian-12";
  /** @default "t3.small", or "t4g.small" when the environments run on arm64 */
  readonly buildInstanceType: string;
  /**
   * Subnet of the temporary build instance; it needs outbound HTTPS (SSM, the registry, package
   * mirrors). "" uses the account's default VPC, which many organisation accounts do not have.
   * @default ""
   */
  readonly buildSubnetId: string;
  /**
   * Derived, not set in the file: the architecture of the environments' instance types. One AMI serves
   * every environment, so they must agree, and so must buildInstanceType.
   */
  readonly architecture: Architecture;
  /**
   * How many images of this app `npm run images:prune` keeps, newest first, besides every image a
   * launch template version in use references.
   * @default 5
   */
  readonly keepImages: number;
  /**
   * SSM parameter (data type aws:ec2:image) that a bake publishes the AMI id to; "" to skip. Never an
   * environment's image parameter: that one is written only by the environment's own deploy (CI promotes
   * the image that passed the environment before it), so no bake reaches an environment untested.
   * @default "" (the id travels through packer-manifest.json and CI's bake output)
   */
  readonly amiParameter: string;
}

export interface WarmPoolConfig {
  /** Stopped (no compute cost), Hibernated (memory kept on the root volume) or Running. @default "Stopped" */
  readonly state: "Stopped" | "Hibernated" | "Running";
  /** Instances kept in the pool at least. @default 0 */
  readonly minSize: number;
  /** Instances that scale in go back to the pool instead of being terminated. @default true */
  readonly reuseOnScaleIn: boolean;
}

export interface EnvironmentConfig {
  /** Stack name and name segment, e.g. "staging". */
  readonly name: string;
  /** @default "t3.small" */
  readonly instanceType: string;
  /** @default 2 */
  readonly minCapacity: number;
  /** @default 4 */
  readonly maxCapacity: number;
  /** @default minCapacity */
  readonly desiredCapacity: number;
  /** @default true for an environment named "production", false otherwise */
  readonly deletionProtection: boolean;
  /** Share of capacity kept in service during an instance refresh. @default 90 */
  readonly minHealthyPercentage: number;
  /**
   * Capacity an instance refresh may reach while new instances start before old ones stop, 100 to
   * 200, at most minHealthyPercentage + 100 (AWS's rule).
   * @default minHealthyPercentage + 100, at most 200
   */
  readonly maxHealthyPercentage: number;
  /**
   * Instance-refresh checkpoints: the refresh stops when this share of the instances is new, waits
   * checkpointDelaySeconds while the rollout alarms watch, and goes on. Ascending, the last one 100.
   * @default one instance's share of desiredCapacity (a canary of one instance), then 100
   */
  readonly checkpointPercentages: readonly number[];
  /**
   * True when the first checkpoint is "one instance" (the default): the rollout recomputes it from the
   * group's desired capacity when the release starts, which scaling may have changed since the synth.
   */
  readonly canaryOneInstance: boolean;
  /**
   * Seconds the refresh waits at each checkpoint; every rollout alarm must be able to act within it.
   * @default 300 (production), 300 elsewhere
   */
  readonly checkpointDelaySeconds: number;
  /**
   * Seconds the refresh waits after the last instance is replaced before it counts as complete: AWS
   * can roll a refresh back only until then. Every rollout alarm must be able to act within it.
   * @default 600 (production), 300 elsewhere
   */
  readonly bakeTimeSeconds: number;
  /**
   * The rollout's error-rate alarm: (load balancer 5xx + target 5xx) / requests, in percent, above this
   * two minutes out of three stops the instance refresh and rolls it back.
   * @default 1
   */
  readonly rollbackErrorRatePercent: number;
  /**
   * The error rate counts only in minutes with at least this many requests (a quiet minute with one
   * failed request is not a 100 % error rate). The rollout's probe sends requests too.
   * @default 10
   */
  readonly rollbackMinRequestsPerMinute: number;
  /**
   * The rollout's latency alarm: the targets' p90 response time above this many milliseconds two
   * minutes out of three stops the instance refresh and rolls it back.
   * @default 2000
   */
  readonly rollbackLatencyMs: number;
  /**
   * The rollout's alarm on unhealthy targets: any unhealthy target for this many minutes in a row
   * stops the instance refresh and rolls it back. Instances join the load balancer only once the app
   * answers (the launch lifecycle hook), so a slow start is not counted as unhealthy.
   * @default 2
   */
  readonly rollbackUnhealthyMinutes: number;
  /**
   * Requests per second the deploy sends to the health URL through the load balancer while the refresh
   * runs, so that a quiet environment still gives the error-rate alarm data; 0 sends none (then a
   * rollback of a quiet environment rests on health checks alone).
   * @default 2
   */
  readonly probeRequestsPerSecond: number;
  /**
   * Seconds a new instance may take from launch until its app answers the health check locally; the
   * launch lifecycle hook abandons it (the group terminates it) after that.
   * @default 600
   */
  readonly bootTimeoutSeconds: number;
  /**
   * What the release model takes as the time from launch to the app answering (cold start); measured
   * by `npm run preview` on a local VM, or by watching a real release.
   * @default 90
   */
  readonly expectedBootSeconds: number;
  /**
   * ALB slow start: a new target's share of requests ramps up over this many seconds (30 to 900), or 0
   * for none. It also delays what a canary's errors show in the error-rate alarm.
   * @default 0
   */
  readonly slowStartSeconds: number;
  /**
   * CPU credits of burstable instance types (t3, t3a, t4g). "unlimited" bursts and bills surplus credits
   * only when an instance's average over 24 hours is above its baseline (EC2 User Guide,
   * burstable-performance-instances-unlimited-mode.html), which the default CPU target (the baseline)
   * keeps it from; it also lets a new instance, which gets no launch credits, boot at full speed.
   * "standard" never bills surplus but holds an instance without credits at its baseline, so its CPU
   * target must be below the baseline.
   * @default "unlimited" for burstable types, not set otherwise
   */
  readonly cpuCredits?: "standard" | "unlimited";
  /**
   * Scale on requests per target per minute (ALBRequestCountPerTarget) instead of average CPU.
   * @default not set: scale on cpuTargetPercent
   */
  readonly requestsPerTarget?: number;
  /**
   * A warm pool of pre-booted instances that scale-out and a refresh draw from. Instances in the pool
   * run the boot script and complete the launch lifecycle hook before they stop; they start serving
   * only when they enter InService.
   * @default none
   */
  readonly warmPool?: WarmPoolConfig;
  /** @default network.natGateways, else "per-az" in production-like environments and "single" elsewhere */
  readonly natGateways: NatGateways;
  /** A WAF web ACL with AWS managed rule groups in front of the load balancer. @default the app's waf */
  readonly waf: boolean;
  /**
   * Seconds the refresh waits after a new instance is in service before it counts it as replaced. The
   * launch lifecycle hook already holds an instance back until its app answers, so this is only the
   * time the app needs to settle (caches, connection pools).
   * @default 60
   */
  readonly instanceWarmupSeconds: number;
  /**
   * Seconds after an instance enters InService before failed load balancer health checks count; the
   * lifecycle hook has already waited for the app to answer.
   * @default 90
   */
  readonly healthCheckGracePeriodSeconds: number;
  /** Target average CPU for the scaling policy. @default 60 */
  readonly cpuTargetPercent: number;
  /** Retention of the app's logs, the VPC flow logs and the load balancer's access logs. @default 30 (90 in production) */
  readonly logRetentionDays: number;
  /** @default the app's certificateArn */
  readonly certificateArn?: string;
  /** @default the app's amiSource */
  readonly amiSource: AmiSource;
  /** Config values of this environment, merged over the app's `config`. */
  readonly config: Readonly<Record<string, string>>;
}

export interface GitHubConfig {
  /** `owner/name`, as in the repository's URL. */
  readonly repository: string;
  /**
   * The account's existing GitHub OIDC provider (AWS allows one per URL per account); the bootstrap
   * stack creates one when empty.
   * @default ""
   */
  readonly oidcProviderArn: string;
  /** The branch whose pushes bake images. @default "main" */
  readonly branch: string;
}

export interface AppConfig {
  /** Lower-case name, prefix of every resource: ^[a-z][a-z0-9-]*$, at most 20 characters. */
  readonly appName: string;
  /** @default "us-east-1" */
  readonly region: string;
  /** Port the app listens on inside the instance. @default 8080 */
  readonly appPort: number;
  /** @default "/" */
  readonly healthCheckPath: string;
  /**
   * HTTP codes the load balancer counts as healthy: "200", a list "200,204" or a range "200-299". A
   * redirect (3xx) to a login page is not a healthy app.
   * @default "200"
   */
  readonly healthCheckMatcher: string;
  /** ACM certificate for HTTPS; without it the ALB serves plain HTTP. */
  readonly certificateArn?: string;
  /** @default { mode: "variable" } */
  readonly amiSource: AmiSource;
  /** @default a new VPC, 10.0.0.0/16 over 2 zones */
  readonly network: NetworkConfig;
  /** Plain configuration (the ConfigMap equivalent): SSM String parameters. */
  readonly config: Readonly<Record<string, string>>;
  /** Names of secrets (the Secret equivalent): SSM SecureString parameters, values set out of band. */
  readonly secrets: readonly string[];
  /** Extra tags on every resource. */
  readonly tags: Readonly<Record<string, string>>;
  /** Remote state; local state (relative path) when absent. */
  readonly backend?: S3BackendConfig;
  /**
   * A WAF web ACL (AWSManagedRulesCommonRuleSet, KnownBadInputsRuleSet, AmazonIpReputationList) on
   * every environment's load balancer. Billed per web ACL, rule and request.
   * @default false
   */
  readonly waf: boolean;
  /** The GitHub repository whose workflows deploy this app (the bootstrap stack trusts only it). */
  readonly github?: GitHubConfig;
  readonly image: ImageConfig;
  /** @default staging and production */
  readonly environments: readonly EnvironmentConfig[];
}

/** The file name of the configuration in a project. */
export const CONFIG_FILE = "immutable.config.json";

/** Every default, in one place. Environment defaults depend on the environment's name. */
export const DEFAULTS = {
  region: "us-east-1",
  appPort: 8080,
  healthCheckPath: "/",
  healthCheckMatcher: "200",
  network: { mode: "new", cidr: "10.0.0.0/16", azCount: 2, vpcEndpoints: false },
  image: {
    containerImage: "public.ecr.aws/nginx/nginx-unprivileged:alpine",
    baseOs: "ubuntu-24.04",
    buildInstanceType: "t3.small",
    keepImages: 5,
  },
  waf: false,
  github: { branch: "main", oidcProviderArn: "" },
  environmentNames: ["staging", "production"],
  environment: {
    instanceType: "t3.small",
    minCapacity: 2,
    maxCapacity: 4,
    minHealthyPercentage: 90,
    instanceWarmupSeconds: 60,
    healthCheckGracePeriodSeconds: 90,
    cpuTargetPercent: 60,
    rollbackErrorRatePercent: 1,
    rollbackMinRequestsPerMinute: 10,
    rollbackLatencyMs: 2000,
    rollbackUnhealthyMinutes: 2,
    probeRequestsPerSecond: 2,
    bootTimeoutSeconds: 600,
    expectedBootSeconds: 90,
    slowStartSeconds: 0,
  },
  /** Staging moves fast, production waits longer for its alarms (seconds). */
  checkpointDelaySeconds: { default: 300, production: 300 },
  bakeTimeSeconds: { default: 300, production: 600 },
  warmPool: { state: "Stopped", minSize: 0, reuseOnScaleIn: true },
  /** MaxHealthyPercentage = minHealthyPercentage + this, at most 200 (AWS allows a difference of 100). */
  maxHealthySpread: 100,
  natGateways: { default: "single", production: "per-az" },
  logRetentionDays: { default: 30, production: 90 },
  /** Build instance for arm64 (Graviton) images. */
  armBuildInstanceType: "t4g.small",
} as const;

/** Environment names that get production defaults (deletion protection, longer log retention). */
export const PRODUCTION_NAMES: readonly string[] = ["production", "prod"];
