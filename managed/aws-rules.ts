/**
 * What AWS accepts, in one place: regions, identifier shapes, name limits and reserved names, and the
 * rules of the instance-refresh API, each with the AWS document it comes from. The config validation,
 * the generator, the stacks and the rollout command all ask this module; tests check synthesized
 * stacks and every printed AWS CLI command against it.
 */

/** Regions this tool knows, with the availability-zone letters a new VPC uses by default. */
export const REGIONS: Readonly<Record<string, readonly string[]>> = {
  "us-east-1": ["a", "b", "c"],
  "us-east-2": ["a", "b", "c"],
  "us-west-1": ["a", "c"],
  "us-west-2": ["a", "b", "c"],
  "af-south-1": ["a", "b", "c"],
  "ap-east-1": ["a", "b", "c"],
  "ap-east-2": ["a", "b", "c"],
  "ap-south-1": ["a", "b", "c"],
  "ap-south-2": ["a", "b", "c"],
  "ap-northeast-1": ["a", "c", "d"],
  "ap-northeast-2": ["a", "b", "c"],
  "ap-northeast-3": ["a", "b", "c"],
  "ap-southeast-1": ["a", "b", "c"],
  "ap-southeast-2": ["a", "b", "c"],
  "ap-southeast-3": ["a", "b", "c"],
  "ap-southeast-4": ["a", "b", "c"],
  "ap-southeast-5": ["a", "b", "c"],
  "ap-southeast-7": ["a", "b", "c"],
  "ca-central-1": ["a", "b", "d"],
  "ca-west-1": ["a", "b", "c"],
  "eu-central-1": ["a", "b", "c"],
  "eu-central-2": ["a", "b", "c"],
  "eu-north-1": ["a", "b", "c"],
  "eu-south-1": ["a", "b", "c"],
  "eu-south-2": ["a", "b", "c"],
  "eu-west-1": ["a", "b", "c"],
  "eu-west-2": ["a", "b", "c"],
  "eu-west-3": ["a", "b", "c"],
  "il-central-1": ["a", "b", "c"],
  "me-central-1": ["a", "b", "c"],
  "me-south-1": ["a", "b", "c"],
  "mx-central-1": ["a", "b", "c"],
  "sa-east-1": ["a", "b", "c"],
  "us-gov-east-1": ["a", "b", "c"],
  "us-gov-west-1": ["a", "b", "c"],
  "cn-north-1": ["a", "b"],
  "cn-northwest-1": ["a", "b", "c"],
};

/** The ARN partition of a region. */
export function partitionOf(region: string): "aws" | "aws-cn" | "aws-us-gov" {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The DNS suffix of service endpoints and service principals in a region's partition. */
export function dnsSuffixOf(region: string): string {
  return partitionOf(region) === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}

/** Default availability zones of a region for a new VPC: the first `count` known zones. */
export function defaultAvailabilityZones(region: string, count: number): string[] {
  // hasOwn: a region typed as "constructor" or "__proto__" must not find Object.prototype's members.
  return (Object.hasOwn(REGIONS, region) ? REGIONS[region] : []).slice(0, count).map((letter) => `${region}${letter}`);
}

export type Architecture = "x86_64" | "arm64";

/**
 * The CPU architecture of an instance type: Graviton families carry a "g" among the letters after
 * their generation (t4g, m7g, c7gn, im4gn, g5g), and a1 is Graviton too; everything else is x86_64.
 */
export function architectureOf(instanceType: string): Architecture {
  const match = /^([a-z]+)(\d+)([a-z]*)/.exec(instanceType);
  if (!match) return "x86_64";
  const [, family, , attributes] = match;
  return family === "a" || attributes.includes("g") ? "arm64" : "x86_64";
}

export const PATTERNS = {
  /** App and environment names: they prefix AWS names, SSM paths, npm package names and file names. */
  name: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
  amiId: /^ami-[0-9a-f]{8,17}$/,
  vpcId: /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/,
  subnetId: /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/,
  /** family[-variant].size, e.g. t3.small, m7i-flex.large, c6in.32xlarge, u-6tb1.metal, mac2-m2.metal */
  instanceType: /^[a-z][a-z0-9]*(-[a-z0-9]+)*\.(nano|micro|small|medium|large|[1-9][0-9]?xlarge|xlarge|metal(-[0-9]+xl)?)$/,
  certificateArn:
    /^arn:aws(-cn|-us-gov)?:acm:([a-z0-9-]+):(\d{12}):certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  /** A name that can be an environment variable and the last segment of an SSM parameter name. */
  parameterKey: /^[A-Za-z][A-Za-z0-9_]{0,127}$/,
  /** An SSM parameter name for `resolve:ssm:` and the AMI publish parameter. */
  ssmParameterName: /^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,14}$/,
  /** An HTTP health-check path the ALB accepts. */
  healthCheckPath: /^\/[A-Za-z0-9/_.~%-]{0,1023}$/,
  /** Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path. */
  containerImage:
    /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
  s3Bucket: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  /** GitHub `owner/name`: owners are letters, digits and single hyphens; names add _ and . (not . or ..). */
  githubRepository: /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/(?!\.\.?$)[A-Za-z0-9_.-]{1,100}$/,
  /** IAM OIDC provider ARN for GitHub Actions' token issuer. */
  githubOidcProviderArn: /^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
  /** A git branch name without the characters git refuses, spaces or leading dashes. */
  gitBranch: /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]{1,200}(?<![./])$/,
  s3KeyPrefix: /^[A-Za-z0-9!_.*'()/-]{1,512}$/,
} as const;

