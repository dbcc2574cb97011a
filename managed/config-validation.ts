/**
 * Turns an untrusted JSON value into an AppConfig: every problem is collected and reported at once,
 * each naming its field (`environments[1].maxCapacity`), and the defaults of config.ts are filled in.
 */
import {
  type AmiSource,
  type AppConfig,
  DEFAULTS,
  PRODUCTION_NAMES,
  type EnvironmentConfig,
  type GitHubConfig,
  type ImageConfig,
  type NatGateways,
  type NetworkConfig,
  type S3BackendConfig,
} from "./config";
import {
  BURSTABLE_BASELINE_PERCENT,
  LIMITS,
  LOG_RETENTION_DAYS,
  PATTERNS,
  REGIONS,
  RESERVED_DEVICE_NAMES,
  architectureOf,
  defaultAvailabilityZones,
  partitionOf,
  refreshPreferenceProblems,
  reservedAppNameReason,
  reservedEnvironmentNameReason,
} from "./aws-rules";
import { readReleaseSettings, RELEASE_FIELDS, RETIRED_FIELDS } from "./release-config";
import { type Cidr, contains, formatCidr, overlaps, parseCidr, subnet } from "./cidr";
import { defaultAmiParameter, MANAGED_TAG_KEYS, parameterPath, RESERVED_ENV_NAMES, resourcePrefix } from "./names";
import { ConfigError, type ConfigProblem, type Json, Reader, describe, isPlainObject, join, quote } from "./json-reader";

export { ConfigError, quote };
export type { ConfigProblem };

/**
 * Validates `input` and returns the resolved configuration with every default filled in.
 * @throws ConfigError listing every problem, each naming its field.
 */
export function resolveConfig(input: unknown): AppConfig {
  const r = new Reader();
  const config = readConfig(r, input);
  if (r.problems.length > 0 || config === undefined) throw new ConfigError(r.problems);
  return config;
}

/** Like resolveConfig, but returns the problems instead of throwing. */
export function checkConfig(input: unknown): readonly ConfigProblem[] {
  const r = new Reader();
  readConfig(r, input);
  return r.problems;
}

