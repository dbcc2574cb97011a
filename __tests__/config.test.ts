import { ConfigError, checkConfig, resolveConfig } from "../managed/config-validation";
import { formatCidr, overlaps, parseCidr, subnet } from "../managed/cidr";
import { escapeTfString } from "../managed/escape";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RESERVED_ENV_NAMES } from "../managed/names";
import { DEFAULTS } from "../managed/config";
import { architectureOf } from "../managed/aws-rules";
import { exampleConfigJson, REPO_ROOT } from "./support/synth";

const base = { appName: "shop" };

/** The fields named by the problems of `input`. */
function fields(input: unknown): string[] {
  return checkConfig(input).map((p) => p.field);
}

function messageFor(input: unknown, field: string): string {
  const problem = checkConfig(input).find((p) => p.field === field);
  if (!problem) throw new Error(`no problem reported for ${field}: ${JSON.stringify(checkConfig(input))}`);
  return problem.message;
}

describe("defaults", () => {
  it("a name alone gives two environments, a new VPC over two zones and the variable AMI source", () => {
    const config = resolveConfig(base);
    expect(config.environments.map((e) => e.name)).toEqual(["staging", "production"]);
    expect(config.environments.map((e) => e.deletionProtection)).toEqual([false, true]);
    expect(config.environments.map((e) => e.logRetentionDays)).toEqual([30, 90]);
    expect(config.environments[0]).toMatchObject({
      minCapacity: 2,
      maxCapacity: 4,
      desiredCapacity: 2,
      minHealthyPercentage: 90,
      maxHealthyPercentage: 190,
    });
    expect(config.environments.map((e) => e.natGateways)).toEqual(["single", "per-az"]);
    expect(config.environments.map((e) => e.waf)).toEqual([false, false]);
    expect(config.network).toEqual({
      mode: "new",
      cidr: "10.0.0.0/16",
      azCount: 2,
      vpcEndpoints: false,
      availabilityZones: ["us-east-1a", "us-east-1b"],
      publicSubnetCidrs: ["10.0.0.0/20", "10.0.16.0/20"],
      privateSubnetCidrs: ["10.0.128.0/20", "10.0.144.0/20"],
    });
    expect(config.amiSource).toEqual({ mode: "variable" });
    expect(config.image.amiParameter).toBe("");
  });

  it("the example config is valid", () => {
    expect(() => resolveConfig(exampleConfigJson())).not.toThrow();
  });

  it("zones follow the region's known letters", () => {
    expect(resolveConfig({ ...base, region: "ap-northeast-1", network: { azCount: 3 } }).network).toMatchObject({
      availabilityZones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
    });
  });
});