/** Values accepted by CloudWatch Logs retention_in_days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * AWS name limits that bound the app and environment names once they are combined.
 * - Load balancer: "can have a maximum of 32 characters" (ELBv2 API, CreateLoadBalancer Name).
 * - IAM role name_prefix: role names are 1-64 characters (IAM API, CreateRole RoleName) and the
 *   provider appends a 26-character unique suffix, leaving 38.
 * - S3 bucket_prefix: names are 3-63 characters (S3 User Guide, bucketnamingrules.html) less the
 *   provider's 26-character suffix, leaving 37; ours is `<app>-<env>-`, at most 34.
 */
export const LIMITS = {
  /** aws_lb.name: `<app>-<env>`. */
  loadBalancerName: 32,
  /** aws_iam_role.name_prefix: `<app>-<env>-`. */
  iamNamePrefix: 38,
  appName: 20,
  environmentName: 12,
  /** npm package names. */
  packageName: 214,
  configValue: 4096,
  tagKey: 128,
  tagValue: 256,
  maxEnvironments: 50,
  maxCapacity: 1000,
} as const;

/** Names Windows reserves; refused so a generated project can be checked out anywhere. */
export const RESERVED_DEVICE_NAMES = new Set([
  "con",
  "prn",
  "aux",
  "nul",
  "com1",
  "com2",
  "com3",
  "com4",
  "com5",
  "com6",
  "com7",
  "com8",
  "com9",
  "lpt1",
  "lpt2",
  "lpt3",
  "lpt4",
  "lpt5",
  "lpt6",
  "lpt7",
  "lpt8",
  "lpt9",
]);

/**
 * "Regions available before August 2022": the bucket policy names the Elastic Load Balancing
 * account of the region as principal (`arn:aws:iam::<elb-account-id>:root`). Regions opened later
 * use the service principal {@link ELB_LOG_DELIVERY_SERVICE} instead.
 * Source: Elastic Load Balancing User Guide, enable-access-logging.html ("Attach a policy to your S3
 * bucket"); the same ids are the provider's aws_elb_service_account table
 * (internal/service/elb/service_account_data_source.go), which adds the two China regions.
 */
export const ELB_ACCOUNT_IDS: Readonly<Record<string, string>> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ap-east-1": "754344448648",
  "ap-southeast-3": "589379963580",
  "ap-south-1": "718504428378",
  "ap-northeast-3": "383597477331",
  "ap-northeast-2": "600734575887",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-northeast-1": "582318560864",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-south-1": "635631232127",
  "eu-west-3": "009996457667",
  "eu-north-1": "897822967062",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
  "us-gov-west-1": "048591011584",
  "us-gov-east-1": "190560391635",
  "cn-north-1": "638102146993",
  "cn-northwest-1": "037604701340",
};

/** "Regions available as of August 2022 or later": the log delivery service principal (same page). */
export const ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com";

/** The principal an access-log bucket policy grants s3:PutObject to, for a region. */
export function elbLogDeliveryPrincipal(region: string): { readonly AWS: string } | { readonly Service: string } {
  const account = Object.hasOwn(ELB_ACCOUNT_IDS, region) ? ELB_ACCOUNT_IDS[region] : undefined;
  return account ? { AWS: `arn:${partitionOf(region)}:iam::${account}:root` } : { Service: ELB_LOG_DELIVERY_SERVICE };
}