function readConfig(r: Reader, input: Json): AppConfig | undefined {
  if (!isPlainObject(input)) {
    r.fail("(root)", `the configuration must be a JSON object, got ${describe(input)}`);
    return undefined;
  }
  const o = r.object("", input, [
    "$schema",
    "appName",
    "region",
    "appPort",
    "healthCheckPath",
    "healthCheckMatcher",
    "certificateArn",
    "amiSource",
    "network",
    "config",
    "secrets",
    "tags",
    "backend",
    "image",
    "environments",
    "waf",
    "github",
  ])!;
  r.string("$schema", o.$schema);

  const appName = readName(r, "appName", o.appName, LIMITS.appName, true, reservedAppNameReason);
  const region = r.string("region", o.region, DEFAULTS.region)!;
  if (!Object.hasOwn(REGIONS, region)) {
    r.fail("region", `${quote(region)} is not a known AWS region; ${regionHint(region)}`);
  }
  const appPort = r.integer("appPort", o.appPort, 1, 65535, DEFAULTS.appPort);
  if (appPort === 22) r.fail("appPort", "22 is the SSH port; this architecture opens no port 22 anywhere");
  const healthCheckPath = r.matching(
    "healthCheckPath",
    o.healthCheckPath,
    PATTERNS.healthCheckPath,
    "a URL path starting with / (letters, digits, / _ . ~ % -)",
    DEFAULTS.healthCheckPath,
  )!;
  const healthCheckMatcher = readMatcher(r, o.healthCheckMatcher);
  const certificateArn = readCertificate(r, "certificateArn", o.certificateArn, region);
  const amiSource = readAmiSource(r, "amiSource", o.amiSource) ?? { mode: "variable" as const };
  const network = readNetwork(r, o.network, region);
  const config = readConfigValues(r, "config", o.config);
  const secrets = readSecrets(r, o.secrets, config);
  const tags = r.map(
    "tags",
    o.tags,
    /^(?!aws:)[\p{L}\p{M}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u,
    "a tag key (1-128 letters, digits, spaces, _ . : / = + - @; not starting with aws:)",
    (field, value) => {
      if (value.length > LIMITS.tagValue) r.fail(field, `is ${value.length} characters; AWS allows ${LIMITS.tagValue}`);
      if (!/^[\p{L}\p{M}\p{Z}\p{N}_.:/=+\-@]*$/u.test(value)) {
        r.fail(field, `${quote(value)} has characters AWS does not allow in tag values (letters, digits, spaces, _ . : / = + - @)`);
      }
      const why = secretValueReason(value);
      if (why) r.fail(field, `looks like a secret (${why}); tags are readable by anyone who can list the resources`);
    },
  );
  for (const key of Object.keys(tags)) {
    if ((MANAGED_TAG_KEYS as readonly string[]).includes(key)) {
      r.fail(join("tags", key), `"${key}" is set by the stacks themselves on every resource`);
    }
  }
  const backend = readBackend(r, o.backend, appName, region);
  const waf = r.boolean("waf", o.waf, DEFAULTS.waf);
  const github = readGitHub(r, o.github, region);
  const natGateways = network.mode === "new" ? network.natGateways : undefined;
  const environments = readEnvironments(r, o.environments, appName, { certificateArn, amiSource, region, natGateways, waf });
  if (github) checkCiScopes(r, environments);
  const image = readImage(r, o.image, appName, environments);
  checkImageParameters(r, appName, amiSource, environments, o.image);

  if (appName === undefined) return undefined;
  return {
    appName,
    region,
    appPort,
    healthCheckPath,
    healthCheckMatcher,
    amiSource,
    network,
    config,
    secrets,
    tags,
    image,
    environments,
    waf,
    ...(certificateArn ? { certificateArn } : {}),
    ...(backend ? { backend } : {}),
    ...(github ? { github } : {}),
  };
}

/** The known regions that share the mistaken one's area (eu-, ap-southeast-, ...), or a few examples. */
function regionHint(region: string): string {
  const area = /^[a-z]+-/.exec(region.trim().toLowerCase())?.[0];
  const near = Object.keys(REGIONS).filter((known) => area !== undefined && known.startsWith(area));
  return near.length > 0 ? `known in that area: ${near.join(", ")}` : "e.g. us-east-1, eu-west-1, ap-southeast-2";
}

function readName(
  r: Reader,
  field: string,
  value: Json,
  max: number,
  required: boolean,
  reserved: (name: string) => string | undefined,
): string | undefined {
  if (value === undefined) {
    if (required) r.fail(field, "is required");
    return undefined;
  }
  const name = r.string(field, value);
  if (name === undefined) return undefined;
  if (name.length === 0) {
    r.fail(field, "must not be empty");
  } else if (name.length > max) {
    r.fail(field, `${quote(name)} is ${name.length} characters; at most ${max} fit into AWS name limits once prefixed`);
  } else if (RESERVED_DEVICE_NAMES.has(name)) {
    r.fail(field, `${quote(name)} is a reserved device name on Windows`);
  } else if (!PATTERNS.name.test(name)) {
    r.fail(
      field,
      `${quote(name)} must start with a lower-case letter and contain only lower-case letters, digits and single hyphens (not at the end)`,
    );
  } else if (reserved(name)) {
    r.fail(field, `${quote(name)} ${reserved(name)}; choose another name`);
  }
  return name;
}

function readCertificate(r: Reader, field: string, value: Json, region: string): string | undefined {
  const arn = r.matching(
    field,
    value,
    PATTERNS.certificateArn,
    "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
  );
  if (arn === undefined) return undefined;
  const m = PATTERNS.certificateArn.exec(arn);
  if (m && m[2] !== region)
    r.fail(field, `the certificate is in ${m[2]}, but the load balancer is in ${region}; ACM certificates are regional`);
  else if (m && `aws${m[1] ?? ""}` !== partitionOf(region))
    r.fail(field, `arn:aws${m[1] ?? ""}: is not the partition of ${region} (arn:${partitionOf(region)}:)`);
  return arn;
}

function readAmiSource(r: Reader, field: string, value: Json): AmiSource | undefined {
  const text = r.string(field, value);
  if (text === undefined) return undefined;
  if (text === "variable") return { mode: "variable" };
  if (text.startsWith("resolve:ssm:")) {
    const parameter = text.slice("resolve:ssm:".length);
    if (!PATTERNS.ssmParameterName.test(parameter)) {
      r.fail(field, `${quote(parameter)} is not an SSM parameter name like /my-app/image/ami-id`);
    }
    return { mode: "ssm", parameter };
  }
  r.fail(field, `must be "variable" or "resolve:ssm:<parameter name>", got ${quote(text)}`);
  return undefined;
}

function readNetwork(r: Reader, value: Json, region: string): NetworkConfig {
  const d = DEFAULTS.network;
  const fallback: NetworkConfig = {
    mode: "new",
    cidr: d.cidr,
    azCount: d.azCount,
    vpcEndpoints: d.vpcEndpoints,
    availabilityZones: defaultAvailabilityZones(region, d.azCount),
    ...defaultSubnetCidrs(parseCidr(d.cidr) as Cidr, d.azCount),
  };
  const o = r.object("network", value, [
    "mode",
    "cidr",
    "azCount",
    "availabilityZones",
    "natGateways",
    "vpcEndpoints",
    "publicSubnetCidrs",
    "privateSubnetCidrs",
    "vpcId",
    "publicSubnetIds",
    "privateSubnetIds",
  ]);
  if (!o) return fallback;
  const mode = r.oneOf("network.mode", o.mode, ["new", "existing"] as const, "new");
  if (mode === "existing") {
    for (const k of ["cidr", "azCount", "availabilityZones", "natGateways", "vpcEndpoints", "publicSubnetCidrs", "privateSubnetCidrs"]) {
      if (o[k] !== undefined) r.fail(`network.${k}`, `applies to mode "new" only`);
    }
    const vpcId = r.matching("network.vpcId", o.vpcId, PATTERNS.vpcId, "a VPC id like vpc-0123456789abcdef0");
    if (vpcId === undefined) r.fail("network.vpcId", 'is required when network.mode is "existing"');
    const subnets = (key: "publicSubnetIds" | "privateSubnetIds"): string[] => {
      const field = `network.${key}`;
      const list = r.array(field, o[key], 16) ?? [];
      if (list.length < 2) r.fail(field, "needs at least two subnets, in two availability zones");
      const ids = list.map((v, i) => r.matching(`${field}[${i}]`, v, PATTERNS.subnetId, "a subnet id like subnet-0123456789abcdef0") ?? "");
      ids.forEach((id, i) => {
        if (id && ids.indexOf(id) !== i) r.fail(`${field}[${i}]`, `${id} is listed twice`);
      });
      return ids;
    };
    const publicSubnetIds = subnets("publicSubnetIds");
    const privateSubnetIds = subnets("privateSubnetIds");
    for (const id of publicSubnetIds) {
      if (id && privateSubnetIds.includes(id)) {
        r.fail("network.privateSubnetIds", `${id} is also a public subnet; instances belong in private subnets`);
      }
    }
    return { mode, vpcId: vpcId ?? "", publicSubnetIds, privateSubnetIds };
  }
  for (const k of ["vpcId", "publicSubnetIds", "privateSubnetIds"]) {
    if (o[k] !== undefined) r.fail(`network.${k}`, `applies to mode "existing" only`);
  }
  const cidr = r.string("network.cidr", o.cidr, d.cidr)!;
  let parsed = parseCidr(cidr);
  if (typeof parsed === "string") {
    r.fail("network.cidr", parsed);
  } else if (parsed.prefix < 16 || parsed.prefix > 23) {
    r.fail(
      "network.cidr",
      `${cidr} is a /${parsed.prefix}; use /16 to /23 (split into 16 subnets, a /23 gives /27s, the smallest a load balancer accepts)`,
    );
    parsed = "invalid";
  } else if (!PRIVATE_RANGES.some((range) => contains(range, parsed as Cidr))) {
    r.fail("network.cidr", `${cidr} is not a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)`);
  }
  const azCount = r.integer("network.azCount", o.azCount, 2, 6, d.azCount);
  const natGateways = o.natGateways === undefined ? undefined : r.oneOf("network.natGateways", o.natGateways, NAT_GATEWAYS, "single");
  const vpcEndpoints = r.boolean("network.vpcEndpoints", o.vpcEndpoints, d.vpcEndpoints);
  let availabilityZones: string[];
  if (o.availabilityZones === undefined) {
    availabilityZones = defaultAvailabilityZones(region, azCount);
    if (Object.hasOwn(REGIONS, region) && availabilityZones.length < azCount) {
      r.fail(
        "network.azCount",
        `${region} has ${availabilityZones.length} zones known to this tool; list them in network.availabilityZones`,
      );
    }
  } else {
    const list = r.array("network.availabilityZones", o.availabilityZones, 6) ?? [];
    availabilityZones = list.map(
      (v, i) =>
        r.matching(
          `network.availabilityZones[${i}]`,
          v,
          new RegExp(`^${escapeRegExp(region)}[a-z]$`),
          `a zone of ${region} like ${region}a`,
        ) ?? "",
    );
    if (availabilityZones.length !== azCount) {
      r.fail("network.availabilityZones", `lists ${availabilityZones.length} zones but network.azCount is ${azCount}`);
    }
    if (new Set(availabilityZones).size !== availabilityZones.length) r.fail("network.availabilityZones", "lists a zone twice");
  }
  const vpc = typeof parsed === "string" ? undefined : parsed;
  const defaults = vpc ? defaultSubnetCidrs(vpc, azCount) : { publicSubnetCidrs: [], privateSubnetCidrs: [] };
  const blocks: Array<{ field: string; cidr: Cidr }> = [];
  const subnetList = (key: "publicSubnetCidrs" | "privateSubnetCidrs"): string[] => {
    const field = `network.${key}`;
    if (o[key] === undefined) return defaults[key];
    const list = r.array(field, o[key], 6) ?? [];
    if (list.length !== azCount) r.fail(field, `lists ${list.length} blocks but network.azCount is ${azCount}; give one per zone`);
    // The load balancer needs /27 or larger in each of its subnets; instances can live in a /28.
    const smallest = key === "publicSubnetCidrs" ? 27 : 28;
    return list.map((v, i) => {
      const text = r.string(`${field}[${i}]`, v) ?? "";
      const block = parseCidr(text);
      if (typeof block === "string") {
        r.fail(`${field}[${i}]`, block);
      } else if (block.prefix > smallest) {
        r.fail(
          `${field}[${i}]`,
          smallest === 27
            ? `${text} is smaller than /27, the smallest subnet a load balancer accepts`
            : `${text} is smaller than /28, the smallest subnet AWS allows`,
        );
      } else if (vpc && !contains(vpc, block)) {
        r.fail(`${field}[${i}]`, `${text} is not inside the VPC block ${cidr}`);
      } else {
        const clash = blocks.find((b) => overlaps(b.cidr, block));
        if (clash) r.fail(`${field}[${i}]`, `${text} overlaps ${clash.field} (${formatCidr(clash.cidr)})`);
        blocks.push({ field: `${field}[${i}]`, cidr: block });
      }
      return text;
    });
  };
  const publicSubnetCidrs = subnetList("publicSubnetCidrs");
  const privateSubnetCidrs = subnetList("privateSubnetCidrs");
  return {
    mode,
    cidr,
    azCount,
    vpcEndpoints,
    availabilityZones,
    publicSubnetCidrs,
    privateSubnetCidrs,
    ...(natGateways ? { natGateways } : {}),
  };
}

const NAT_GATEWAYS: readonly NatGateways[] = ["single", "per-az"];

const PRIVATE_RANGES: readonly Cidr[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map(
  (text) => parseCidr(text) as Cidr,
);

/** The default layout: the VPC split into 16 blocks; public subnets first, private from the ninth. */
function defaultSubnetCidrs(vpc: Cidr, azCount: number): { publicSubnetCidrs: string[]; privateSubnetCidrs: string[] } {
  const zones = Array.from({ length: azCount }, (_, i) => i);
  return {
    publicSubnetCidrs: zones.map((i) => formatCidr(subnet(vpc, 4, i))),
    privateSubnetCidrs: zones.map((i) => formatCidr(subnet(vpc, 4, 8 + i))),
  };
}

/** Keys and values of plain config; refuses values that are obviously secrets. */
function readConfigValues(r: Reader, field: string, value: Json): Record<string, string> {
  return r.map(
    field,
    value,
    PATTERNS.parameterKey,
    "a name like DATABASE_HOST (letter first, then letters, digits, _; at most 128)",
    (path, v) => {
      const key = path.slice(field.length + 1);
      if (RESERVED_ENV_NAMES.test(key)) r.fail(path, `${key} is set by the image itself; choose another name`);
      if (v.length === 0) r.fail(path, "must not be empty (SSM parameters cannot be empty)");
      if (Buffer.byteLength(v, "utf8") > LIMITS.configValue)
        r.fail(path, `is over ${LIMITS.configValue} bytes, the SSM standard-tier limit`);
      if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v)) r.fail(path, "contains control characters (only newline and tab are allowed)");
      if (LONE_SURROGATE.test(v)) r.fail(path, "contains a lone UTF-16 surrogate, which no file can carry");
      const why = secretReason(path.split(".").pop() ?? "", v);
      if (why)
        r.fail(path, `looks like a secret (${why}); make it a secret instead (only its name is stored; the value is set out of band)`);
    },
  );
}