describe("each class of mistake names its field", () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ["missing app name", {}, "appName", /required/],
    ["upper case app name", { appName: "Shop" }, "appName", /lower-case/],
    ["app name with ${", { appName: "a${b}" }, "appName", /lower-case/],
    ["app name too long once prefixed", { appName: "a".repeat(21) }, "appName", /21 characters/],
    ["reserved device name", { appName: "con" }, "appName", /reserved/],
    [
      "unknown region",
      { ...base, region: "us-middle-1" },
      "region",
      /not a known AWS region; known in that area: us-east-1, us-east-2, us-west-1, us-west-2, us-gov-east-1, us-gov-west-1$/,
    ],
    ["unknown region far off", { ...base, region: "mars" }, "region", /not a known AWS region; e\.g\. us-east-1/],
    ["port 0", { ...base, appPort: 0 }, "appPort", /from 1 to 65535/],
    ["port 65536", { ...base, appPort: 65536 }, "appPort", /from 1 to 65535/],
    ["port 22", { ...base, appPort: 22 }, "appPort", /SSH/],
    ["port as a string", { ...base, appPort: "8080" }, "appPort", /whole number/],
    ["health path without /", { ...base, healthCheckPath: "health" }, "healthCheckPath", /starting with \//],
    ["malformed certificate ARN", { ...base, certificateArn: "arn:aws:acm:us-east-1:123:cert/x" }, "certificateArn", /ACM certificate ARN/],
    [
      "certificate in another region",
      { ...base, certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" },
      "certificateArn",
      /regional/,
    ],
    ["bad amiSource", { ...base, amiSource: "ami-123" }, "amiSource", /"variable" or "resolve:ssm:/],
    ["bad CIDR", { ...base, network: { cidr: "10.0.0.0/33" } }, "network.cidr", /over 32/],
    ["CIDR with host bits", { ...base, network: { cidr: "10.0.1.0/16" } }, "network.cidr", /host bits/],
    ["CIDR too small", { ...base, network: { cidr: "10.0.0.0/26" } }, "network.cidr", /\/16 to \/23/],
    [
      "CIDR whose subnets the ALB rejects",
      { ...base, network: { cidr: "10.1.0.0/24" } },
      "network.cidr",
      /\/27s, the smallest a load balancer accepts/,
    ],
    [
      "public subnet too small for the ALB",
      { ...base, network: { publicSubnetCidrs: ["10.0.0.0/28", "10.0.16.0/20"] } },
      "network.publicSubnetCidrs[0]",
      /smallest subnet a load balancer accepts/,
    ],
    [
      "image parameter under the config path",
      { ...base, amiSource: "resolve:ssm:/shop/staging/ami-id" },
      "amiSource",
      /lies under \/shop\/staging\/, which instances read as their configuration; use a path like \/shop\/image\/<env>\/ami-id/,
    ],
    [
      "an environment's image parameter under another's path",
      { ...base, environments: [{ name: "dev" }, { name: "prod", amiSource: "resolve:ssm:/shop/dev/ami" }] },
      "environments[1].amiSource",
      /lies under \/shop\/dev\//,
    ],
    [
      "publish parameter under the config path",
      { ...base, image: { amiParameter: "/shop/production/ami" } },
      "image.amiParameter",
      /lies under \/shop\/production\//,
    ],
    [
      "bad build subnet",
      { ...base, image: { buildSubnetId: "subnet-xyz" } },
      "image.buildSubnetId",
      /subnet id like subnet-0123456789abcdef0/,
    ],
    [
      "mixed architectures",
      {
        ...base,
        environments: [
          { name: "dev", instanceType: "t3.small" },
          { name: "prod", instanceType: "m7g.large" },
        ],
      },
      "environments[1].instanceType",
      /m7g.large is arm64, but t3.small .* is x86_64; one image serves every environment/,
    ],
    [
      "build instance of another architecture",
      { ...base, environments: [{ name: "dev", instanceType: "t4g.small" }], image: { buildInstanceType: "t3.small" } },
      "image.buildInstanceType",
      /bake on the same architecture/,
    ],
    ["public CIDR", { ...base, network: { cidr: "8.8.0.0/16" } }, "network.cidr", /private range/],
    [
      "overlapping subnets",
      { ...base, network: { publicSubnetCidrs: ["10.0.0.0/20", "10.0.16.0/20"], privateSubnetCidrs: ["10.0.8.0/24", "10.0.64.0/20"] } },
      "network.privateSubnetCidrs[0]",
      /overlaps network.publicSubnetCidrs\[0\]/,
    ],
    [
      "subnet outside the VPC",
      { ...base, network: { publicSubnetCidrs: ["10.1.0.0/20", "10.0.16.0/20"] } },
      "network.publicSubnetCidrs[0]",
      /not inside/,
    ],
    ["one zone", { ...base, network: { azCount: 1 } }, "network.azCount", /from 2 to 6/],
    [
      "malformed VPC id",
      {
        ...base,
        network: {
          mode: "existing",
          vpcId: "vpc-xyz",
          publicSubnetIds: ["subnet-01234567", "subnet-01234568"],
          privateSubnetIds: ["subnet-01234569", "subnet-0123456a"],
        },
      },
      "network.vpcId",
      /VPC id/,
    ],
    [
      "malformed subnet id",
      {
        ...base,
        network: {
          mode: "existing",
          vpcId: "vpc-01234567",
          publicSubnetIds: ["subnet-01234567", "sub-1"],
          privateSubnetIds: ["subnet-01234569", "subnet-0123456a"],
        },
      },
      "network.publicSubnetIds[1]",
      /subnet id/,
    ],
    [
      "one private subnet",
      {
        ...base,
        network: {
          mode: "existing",
          vpcId: "vpc-01234567",
          publicSubnetIds: ["subnet-01234567", "subnet-01234568"],
          privateSubnetIds: ["subnet-01234569"],
        },
      },
      "network.privateSubnetIds",
      /at least two/,
    ],
    [
      "min > max",
      { ...base, environments: [{ name: "dev", minCapacity: 5, maxCapacity: 2 }] },
      "environments[0].minCapacity",
      /more than maxCapacity/,
    ],
    [
      "desired outside min..max",
      { ...base, environments: [{ name: "dev", minCapacity: 1, maxCapacity: 2, desiredCapacity: 3 }] },
      "environments[0].desiredCapacity",
      /between/,
    ],
    [
      "bad instance type",
      { ...base, environments: [{ name: "dev", instanceType: "t3-small" }] },
      "environments[0].instanceType",
      /instance type/,
    ],
    ["env name with a dot", { ...base, environments: [{ name: "../prod" }] }, "environments[0].name", /lower-case/],
    ["duplicate environment", { ...base, environments: [{ name: "dev" }, { name: "dev" }] }, "environments[1].name", /twice/],
    [
      "load balancer name too long",
      { appName: "a".repeat(20), environments: [{ name: "b".repeat(12) }] },
      "environments[0].name",
      /load balancer names allow 32/,
    ],
    [
      "retention not offered by CloudWatch",
      { ...base, environments: [{ name: "dev", logRetentionDays: 10 }] },
      "environments[0].logRetentionDays",
      /not a CloudWatch retention/,
    ],
    ["__proto__ as a config key", JSON.parse('{"appName":"shop","config":{"__proto__":"x"}}'), "config.__proto__", /not allowed/],
    ["config key with a dash", { ...base, config: { "LOG-LEVEL": "x" } }, 'config["LOG-LEVEL"]', /key "LOG-LEVEL"/],
    ["empty config value", { ...base, config: { A: "" } }, "config.A", /empty/],
    ["control character in a value", { ...base, config: { A: "a\u0000b" } }, "config.A", /control characters/],
    ["lone surrogate in a value", JSON.parse('{"appName":"shop","config":{"A":"x\\ud800y"}}'), "config.A", /lone UTF-16 surrogate/],
    ["password in plain config", { ...base, config: { DB_PASSWORD: "hunter2" } }, "config.DB_PASSWORD", /looks like a secret/],
    ["AWS key in plain config", { ...base, config: { UPSTREAM: "AKIAABCDEFGHIJKLMNOP" } }, "config.UPSTREAM", /access key/],
    ["private key in plain config", { ...base, config: { CERT: "-----BEGIN RSA PRIVATE KEY-----\nabc" } }, "config.CERT", /private key/],
    ["URL with a password", { ...base, config: { DATABASE_URL: "postgres://app:s3cret@db:5432/app" } }, "config.DATABASE_URL", /password/],
    ["secret value instead of name", { ...base, secrets: [{ DB_PASSWORD: "x" }] }, "secrets[0]", /name \(not its value\)/],
    ["secret also in config", { ...base, config: { API_URL: "x" }, secrets: ["API_URL"] }, "secrets[0]", /also a plain config key/],
    ["config key the image sets", { ...base, config: { AWS_REGION: "x" } }, "config.AWS_REGION", /set by the image/],
    ["secret name the image sets", { ...base, secrets: ["LD_PRELOAD"] }, "secrets[0]", /set by the image/],
    ["aws: tag", { ...base, tags: { "aws:owner": "me" } }, 'tags["aws:owner"]', /tag key/],
    ["tag that the stacks set", { ...base, tags: { app: "x" } }, "tags.app", /set by the stacks/],
    ["tag value with $", { ...base, tags: { team: "a$b" } }, "tags.team", /characters AWS does not allow/],
    ["bad bucket", { ...base, backend: { bucket: "My_Bucket" } }, "backend.bucket", /bucket name/],
    ["key prefix with ..", { ...base, backend: { bucket: "state-bucket", keyPrefix: "a/../b" } }, "backend.keyPrefix", /\.\./],
    ["bad container image", { ...base, image: { containerImage: "Not An Image" } }, "image.containerImage", /container image reference/],
    ["unknown field", { ...base, regoin: "us-east-1" }, "regoin", /not a known field/],
    ["misspelt case", { ...base, AppPort: 1 }, "AppPort", /did you mean "appPort"/],
    // Names AWS reserves (managed/aws-rules.ts reservedAppNameReason, each rule cited there).
    ["app name SSM reserves (aws prefix)", { appName: "aws-tools" }, "appName", /SSM Parameter Store reserves/],
    ["app name SSM reserves (ssm prefix)", { appName: "ssmbot" }, "appName", /SSM Parameter Store reserves/],
    ["app name ELB refuses (internal-)", { appName: "internal-portal" }, "appName", /internal-, which ELB refuses/],
    ["app name ELB refuses (internal)", { appName: "internal" }, "appName", /internal-, which ELB refuses/],
    ["app name S3 reserves (sthree-)", { appName: "sthree-x" }, "appName", /S3 reserves/],
    ["app name S3 reserves (amzn-s3-demo)", { appName: "amzn-s3-demo-site" }, "appName", /S3 reserves/],
    [
      "environment named after the bootstrap stack",
      { ...base, environments: [{ name: "bootstrap" }] },
      "environments[0].name",
      /own bootstrap stack/,
    ],
    // Instance refresh rules (RefreshPreferences): max - min <= 100, max 100 to 200.
    [
      "max healthy more than 100 above min",
      { ...base, environments: [{ name: "dev", minHealthyPercentage: 50, maxHealthyPercentage: 200 }] },
      "environments[0].maxHealthyPercentage",
      /200 - MinHealthyPercentage 50 = 150, more than 100/,
    ],
    [
      "max healthy under 100",
      { ...base, environments: [{ name: "dev", maxHealthyPercentage: 90 }] },
      "environments[0].maxHealthyPercentage",
      /from 100 to 200/,
    ],
    ["bad NAT setting", { ...base, environments: [{ name: "dev", natGateways: "none" }] }, "environments[0].natGateways", /single|per-az/],
    ["bad GitHub repository", { ...base, github: { repository: "not a repo" } }, "github.repository", /owner\/name/],
    ["GitHub without repository", { ...base, github: {} }, "github.repository", /is required/],
    [
      "bad OIDC provider",
      { ...base, github: { repository: "acme/shop", oidcProviderArn: "arn:aws:iam::123:oidc-provider/x" } },
      "github.oidcProviderArn",
      /GitHub OIDC provider/,
    ],
    ["keepImages zero", { ...base, image: { keepImages: 0 } }, "image.keepImages", /from 1 to 1000/],
  ];

  it.each(cases)("%s", (_what, input, field, message) => {
    expect(messageFor(input, field)).toMatch(message);
  });

  it("reports a non-list of environments once", () => {
    expect(checkConfig({ ...base, environments: "prod" })).toEqual([{ field: "environments", message: 'must be a list, got "prod"' }]);
    expect(checkConfig({ ...base, environments: [] })).toEqual([{ field: "environments", message: "needs at least one environment" }]);
  });

  it("refuses a configuration that is not an object", () => {
    expect(fields([])).toEqual(["(root)"]);
    expect(fields("shop")).toEqual(["(root)"]);
  });

  it("reports every problem at once", () => {
    const input = {
      appName: "Bad Name",
      region: "mars-1",
      appPort: 0,
      network: { cidr: "300.0.0.0/16" },
      environments: [{ name: "dev", minCapacity: 3, maxCapacity: 1 }],
    };
    expect(() => resolveConfig(input)).toThrow(ConfigError);
    try {
      resolveConfig(input);
    } catch (error) {
      const e = error as ConfigError;
      expect(e.problems.map((p) => p.field)).toEqual(["appName", "region", "appPort", "network.cidr", "environments[0].minCapacity"]);
      expect(e.message).toContain("5 problems");
      for (const field of ["appName", "region", "appPort", "network.cidr", "environments[0].minCapacity"]) {
        expect(e.message).toContain(`  - ${field}: `);
      }
    }
  });

  it("derives the image architecture from the instance types, and its build instance", () => {
    const arm = resolveConfig({
      ...base,
      environments: [
        { name: "dev", instanceType: "m7g.large" },
        { name: "prod", instanceType: "c7gn.xlarge" },
      ],
    });
    expect(arm.image).toMatchObject({ architecture: "arm64", buildInstanceType: "t4g.small" });
    expect(resolveConfig(base).image).toMatchObject({ architecture: "x86_64", buildInstanceType: "t3.small" });
  });

  it("publishes no image into an environment's parameter: only that environment's deploy writes it", () => {
    expect(resolveConfig(base).image.amiParameter).toBe("");
    const perEnvironment = {
      ...base,
      environments: [
        { name: "dev", amiSource: "resolve:ssm:/shop/image/dev/ami-id" },
        { name: "prod", amiSource: "resolve:ssm:/shop/image/prod/ami-id" },
      ],
    };
    expect(resolveConfig(perEnvironment).image.amiParameter).toBe("");
    expect(messageFor({ ...perEnvironment, image: { amiParameter: "/shop/image/dev/ami-id" } }, "image.amiParameter")).toMatch(
      /is the image parameter of dev: a bake would put every new image into dev's scale-outs before any test/,
    );
    expect(resolveConfig({ ...base, image: { amiParameter: "/x/y" } }).image.amiParameter).toBe("/x/y");
  });

  it("refuses one image parameter for two environments", () => {
    expect(messageFor({ ...base, amiSource: "resolve:ssm:/shop/ami" }, "amiSource")).toMatch(
      /production and staging both resolve "\/shop\/ami": every instance either starts would take the image the other was given, untested/,
    );
    expect(
      messageFor(
        {
          ...base,
          environments: [
            { name: "a", amiSource: "resolve:ssm:/p" },
            { name: "b", amiSource: "resolve:ssm:/p" },
          ],
        },
        "environments[1].amiSource",
      ),
    ).toMatch(/b and a both resolve "\/p"/);
  });

  it("accepts unicode tag values, composed or not", () => {
    expect(resolveConfig({ ...base, tags: { team: "Zu\u0308rich café" } }).tags.team).toBe("Zürich café");
  });

  it("accepts exotic but valid values literally", () => {
    const config = resolveConfig({
      ...base,
      config: { GREETING: '100% ${not} %{an} "expression"\nline 2' },
      tags: { "owner name": "Zoë Ünïcode" },
    });
    expect(config.config.GREETING).toBe('100% ${not} %{an} "expression"\nline 2');
    expect(config.tags["owner name"]).toBe("Zoë Ünïcode");
  });
});

describe("rollout and network defaults", () => {
  it("max healthy follows min (at most 200), and a default min of 90 gives 190", () => {
    const envs = resolveConfig({
      ...base,
      environments: [{ name: "a" }, { name: "b", minHealthyPercentage: 100 }, { name: "c", minHealthyPercentage: 50 }],
    }).environments;
    expect(envs.map((e) => [e.minHealthyPercentage, e.maxHealthyPercentage])).toEqual([
      [90, 190],
      [100, 200],
      [50, 150],
    ]);
  });

  it("a NAT gateway per zone in production-like environments unless the network or the environment says otherwise", () => {
    const names = [{ name: "staging" }, { name: "production" }, { name: "prod" }, { name: "qa", natGateways: "per-az" }];
    expect(resolveConfig({ ...base, environments: names }).environments.map((e) => e.natGateways)).toEqual([
      "single",
      "per-az",
      "per-az",
      "per-az",
    ]);
    expect(
      resolveConfig({ ...base, network: { natGateways: "single" }, environments: names }).environments.map((e) => e.natGateways),
    ).toEqual(["single", "single", "single", "per-az"]);
  });

  it("a config 0.1.0 accepted (no new fields) is still valid", () => {
    const old = JSON.parse(
      JSON.parse(readFileSync(join(REPO_ROOT, "__tests__", "fixtures", "project-0.1.0.json"), "utf8")).files["immutable.config.json"]
        .contents,
    );
    expect(checkConfig(old)).toEqual([]);
  });
});

describe("reserved environment names", () => {
  it("are the ones the boot script refuses", () => {
    const script = readFileSync(join(REPO_ROOT, "packer", "files", "configure-app.sh"), "utf8");
    const shell = /^readonly RESERVED_RE='(.*)'$/m.exec(script);
    expect(shell?.[1]).toBe(RESERVED_ENV_NAMES.source);
  });
});

describe("cidr", () => {
  it("computes subnets like terraform's cidrsubnet", () => {
    const vpc = parseCidr("10.20.0.0/16");
    if (typeof vpc === "string") throw new Error(vpc);
    expect(formatCidr(subnet(vpc, 4, 0))).toBe("10.20.0.0/20");
    expect(formatCidr(subnet(vpc, 4, 15))).toBe("10.20.240.0/20");
    expect(() => subnet(vpc, 4, 16)).toThrow(RangeError);
    expect(overlaps(subnet(vpc, 4, 1), subnet(vpc, 8, 16))).toBe(true);
    expect(overlaps(subnet(vpc, 4, 1), subnet(vpc, 8, 32))).toBe(false);
  });

  it("rejects leading zeros and octets over 255", () => {
    expect(parseCidr("10.01.0.0/16")).toMatch(/leading zero/);
    expect(parseCidr("10.256.0.0/16")).toMatch(/outside 0-255/);
  });
});

describe("escapeTfString", () => {
  it("escapes interpolation and directive openers and nothing else", () => {
    expect(escapeTfString("a ${b} %{c} $ % $$ {d}")).toBe("a $${b} %%{c} $ % $$ {d}");
    expect(escapeTfString("$${x}")).toBe("$$${x}");
  });
});

describe("defaults stated elsewhere agree with DEFAULTS", () => {
  it("the JSON Schema's defaults", () => {
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, "managed", "config.schema.json"), "utf8"));
    const p = schema.properties;
    const env = p.environments.items.properties;
    const newVpc = p.network.oneOf.find((o: any) => o.properties?.cidr).properties;
    expect({
      region: p.region.default,
      appPort: p.appPort.default,
      healthCheckPath: p.healthCheckPath.default,
      cidr: newVpc.cidr.default,
      azCount: newVpc.azCount.default,
      vpcEndpoints: newVpc.vpcEndpoints.default,
      natGatewaysDefault: newVpc.natGateways.default,
      containerImage: p.image.properties.containerImage.default,
      baseOs: p.image.properties.baseOs.default,
      buildInstanceType: p.image.properties.buildInstanceType.default,
      keepImages: p.image.properties.keepImages.default,
      instanceType: env.instanceType.default,
      minCapacity: env.minCapacity.default,
      maxCapacity: env.maxCapacity.default,
      minHealthyPercentage: env.minHealthyPercentage.default,
      instanceWarmupSeconds: env.instanceWarmupSeconds.default,
      healthCheckGracePeriodSeconds: env.healthCheckGracePeriodSeconds.default,
      // The CPU target depends on the instance type (a burstable type's baseline), so the schema states none.
      cpuTargetPercent: env.cpuTargetPercent.default,
      rollbackErrorRatePercent: env.rollbackErrorRatePercent.default,
      rollbackMinRequestsPerMinute: env.rollbackMinRequestsPerMinute.default,
      rollbackLatencyMs: env.rollbackLatencyMs.default,
      rollbackUnhealthyMinutes: env.rollbackUnhealthyMinutes.default,
      probeRequestsPerSecond: env.probeRequestsPerSecond.default,
      bootTimeoutSeconds: env.bootTimeoutSeconds.default,
      expectedBootSeconds: env.expectedBootSeconds.default,
      slowStartSeconds: env.slowStartSeconds.default,
      checkpointDelaySeconds: env.checkpointDelaySeconds.default,
      healthCheckMatcher: p.healthCheckMatcher.default,
      waf: p.waf.default,
      githubBranch: p.github.properties.branch.default,
      oidcProviderArn: p.github.properties.oidcProviderArn.default,
    }).toEqual({
      region: DEFAULTS.region,
      appPort: DEFAULTS.appPort,
      healthCheckPath: DEFAULTS.healthCheckPath,
      cidr: DEFAULTS.network.cidr,
      azCount: DEFAULTS.network.azCount,
      vpcEndpoints: DEFAULTS.network.vpcEndpoints,
      // The NAT default depends on the environment, so the schema states none.
      natGatewaysDefault: undefined,
      waf: DEFAULTS.waf,
      githubBranch: DEFAULTS.github.branch,
      oidcProviderArn: DEFAULTS.github.oidcProviderArn,
      ...DEFAULTS.image,
      ...DEFAULTS.environment,
      cpuTargetPercent: undefined,
      checkpointDelaySeconds: DEFAULTS.checkpointDelaySeconds.default,
      healthCheckMatcher: DEFAULTS.healthCheckMatcher,
    });
  });

  it("the Packer variables' defaults", () => {
    const hcl = readFileSync(join(REPO_ROOT, "packer", "variables.pkr.hcl"), "utf8");
    const defaultOf = (name: string) => new RegExp(`variable "${name}" \\{[\\s\\S]*?\\n  default\\s+= ([^\\n]+)`).exec(hcl)?.[1];
    expect(defaultOf("aws_region")).toBe(JSON.stringify(DEFAULTS.region));
    expect(defaultOf("instance_type")).toBe(JSON.stringify(DEFAULTS.image.buildInstanceType));
    expect(defaultOf("base_os")).toBe(JSON.stringify(DEFAULTS.image.baseOs));
    expect(defaultOf("app_port")).toBe(String(DEFAULTS.appPort));
    expect(defaultOf("health_check_path")).toBe(JSON.stringify(DEFAULTS.healthCheckPath));
  });
});