/**
 * Why AWS (or the image, or a reader of the generated files) would reject an app name, or undefined.
 * The name prefixes SSM parameter paths, log groups, KMS aliases, load balancer, bucket and role names.
 */
export function reservedAppNameReason(name: string): string | undefined {
  // SSM API, PutParameter Name: "A parameter name can't be prefixed with "aws" or "ssm"
  // (case-insensitive)", and the ban covers the first path segment ("/aws/testparam1" fails).
  if (/^(aws|ssm)/.test(name)) return "starts with aws or ssm, which SSM Parameter Store reserves for parameter names (/<app>/...)";
  // ELBv2 API, CreateLoadBalancer Name: "must not begin with "internal-"" (ours is <app>-<env>).
  if (name === "internal" || name.startsWith("internal-")) return "would make load balancer names begin with internal-, which ELB refuses";
  // S3 User Guide, bucketnamingrules.html: "must not start with the prefix sthree-" / "amzn-s3-demo-"
  // (the access-log bucket is named <app>-<env>-...).
  if (name === "sthree" || name.startsWith("sthree-")) return "would make bucket names start with sthree-, which S3 reserves";
  if (name.startsWith("amzn-s3-demo")) return "would make bucket names start with amzn-s3-demo-, which S3 reserves";
  return undefined;
}

/** Why an environment name would clash with something the project itself names, or undefined. */
export function reservedEnvironmentNameReason(name: string): string | undefined {
  if ((RESERVED_STACK_NAMES as readonly string[]).includes(name)) return `"${name}" is the name of the project's own ${name} stack`;
  return undefined;
}

/** Stacks every project has besides its environments. */
export const RESERVED_STACK_NAMES = ["bootstrap"] as const;

/**
 * StartInstanceRefresh preferences (Auto Scaling API reference, RefreshPreferences and
 * AlarmSpecification). Only the fields the project sets.
 */
export interface RefreshPreferences {
  readonly MinHealthyPercentage?: number;
  readonly MaxHealthyPercentage?: number;
  readonly InstanceWarmup?: number;
  readonly SkipMatching?: boolean;
  readonly AutoRollback?: boolean;
  readonly ScaleInProtectedInstances?: string;
  readonly StandbyInstances?: string;
  readonly AlarmSpecification?: { readonly Alarms?: readonly string[] };
  readonly CheckpointPercentages?: readonly number[];
  readonly CheckpointDelay?: number;
  readonly BakeTime?: number;
}

/** What the refresh will run with, besides its preferences: the rollback prerequisites depend on it. */
export interface RefreshContext {
  /** DesiredConfiguration.LaunchTemplate.Version, when the refresh has a desired configuration. */
  readonly desiredVersion?: string;
  /** The launch template version the group is on (what a rollback returns to). */
  readonly groupVersion?: string;
  /** The launch template's image is `resolve:ssm:<parameter>`. */
  readonly imageFromSsm: boolean;
}