/** Half of a UTF-16 surrogate pair without the other half (JSON's "\ud800" escape can produce one). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const SECRET_VALUE_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\bsk_(live|test)_[A-Za-z0-9]{16,}/, "a Stripe key"],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, "a JSON web token"],
  [/:\/\/[^\s:/@]+:[^\s@/]+@/, "a URL with a password"],
];
const SECRET_KEY_PATTERN = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

function secretValueReason(value: string): string | undefined {
  for (const [pattern, what] of SECRET_VALUE_PATTERNS) if (pattern.test(value)) return `the value contains ${what}`;
  return undefined;
}

function secretReason(key: string, value: string): string | undefined {
  const why = secretValueReason(value);
  if (why) return why;
  if (SECRET_KEY_PATTERN.test(key)) return `the key ${key} names a secret`;
  return undefined;
}

function readSecrets(r: Reader, value: Json, config: Record<string, string>): string[] {
  const list = r.array("secrets", value, 100) ?? [];
  const names: string[] = [];
  list.forEach((v, i) => {
    const field = `secrets[${i}]`;
    if (typeof v !== "string") {
      r.fail(field, `must be a secret's name (not its value), got ${describe(v)}`);
      return;
    }
    if (RESERVED_ENV_NAMES.test(v)) {
      r.fail(field, `${v} is set by the image itself; choose another name`);
    } else if (!PATTERNS.parameterKey.test(v)) {
      r.fail(field, `${quote(v)} is not a name like DATABASE_PASSWORD (letter first, then letters, digits, _; at most 128)`);
    } else if (names.includes(v)) {
      r.fail(field, `${v} is listed twice`);
    } else if (secretValueReason(v)) {
      r.fail(field, `looks like a secret's value (${secretValueReason(v)}), not its name; list names only and set values out of band`);
    } else if (Object.hasOwn(config, v)) {
      r.fail(field, `${v} is also a plain config key; a name is either config or secret`);
    }
    names.push(v);
  });
  return names;
}

function readBackend(r: Reader, value: Json, appName: string | undefined, region: string): S3BackendConfig | undefined {
  const o = r.object("backend", value, ["type", "bucket", "keyPrefix", "region"]);
  if (!o) return undefined;
  r.oneOf("backend.type", o.type, ["s3"] as const, "s3");
  const bucket = r.matching(
    "backend.bucket",
    o.bucket,
    PATTERNS.s3Bucket,
    "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)",
  );
  if (bucket === undefined) r.fail("backend.bucket", "is required for the S3 backend");
  else if (bucket.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(bucket))
    r.fail("backend.bucket", `${quote(bucket)} is not a valid S3 bucket name`);
  const keyPrefix = r.matching("backend.keyPrefix", o.keyPrefix, PATTERNS.s3KeyPrefix, "an S3 key prefix", appName ?? "app")!;
  if (keyPrefix.startsWith("/") || keyPrefix.endsWith("/") || keyPrefix.split("/").includes("..")) {
    r.fail("backend.keyPrefix", `${quote(keyPrefix)} must not start or end with / or contain ..`);
  }
  const backendRegion = r.string("backend.region", o.region, region)!;
  if (!Object.hasOwn(REGIONS, backendRegion))
    r.fail("backend.region", `${quote(backendRegion)} is not a known AWS region; ${regionHint(backendRegion)}`);
  return { bucket: bucket ?? "", keyPrefix, region: backendRegion };
}

function readImage(r: Reader, value: Json, appName: string | undefined, environments: readonly EnvironmentConfig[]): ImageConfig {
  const d = DEFAULTS.image;
  const o =
    r.object("image", value, ["containerImage", "baseOs", "buildInstanceType", "buildSubnetId", "amiParameter", "keepImages"]) ?? {};
  const containerImage = r.matching(
    "image.containerImage",
    o.containerImage,
    PATTERNS.containerImage,
    "a container image reference like ghcr.io/acme/web:1.2.3",
    d.containerImage,
  )!;
  const baseOs = r.oneOf("image.baseOs", o.baseOs, ["ubuntu-24.04", "al2023", "debian-12"] as const, d.baseOs);

  // One AMI serves every environment: their instance types must share its architecture.
  const architecture = environments.length > 0 ? architectureOf(environments[0].instanceType) : "x86_64";
  environments.forEach((env, i) => {
    const arch = architectureOf(env.instanceType);
    if (arch !== architecture) {
      r.fail(
        `environments[${i}].instanceType`,
        `${env.instanceType} is ${arch}, but ${environments[0].instanceType} (environments[0]) is ${architecture}; one image serves every environment`,
      );
    }
  });
  const buildInstanceType = r.matching(
    "image.buildInstanceType",
    o.buildInstanceType,
    PATTERNS.instanceType,
    "an EC2 instance type like t3.small",
    architecture === "arm64" ? DEFAULTS.armBuildInstanceType : d.buildInstanceType,
  )!;
  if (o.buildInstanceType !== undefined && architectureOf(buildInstanceType) !== architecture) {
    r.fail(
      "image.buildInstanceType",
      `${buildInstanceType} is ${architectureOf(buildInstanceType)}, but the environments run ${architecture}; bake on the same architecture`,
    );
  }

  // The bake publishes nowhere by default: an environment's image parameter is written only by that
  // environment's deploy (CI promotes the image that passed the environment before it), so no bake
  // reaches an environment's scale-outs untested.
  const validName = appName !== undefined && PATTERNS.name.test(appName);
  const amiParameter = r.string("image.amiParameter", o.amiParameter, "")!;
  const resolvedBy = environments.find((e) => e.amiSource.mode === "ssm" && e.amiSource.parameter === amiParameter);
  if (amiParameter !== "" && resolvedBy) {
    r.fail(
      "image.amiParameter",
      `${quote(amiParameter)} is the image parameter of ${resolvedBy.name}: a bake would put every new image into ${resolvedBy.name}'s scale-outs before any test; leave it "" (CI promotes the image into each environment's parameter when it deploys there)`,
    );
  }
  if (amiParameter !== "" && !PATTERNS.ssmParameterName.test(amiParameter)) {
    r.fail(
      "image.amiParameter",
      `${quote(amiParameter)} is not an SSM parameter name like ${validName ? defaultAmiParameter(appName) : "/my-app/image/ami-id"} ("" to skip publishing)`,
    );
  }
  const buildSubnetId = r.string("image.buildSubnetId", o.buildSubnetId, "")!;
  if (buildSubnetId !== "" && !PATTERNS.subnetId.test(buildSubnetId)) {
    r.fail("image.buildSubnetId", `${quote(buildSubnetId)} is not a subnet id like subnet-0123456789abcdef0 ("" for the default VPC)`);
  }
  const keepImages = r.integer("image.keepImages", o.keepImages, 1, 1000, d.keepImages);
  return { containerImage, baseOs, buildInstanceType, buildSubnetId, architecture, amiParameter, keepImages };
}

/**
 * An image parameter under an environment's own path (`/<app>/<env>/`) would be read at boot as that
 * environment's configuration, and the boot script refuses names that are not config/ or secret/.
 */