describe("the JSON Schema names exactly the fields resolveConfig knows", () => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, "managed", "config.schema.json"), "utf8"));
  /** The "known: a, b" list of the unknown-field problem at `field`. */
  const known = (input: unknown, field: string): string[] => (/known: (.*)$/.exec(messageFor(input, field))?.[1] ?? "").split(", ").sort();
  const keys = (node: any): string[] => Object.keys(node.properties ?? {});
  const union = (nodes: any[]): string[] => [...new Set(nodes.flatMap(keys))].sort();

  it.each([
    ["top level", { ...base, zz: 1 }, "zz", () => keys(schema)],
    ["network", { ...base, network: { zz: 1 } }, "network.zz", () => union(schema.properties.network.oneOf)],
    ["image", { ...base, image: { zz: 1 } }, "image.zz", () => keys(schema.properties.image)],
    ["backend", { ...base, backend: { bucket: "state-bucket", zz: 1 } }, "backend.zz", () => keys(schema.properties.backend)],
    ["github", { ...base, github: { repository: "acme/shop", zz: 1 } }, "github.zz", () => keys(schema.properties.github)],
    [
      "environment",
      { ...base, environments: [{ name: "dev", zz: 1 }] },
      "environments[0].zz",
      () => keys(schema.properties.environments.items),
    ],
  ])("%s", (_where, input, field, schemaKeys) => {
    expect(known(input, field)).toEqual([...schemaKeys()].sort());
  });
});