/** Every way `prefs` breaks AWS's rules for StartInstanceRefresh; [] when AWS accepts them. */
export function refreshPreferenceProblems(prefs: RefreshPreferences, context?: RefreshContext): string[] {
  const problems: string[] = [];
  const { MinHealthyPercentage: min, MaxHealthyPercentage: max } = prefs;
  // RefreshPreferences.MinHealthyPercentage: "Value range is 0 to 100."
  if (min !== undefined && !(Number.isInteger(min) && min >= 0 && min <= 100)) problems.push(`MinHealthyPercentage ${min} is not 0 to 100`);
  // RefreshPreferences.MaxHealthyPercentage: "Value range is 100 to 200. If you specify
  // MaxHealthyPercentage, you must also specify MinHealthyPercentage, and the difference between
  // them cannot be greater than 100."
  if (max !== undefined) {
    if (!(Number.isInteger(max) && max >= 100 && max <= 200)) problems.push(`MaxHealthyPercentage ${max} is not 100 to 200`);
    if (min === undefined) problems.push("MaxHealthyPercentage is set without MinHealthyPercentage");
    else if (max - min > 100) problems.push(`MaxHealthyPercentage ${max} - MinHealthyPercentage ${min} = ${max - min}, more than 100`);
  }
  // RefreshPreferences.InstanceWarmup: a number of seconds, at least 0.
  if (prefs.InstanceWarmup !== undefined && !(Number.isInteger(prefs.InstanceWarmup) && prefs.InstanceWarmup >= 0)) {
    problems.push(`InstanceWarmup ${prefs.InstanceWarmup} is not a whole number of seconds >= 0`);
  }
  // ScaleInProtectedInstances: Refresh | Ignore | Wait; StandbyInstances: Terminate | Ignore | Wait.
  if (prefs.ScaleInProtectedInstances !== undefined && !["Refresh", "Ignore", "Wait"].includes(prefs.ScaleInProtectedInstances)) {
    problems.push(`ScaleInProtectedInstances ${prefs.ScaleInProtectedInstances} is not Refresh, Ignore or Wait`);
  }
  if (prefs.StandbyInstances !== undefined && !["Terminate", "Ignore", "Wait"].includes(prefs.StandbyInstances)) {
    problems.push(`StandbyInstances ${prefs.StandbyInstances} is not Terminate, Ignore or Wait`);
  }
  // AlarmSpecification.Alarms: "You can specify up to 10 alarms."; each name 1-255 characters.
  const alarms = prefs.AlarmSpecification?.Alarms;
  if (alarms !== undefined) {
    if (alarms.length > 10) problems.push(`AlarmSpecification names ${alarms.length} alarms; AWS allows 10`);
    for (const alarm of alarms)
      if (alarm.length < 1 || alarm.length > 255) problems.push(`alarm name ${JSON.stringify(alarm)} is not 1 to 255 characters`);
  }
  // CheckpointPercentages: "in ascending order. Each number must be unique"; CheckpointDelay needs them.
  const checkpoints = prefs.CheckpointPercentages;
  if (checkpoints?.some((p, i) => !(p >= 1 && p <= 100) || (i > 0 && p <= checkpoints[i - 1]))) {
    problems.push("CheckpointPercentages must be ascending, unique, 1 to 100");
  }
  if (prefs.CheckpointDelay !== undefined && checkpoints === undefined)
    problems.push("CheckpointDelay is set without CheckpointPercentages");
  // "To replace all instances in the Auto Scaling group, the last number in the array must be 100."
  if (checkpoints !== undefined && checkpoints.length > 0 && checkpoints[checkpoints.length - 1] !== 100)
    problems.push("the last of CheckpointPercentages must be 100, or the refresh stops before it replaced every instance");
  const delay = prefs.CheckpointDelay;
  if (delay !== undefined && !(Number.isInteger(delay) && delay >= 0 && delay <= REFRESH_LIMITS.checkpointDelayMax))
    problems.push(`CheckpointDelay ${delay} is not 0 to ${REFRESH_LIMITS.checkpointDelayMax} seconds`);
  const bake = prefs.BakeTime;
  if (bake !== undefined && !(Number.isInteger(bake) && bake >= 0 && bake <= REFRESH_LIMITS.bakeTimeMax))
    problems.push(`BakeTime ${bake} is not 0 to ${REFRESH_LIMITS.bakeTimeMax} seconds`);
  if (prefs.AutoRollback && context) problems.push(...rollbackProblems(context));
  return problems;
}

/**
 * Why AWS cannot roll a refresh back (RefreshPreferences.AutoRollback: "A rollback is not supported
 * in the following situations: There is no desired configuration specified for the instance refresh.
 * The Auto Scaling group has a launch template that uses an Amazon Web Services Systems Manager
 * parameter instead of an AMI ID for the ImageId property. The Auto Scaling group uses the launch
 * template's $Latest or $Default version."). AWS answers ValidationError or IrreversibleInstanceRefresh.
 */
export function rollbackProblems(context: RefreshContext): string[] {
  const problems: string[] = [];
  if (context.desiredVersion === undefined) problems.push("AutoRollback needs a DesiredConfiguration");
  else if (!NUMBERED_VERSION.test(context.desiredVersion)) {
    // After success the group is saved with the desired version; a $Latest/$Default there would make
    // the next refresh impossible to roll back.
    problems.push(`the desired launch template version ${context.desiredVersion} is not a numbered version`);
  }
  if (context.groupVersion !== undefined && !NUMBERED_VERSION.test(context.groupVersion)) {
    problems.push(`the group runs launch template version ${context.groupVersion}; AWS rolls back only to a numbered version`);
  }
  if (context.imageFromSsm) problems.push("the launch template's image is a resolve:ssm: parameter, which AWS cannot roll back to");
  return problems;
}