function checkImageParameters(
  r: Reader,
  appName: string | undefined,
  topLevel: AmiSource,
  environments: readonly EnvironmentConfig[],
  image: Json,
): void {
  if (appName === undefined || !PATTERNS.name.test(appName)) return;
  const clash = (parameter: string) => environments.find((e) => parameter.startsWith(parameterPath(appName, e.name)));
  const hint = `/${appName}/image/<env>/ami-id`;
  const reported = new Set<string>();
  const owner = new Map<string, string>();
  environments.forEach((env, i) => {
    if (env.amiSource.mode !== "ssm") return;
    const field = env.amiSource === topLevel ? "amiSource" : `environments[${i}].amiSource`;
    // One parameter per environment: a shared one would put the image one environment is given into the
    // scale-outs of every other before it passed them.
    const first = owner.get(env.amiSource.parameter);
    if (first !== undefined && !reported.has(`shared:${field}`)) {
      reported.add(`shared:${field}`);
      r.fail(
        field,
        `${env.name} and ${first} both resolve ${quote(env.amiSource.parameter)}: every instance either starts would take the image the other was given, untested; give each environment its own, like /${appName}/image/${env.name}/ami-id`,
      );
    }
    owner.set(env.amiSource.parameter, env.name);
    const other = clash(env.amiSource.parameter);
    if (other && !reported.has(field)) {
      reported.add(field);
      r.fail(
        field,
        `${quote(env.amiSource.parameter)} lies under ${parameterPath(appName, other.name)}, which instances read as their configuration; use a path like ${hint}`,
      );
    }
  });
  const explicit = isPlainObject(image) && typeof image.amiParameter === "string" ? image.amiParameter : undefined;
  const other = explicit ? clash(explicit) : undefined;
  if (explicit && other) {
    r.fail(
      "image.amiParameter",
      `${quote(explicit)} lies under ${parameterPath(appName, other.name)}, which instances read as their configuration; use a path like ${hint}`,
    );
  }
}

