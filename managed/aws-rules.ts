/**
 * What AWS accepts: regions, identifier shapes and length limits, kept in one place so that the
 * config validation, the generator's prompts and the stacks agree.
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
  certificateArn: /^arn:aws(-cn|-us-gov)?:acm:([a-z0-9-]+):(\d{12}):certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  /** A name that can be an environment variable and the last segment of an SSM parameter name. */
  parameterKey: /^[A-Za-z][A-Za-z0-9_]{0,127}$/,
  /** An SSM parameter name for `resolve:ssm:` and the AMI publish parameter. */
  ssmParameterName: /^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,14}$/,
  /** An HTTP health-check path the ALB accepts. */
  healthCheckPath: /^\/[A-Za-z0-9\/_.~%-]{0,1023}$/,
  /** Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path. */
  containerImage: /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
  s3Bucket: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  s3KeyPrefix: /^[A-Za-z0-9!_.*'()\/-]{1,512}$/,
} as const;

/** Values accepted by CloudWatch Logs retention_in_days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** AWS name limits that bound the app and environment names once they are combined. */
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
  "con", "prn", "aux", "nul",
  "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
  "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
]);