const NUMBERED_VERSION = /^[1-9][0-9]*$/;

/**
 * Statuses of DescribeInstanceRefreshes' InstanceRefresh.Status (Auto Scaling API reference,
 * InstanceRefreshStatus). A refresh has ended in Successful, Failed, Cancelled, RollbackSuccessful or
 * RollbackFailed (User Guide, check-status-instance-refresh.html).
 */
export const REFRESH_STATUSES = {
  active: ["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"],
  ended: ["Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"],
} as const;

/**
 * The ranges of the refresh preferences that pace a release (Auto Scaling API reference,
 * RefreshPreferences): "BakeTime ... Valid Range: Minimum value of 0. Maximum value of 172800";
 * "CheckpointDelay ... Valid Range: Minimum value of 0. Maximum value of 172800"; "If you specify a value
 * for CheckpointPercentages and not for CheckpointDelay, the CheckpointDelay defaults to 3600".
 */
export const REFRESH_LIMITS = { bakeTimeMax: 172800, checkpointDelayMax: 172800 } as const;

/**
 * How soon a CloudWatch alarm can act on what users see.
 * - The load balancer's metrics have 60-second data points: "Elastic Load Balancing reports metrics to
 *   CloudWatch only when requests are flowing through the load balancer ... every 60 seconds" (ELB User
 *   Guide, load-balancer-cloudwatch-metrics.html), so an alarm's period is 60 s.
 * - An alarm needs datapointsToAlarm breaching data points of its evaluation periods (CloudWatch User
 *   Guide, AlarmThatSendsEmail.html, "Evaluating an alarm"), and the first minute in which errors start
 *   may be only partly bad: one more period.
 * - metricDelaySeconds: AWS documents no bound on the time between a request and its data point being
 *   visible to an alarm. This is an assumption (two periods), kept here so that every figure that depends
 *   on it moves together; it is not a fact read in AWS's documentation.
 */
export const ALARM_TIMING = { periodSeconds: 60, metricDelaySeconds: 120 } as const;

/** The seconds from the start of bad behaviour until an alarm of `datapointsToAlarm` periods can be in ALARM. */
export function alarmReactionSeconds(datapointsToAlarm: number): number {
  return (datapointsToAlarm + 1) * ALARM_TIMING.periodSeconds + ALARM_TIMING.metricDelaySeconds;
}

/**
 * The first checkpoint that makes exactly one instance of `capacity` the canary. "These checkpoints
 * indicate the minimum percentage of instances in the Auto Scaling group that must be new instances
 * before the checkpoint is considered reached" and AWS "will sometimes replace fewer but never more"
 * (User Guide, asg-adding-checkpoints-instance-refresh.html): ceil(p * capacity / 100) new instances
 * reach p, which is 1 for p = floor(100 / capacity).
 */
export function oneInstanceCheckpoint(capacity: number): number {
  return Math.max(1, Math.floor(100 / Math.max(1, capacity)));
}

/** New instances needed to reach checkpoint `percentage` of `capacity` (same page). */
export function instancesAtCheckpoint(percentage: number, capacity: number): number {
  return Math.ceil((percentage * capacity) / 100 - 1e-9);
}

/**
 * Burstable instance families' baseline CPU per vCPU (EC2 User Guide, burstable-credits-baseline-concepts.html,
 * "Baseline utilization"): above it an instance spends credits, and in unlimited mode pays for surplus ones.
 */
export const BURSTABLE_BASELINE_PERCENT: Readonly<Record<string, number>> = {
  "t3.nano": 5,
  "t3.micro": 10,
  "t3.small": 20,
  "t3.medium": 20,
  "t3.large": 30,
  "t3.xlarge": 40,
  "t3.2xlarge": 40,
  "t3a.nano": 5,
  "t3a.micro": 10,
  "t3a.small": 20,
  "t3a.medium": 20,
  "t3a.large": 30,
  "t3a.xlarge": 40,
  "t3a.2xlarge": 40,
  "t4g.nano": 5,
  "t4g.micro": 10,
  "t4g.small": 20,
  "t4g.medium": 20,
  "t4g.large": 30,
  "t4g.xlarge": 40,
  "t4g.2xlarge": 40,
};

/** T2, T3, T3a and T4g are burstable (EC2 User Guide, burstable-performance-instances.html). */
export function isBurstable(instanceType: string): boolean {
  return /^t(2|3|3a|4g)\./.test(instanceType);
}