interface Inherited {
  readonly certificateArn?: string;
  readonly amiSource: AmiSource;
  readonly region: string;
  /** network.natGateways, when set: every environment's default. */
  readonly natGateways?: NatGateways;
  readonly waf: boolean;
}

function readEnvironments(r: Reader, value: Json, appName: string | undefined, inherited: Inherited): EnvironmentConfig[] {
  const list =
    value === undefined ? DEFAULTS.environmentNames.map((name) => ({ name })) : r.array("environments", value, LIMITS.maxEnvironments);
  if (list === undefined) return [];
  if (list.length === 0) r.fail("environments", "needs at least one environment");
  const envs: EnvironmentConfig[] = [];
  list.forEach((item, i) => {
    const env = readEnvironment(r, `environments[${i}]`, item, appName, inherited);
    if (!env) return;
    if (envs.some((e) => e.name === env.name)) r.fail(`environments[${i}].name`, `${env.name} is listed twice`);
    envs.push(env);
  });
  return envs;
}

function readEnvironment(
  r: Reader,
  field: string,
  value: Json,
  appName: string | undefined,
  inherited: Inherited,
): EnvironmentConfig | undefined {
  const o = r.object(field, value, [
    "name",
    "instanceType",
    "minCapacity",
    "maxCapacity",
    "desiredCapacity",
    "deletionProtection",
    "minHealthyPercentage",
    "instanceWarmupSeconds",
    "healthCheckGracePeriodSeconds",
    "cpuTargetPercent",
    "logRetentionDays",
    "certificateArn",
    "amiSource",
    "config",
    "maxHealthyPercentage",
    "natGateways",
    "waf",
    ...RELEASE_FIELDS,
    ...Object.keys(RETIRED_FIELDS),
  ]);
  if (!o) {
    if (value === undefined) r.fail(field, "must be an object");
    return undefined;
  }
  const d = DEFAULTS.environment;
  const name = readName(r, `${field}.name`, o.name, LIMITS.environmentName, true, reservedEnvironmentNameReason);
  if (name === undefined) return undefined;
  // The name is the stack's construct id, and constructs keeps children in a plain object.
  if (Object.hasOwn(Object.prototype, name))
    r.fail(`${field}.name`, `"${name}" cannot name a stack (cdktf would take it for an existing one)`);
  if (appName && PATTERNS.name.test(appName)) {
    const prefix = resourcePrefix(appName, name);
    if (prefix.length > LIMITS.loadBalancerName) {
      r.fail(
        `${field}.name`,
        `"${prefix}" (app name + environment) is ${prefix.length} characters; load balancer names allow ${LIMITS.loadBalancerName}`,
      );
    }
  }
  const production = PRODUCTION_NAMES.includes(name);
  const instanceType = r.matching(
    `${field}.instanceType`,
    o.instanceType,
    PATTERNS.instanceType,
    "an EC2 instance type like t3.small or m7g.large",
    d.instanceType,
  )!;
  const minCapacity = r.integer(`${field}.minCapacity`, o.minCapacity, 0, LIMITS.maxCapacity, d.minCapacity);
  const maxCapacity = r.integer(`${field}.maxCapacity`, o.maxCapacity, 1, LIMITS.maxCapacity, Math.max(d.maxCapacity, minCapacity));
  const desiredCapacity = r.integer(`${field}.desiredCapacity`, o.desiredCapacity, 0, LIMITS.maxCapacity, minCapacity);
  if (minCapacity > maxCapacity) {
    r.fail(`${field}.minCapacity`, `is ${minCapacity}, more than maxCapacity ${maxCapacity}`);
  } else if (desiredCapacity < minCapacity || desiredCapacity > maxCapacity) {
    r.fail(
      `${field}.desiredCapacity`,
      `is ${desiredCapacity}; it must lie between minCapacity ${minCapacity} and maxCapacity ${maxCapacity}`,
    );
  }
  const logRetentionDays = r.integer(
    `${field}.logRetentionDays`,
    o.logRetentionDays,
    1,
    3653,
    production ? DEFAULTS.logRetentionDays.production : DEFAULTS.logRetentionDays.default,
  );
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    r.fail(`${field}.logRetentionDays`, `${logRetentionDays} is not a CloudWatch retention; use one of ${LOG_RETENTION_DAYS.join(", ")}`);
  }
  const certificateArn =
    o.certificateArn === undefined
      ? inherited.certificateArn
      : readCertificate(r, `${field}.certificateArn`, o.certificateArn, inherited.region);
  const minHealthyPercentage = r.integer(`${field}.minHealthyPercentage`, o.minHealthyPercentage, 0, 100, d.minHealthyPercentage);
  const maxHealthyPercentage = r.integer(
    `${field}.maxHealthyPercentage`,
    o.maxHealthyPercentage,
    100,
    200,
    Math.min(200, minHealthyPercentage + DEFAULTS.maxHealthySpread),
  );
  // The refresh preferences AWS takes (managed/aws-rules.ts), reported against the fields the user set.
  for (const problem of refreshPreferenceProblems({
    MinHealthyPercentage: minHealthyPercentage,
    MaxHealthyPercentage: maxHealthyPercentage,
  })) {
    r.fail(
      `${field}.${o.maxHealthyPercentage === undefined ? "minHealthyPercentage" : "maxHealthyPercentage"}`,
      `${problem} (AWS's instance refresh rule)`,
    );
  }
  const amiSource = readAmiSource(r, `${field}.amiSource`, o.amiSource) ?? inherited.amiSource;
  // Burstable types scale at their baseline by default (see readReleaseSettings).
  const cpuTargetPercent = r.integer(
    `${field}.cpuTargetPercent`,
    o.cpuTargetPercent,
    5,
    95,
    BURSTABLE_BASELINE_PERCENT[instanceType] ?? d.cpuTargetPercent,
  );
  const release = readReleaseSettings(r, field, o, { production, desiredCapacity, maxCapacity, instanceType, cpuTargetPercent });
  return {
    name,
    instanceType,
    minCapacity,
    maxCapacity,
    desiredCapacity,
    deletionProtection: r.boolean(`${field}.deletionProtection`, o.deletionProtection, production),
    minHealthyPercentage,
    maxHealthyPercentage,
    ...release,
    natGateways:
      o.natGateways === undefined
        ? (inherited.natGateways ?? (production ? DEFAULTS.natGateways.production : DEFAULTS.natGateways.default))
        : r.oneOf(`${field}.natGateways`, o.natGateways, NAT_GATEWAYS, DEFAULTS.natGateways.default),
    waf: r.boolean(`${field}.waf`, o.waf, inherited.waf),
    instanceWarmupSeconds: r.integer(`${field}.instanceWarmupSeconds`, o.instanceWarmupSeconds, 0, 3600, d.instanceWarmupSeconds),
    healthCheckGracePeriodSeconds: r.integer(
      `${field}.healthCheckGracePeriodSeconds`,
      o.healthCheckGracePeriodSeconds,
      0,
      7200,
      d.healthCheckGracePeriodSeconds,
    ),
    cpuTargetPercent,
    logRetentionDays,
    amiSource,
    config: readConfigValues(r, `${field}.config`, o.config),
    ...(certificateArn ? { certificateArn } : {}),
  };
}