describe("architectureOf", () => {
  it.each([
    ["t3.small", "x86_64"],
    ["m7i-flex.large", "x86_64"],
    ["c6in.32xlarge", "x86_64"],
    ["g5.xlarge", "x86_64"],
    ["g4ad.xlarge", "x86_64"],
    ["t4g.small", "arm64"],
    ["m7g.large", "arm64"],
    ["c7gn.xlarge", "arm64"],
    ["im4gn.large", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["r8g.medium", "arm64"],
    ["a1.large", "arm64"],
    ["hpc7g.4xlarge", "arm64"],
  ])("%s is %s", (type, arch) => {
    expect(architectureOf(type)).toBe(arch);
  });
});

describe("release settings (managed/release-config.ts)", () => {
  const env = (extra: Record<string, unknown>) => ({ ...base, environments: [{ name: "web", minCapacity: 3, ...extra }] });
  const at = (extra: Record<string, unknown>, field: string) => messageFor(env(extra), `environments[0].${field}`);

  it("defaults: a canary of one instance, a pause and a bake the alarms fit in, unlimited credits with the CPU target at the baseline", () => {
    const [e] = resolveConfig(env({})).environments;
    expect(e).toMatchObject({
      checkpointPercentages: [33, 100],
      canaryOneInstance: true,
      checkpointDelaySeconds: 300,
      bakeTimeSeconds: 300,
      cpuCredits: "unlimited",
      cpuTargetPercent: 20,
      rollbackErrorRatePercent: 1,
      bootTimeoutSeconds: 600,
    });
    const [production] = resolveConfig({ ...base, environments: [{ name: "production" }] }).environments;
    expect(production.bakeTimeSeconds).toBe(600);
    expect(resolveConfig(env({ instanceType: "m7i.large" })).environments[0]).toMatchObject({ cpuTargetPercent: 60 });
    expect(resolveConfig(env({ instanceType: "m7i.large" })).environments[0].cpuCredits).toBeUndefined();
    // From five instances on, half the fleet is a second checkpoint (one instance's errors are diluted).
    expect(resolveConfig(env({ minCapacity: 10, maxCapacity: 10 })).environments[0].checkpointPercentages).toEqual([10, 50, 100]);
  });

  it("refuses a checkpoint delay or a bake time the slowest alarm cannot act within, naming the field and the figure", () => {
    expect(at({ checkpointDelaySeconds: 120 }, "checkpointDelaySeconds")).toMatch(
      /is 120 s, but the .* alarm needs up to 300 s to act .* use at least 300/,
    );
    expect(at({ bakeTimeSeconds: 60 }, "bakeTimeSeconds")).toMatch(
      /AWS can no longer roll it back, before the alarm could fire; use at least 300/,
    );
    expect(at({ rollbackUnhealthyMinutes: 5 }, "bakeTimeSeconds")).toMatch(/the unhealthy alarm needs up to 480 s/);
    expect(at({ slowStartSeconds: 120 }, "bakeTimeSeconds")).toMatch(/needs up to 420 s .* after the 120 s slow start/);
    // A fleet of one has no checkpoint to pause at: only the bake time counts.
    expect(fields({ ...base, environments: [{ name: "one", minCapacity: 1, checkpointDelaySeconds: 0 }] })).toEqual([]);
  });

  it("checks checkpoints as AWS does", () => {
    expect(at({ checkpointPercentages: [50, 20, 100] }, "checkpointPercentages")).toMatch(/ascending, unique/);
    expect(at({ checkpointPercentages: [10, 50] }, "checkpointPercentages")).toMatch(/the last of CheckpointPercentages must be 100/);
    expect(at({ checkpointPercentages: [] }, "checkpointPercentages")).toMatch(/one to ten percentages/);
    expect(resolveConfig(env({ checkpointPercentages: [10, 50, 100] })).environments[0]).toMatchObject({
      checkpointPercentages: [10, 50, 100],
      canaryOneInstance: false,
    });
  });

  it("refuses a CPU target a burstable instance in standard mode can never pass, and credits on other types", () => {
    expect(at({ cpuCredits: "standard", cpuTargetPercent: 60 }, "cpuTargetPercent")).toMatch(
      /is 60, not below the 20 % baseline of t3.small with standard CPU credits: .* the group never scales out/,
    );
    expect(at({ cpuCredits: "standard" }, "cpuTargetPercent")).toMatch(/is 20, not below the 20 % baseline/);
    expect(fields(env({ cpuCredits: "standard", cpuTargetPercent: 15 }))).toEqual([]);
    expect(fields(env({ cpuTargetPercent: 60 }))).toEqual([]);
    expect(fields(env({ cpuCredits: "standard", cpuTargetPercent: 60, requestsPerTarget: 500 }))).toEqual([]);
    expect(at({ instanceType: "m7i.large", cpuCredits: "standard" }, "cpuCredits")).toMatch(/only to burstable instance types/);
  });

  it("retires rollback5xxPerMinute with what replaced it; checks the boot timeout, slow start, warm pool and health matcher", () => {
    expect(at({ rollback5xxPerMinute: 10 }, "rollback5xxPerMinute")).toMatch(/replaced by rollbackErrorRatePercent/);
    expect(at({ expectedBootSeconds: 700 }, "expectedBootSeconds")).toMatch(/not less than bootTimeoutSeconds 600/);
    expect(at({ slowStartSeconds: 10 }, "slowStartSeconds")).toMatch(/use 0 \(off\) or 30 to 900/);
    expect(at({ warmPool: { state: "Frozen" } }, "warmPool.state")).toMatch(/"Stopped", "Hibernated", "Running"/);
    expect(at({ warmPool: { minSize: 9 } }, "warmPool.minSize")).toMatch(/from 0 to 4/);
    expect(resolveConfig(env({ warmPool: {} })).environments[0].warmPool).toEqual({ state: "Stopped", minSize: 0, reuseOnScaleIn: true });
    expect(messageFor({ ...base, healthCheckMatcher: "200-600" }, "healthCheckMatcher")).toMatch(/not within 200 to 499/);
    expect(messageFor({ ...base, healthCheckMatcher: "ok" }, "healthCheckMatcher")).toMatch(/HTTP codes like/);
    expect(resolveConfig({ ...base, healthCheckMatcher: "200,204" }).healthCheckMatcher).toBe("200,204");
  });
});