/**
 * ALB health check matcher: "200", "200,202" or "200-299"; HTTP codes "from 200 to 499" (ELBv2 API,
 * Matcher.HttpCode: "For Application Load Balancers, you can specify values between 200 and 499").
 */
function readMatcher(r: Reader, value: Json): string {
  const matcher = r.matching(
    "healthCheckMatcher",
    value,
    /^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/,
    'HTTP codes like "200", "200,204" or "200-299"',
    DEFAULTS.healthCheckMatcher,
  )!;
  for (const part of matcher.split(",")) {
    const [low, high = low] = part.split("-").map(Number);
    if (low < 200 || high > 499 || low > high) r.fail("healthCheckMatcher", `${part} is not within 200 to 499, low to high`);
  }
  return matcher;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function readGitHub(r: Reader, value: Json, region: string): GitHubConfig | undefined {
  const o = r.object("github", value, ["repository", "oidcProviderArn", "branch"]);
  if (!o) return undefined;
  const repository = r.matching(
    "github.repository",
    o.repository,
    PATTERNS.githubRepository,
    "a GitHub repository as owner/name (letters, digits, - _ .)",
  );
  if (repository === undefined) r.fail("github.repository", "is required (owner/name)");
  const oidcProviderArn = r.string("github.oidcProviderArn", o.oidcProviderArn, DEFAULTS.github.oidcProviderArn)!;
  const arn = PATTERNS.githubOidcProviderArn.exec(oidcProviderArn);
  if (oidcProviderArn !== "" && !arn) {
    r.fail(
      "github.oidcProviderArn",
      `${quote(oidcProviderArn)} is not the ARN of the account's GitHub OIDC provider (arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com), or "" to create one`,
    );
  } else if (arn && `aws${arn[1] ?? ""}` !== partitionOf(region)) {
    r.fail("github.oidcProviderArn", `arn:aws${arn[1] ?? ""}: is not the partition of ${region} (arn:${partitionOf(region)}:)`);
  }
  const branch = r.matching("github.branch", o.branch, PATTERNS.gitBranch, "a branch name like main", DEFAULTS.github.branch)!;
  return { repository: repository ?? "", oidcProviderArn, branch };
}

/**
 * A deploy role manages its environment's resources by the name prefix `<app>-<env>-` (managed/ci-policies.ts):
 * with environments `staging` and `staging-eu`, staging's role would match staging-eu's resources too.
 */
function checkCiScopes(r: Reader, environments: readonly EnvironmentConfig[]): void {
  environments.forEach((env, i) => {
    const wider = environments.find((other) => env.name.startsWith(`${other.name}-`));
    if (wider) {
      r.fail(
        `environments[${i}].name`,
        `${quote(env.name)} starts with ${quote(`${wider.name}-`)}: ${wider.name}'s deploy role, which manages the names ${wider.name}-*, would reach ${env.name}'s resources too; rename one (e.g. ${env.name.replace(`${wider.name}-`, "")}-${wider.name})`,
      );
    }
  });
}
