/**
 * Issue 7, "bad input": every bad value gets exit 2, a message naming the flag (or the answers file and
 * its field, or [dir]), and a disk on which not one byte changed — checked through the whole CLI
 * (flags, --config-file, prompts), not only the validator.
 *
 * Already tested exactly this way, so not repeated here (__tests__/cli.test.ts): --bogus, no name,
 * "Bad Name" as dir, --name a${b}, --name con, --port 65536, --min 3 --max 2, --config API_KEY=abc,
 * --vpc-cidr 10.0.0.0/8, "~/x" as dir, a missing answers file, an answers file that is not JSON, a list,
 * null, the wrong shape, 1 MiB + 1 byte, a directory. The validators' own tables (config.test.ts,
 * generator-answers.test.ts) check the messages field by field; here each value goes through argv.
 * Symlinked and read-only targets, non-empty targets and --force: generator-write.test.ts, cli.test.ts.
 * Malformed AMI ids reach no answer: ami_id is a Terraform variable with a validation
 * (stacks-terraform.test.ts "refuses an ami_id that is not an AMI id"); image sources here go through
 * amiSource and image.amiParameter.
 *
 * The generator reads no answers from environment variables (bin/ reads only its crash-test hooks), so
 * "environment" input reduces to the answers file and the export's IMMUTABLE_CONFIG, which loadConfig
 * validates with the same resolveConfig.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_ANSWERS_FILE_BYTES } from "../generators/cli";
import { treeSnapshot } from "./support/cli";
import { expectRefused, namedLine, probingPrompter, runInWorkspace, workspace } from "./support/safety";

const UUID = "12345678-1234-1234-1234-123456789012";
const EXISTING = ["--vpc-id", "vpc-01234567"];
const PUBLIC = ["--public-subnets", "subnet-00000001,subnet-00000002"];
const PRIVATE = ["--private-subnets", "subnet-00000003,subnet-00000004"];

type FlagCase = readonly [what: string, argv: readonly string[], subject: string, message: RegExp];

/** Bad values given as flags; the target is "x" unless the case says otherwise. */
const FLAG_CASES: readonly FlagCase[] = [
  // App names: template openers, quotes, escapes, control characters, Handlebars, prototype keys, paths.
  ["name with %{", ["x", "--name", "a%{b}"], "--name", /--name: "a%\{b\}" must start with a lower-case letter/],
  ["name with a double quote", ["x", "--name", 'a"b'], "--name", /--name: "a\\"b"/],
  ["name with a single quote", ["x", "--name", "a'b"], "--name", /--name: "a'b"/],
  ["name with a backslash", ["x", "--name", "a\\b"], "--name", /--name: "a\\\\b"/],
  ["name with a newline", ["x", "--name", "a\nb"], "--name", /--name: "a\\nb"/],
  ["name with NUL", ["x", "--name", "a\u0000b"], "--name", /--name: "a\\u0000b"/],
  ["name with ESC", ["x", "--name", "a\u001b[31mb"], "--name", /--name: "a\\u001b\[31mb"/],
  ["name with DEL", ["x", "--name", "a\u007fb"], "--name", /--name: "a\\u007fb"/],
  ["name with a bidi override (shown escaped, not raw)", ["x", "--name", "a\u202eb"], "--name", /--name: "a\\u202eb"/],
  ["name with {{", ["x", "--name", "{{app}}"], "--name", /--name: "\{\{app\}\}"/],
  ["name with }}", ["x", "--name", "app}}"], "--name", /--name: "app\}\}"/],
  ["name __proto__", ["x", "--name", "__proto__"], "--name", /--name: "__proto__"/],
  ["name //", ["x", "--name", "//"], "--name", /--name: "\/\/"/],
  ["name with a leading dot", ["x", "--name", ".app"], "--name", /must start with a lower-case letter/],
  ["name with a leading hyphen", ["x", "--name=-app"], "--name", /must start with a lower-case letter/],
  ["name with a leading underscore", ["x", "--name", "_app"], "--name", /must start with a lower-case letter/],
  ["name with a trailing hyphen", ["x", "--name", "app-"], "--name", /not at the end/],
  ["upper-case name (npm and ALB names refuse it)", ["x", "--name", "MyApp"], "--name", /lower-case/],
  ["name too long once prefixed", ["x", "--name", "a".repeat(21)], "--name", /21 characters; at most 20 fit/],
  [
    "app + environment too long for a load balancer name",
    ["x", "--name", "a".repeat(20), "--environments", "b".repeat(12)],
    "--environments",
    /load balancer names allow 32/,
  ],
  ["name ..", ["x", "--name", ".."], "--name", /--name: "\.\."/],
  ["name ../evil", ["x", "--name", "../evil"], "--name", /--name: "\.\.\/evil"/],
  ["absolute path as name", ["x", "--name", "/etc/passwd"], "--name", /--name: "\/etc\/passwd"/],
  ["name starting with ~", ["x", "--name", "~root"], "--name", /--name: "~root"/],
  ["reserved device name nul", ["x", "--name", "nul"], "--name", /reserved device name/],
  ["reserved device name com1", ["x", "--name", "com1"], "--name", /reserved device name/],
  ["reserved device name lpt9", ["x", "--name", "lpt9"], "--name", /reserved device name/],
  ["reserved device name aux", ["x", "--name", "aux"], "--name", /reserved device name/],

  // Regions: unknown, wrong case, stray space, and names of Object.prototype's members (an exit 70 before).
  ["unknown region", ["x", "--region", "us-east-7"], "--region", /"us-east-7" is not a known AWS region/],
  ["upper-case region", ["x", "--region", "US-EAST-1"], "--region", /not a known AWS region/],
  ["region with a trailing space", ["x", "--region", "eu-west-1 "], "--region", /"eu-west-1 " is not a known AWS region/],
  ["region constructor", ["x", "--region", "constructor"], "--region", /"constructor" is not a known AWS region/],
  ["region __proto__", ["x", "--region", "__proto__"], "--region", /"__proto__" is not a known AWS region/],
  ["region toString", ["x", "--region", "toString"], "--region", /"toString" is not a known AWS region/],

  // Environments.
  ["upper-case environment", ["x", "--environments", "Staging"], "--environments", /--environments: "Staging"/],
  ["environment ../prod", ["x", "--environments", "staging,../prod"], "--environments", /--environments: "\.\.\/prod"/],
  ["environment __proto__", ["x", "--environments", "__proto__"], "--environments", /--environments: "__proto__"/],
  [
    "environment constructor (a valid name, but cdktf took it for an existing stack)",
    ["x", "--environments", "staging,constructor"],
    "--environments",
    /--environments: "constructor" cannot name a stack/,
  ],
  ["environment with ${", ["x", "--environments", "prod${x}"], "--environments", /--environments: "prod\$\{x\}" must start/],
  ["environment listed twice", ["x", "--environments", "staging,staging"], "--environments", /staging is listed twice/],
  ["environment too long", ["x", "--environments", "a".repeat(13)], "--environments", /13 characters; at most 12/],
  ["empty environment entry", ["x", "--environments", "staging,,prod"], "--environments", /empty entry/],

  // Instance types that do not match the AWS pattern.
  ["instance type without a size", ["x", "--instance-type", "t3"], "--instance-type", /"t3" is not an EC2 instance type/],
  ["upper-case instance type", ["x", "--instance-type", "T3.small"], "--instance-type", /not an EC2 instance type/],
  ["instance type with a shell command", ["x", "--instance-type", "t3.small;reboot"], "--instance-type", /not an EC2 instance type/],
  ["instance type with ${", ["x", "--instance-type", "t3.${x}"], "--instance-type", /not an EC2 instance type/],

  // Ports and capacities (65536 and min > max: cli.test.ts).
  ["port 0", ["x", "--port", "0"], "--port", /--port: must be from 1 to 65535, got 0/],
  ["port 22", ["x", "--port", "22"], "--port", /SSH port/],
  ["negative port", ["x", "--port=-1"], "--port", /must be a whole number, got "-1"/],
  ["port 1e3", ["x", "--port", "1e3"], "--port", /must be a whole number/],
  ["max 0", ["x", "--min", "0", "--max", "0"], "--max", /--max: must be from 1 to 1000, got 0/],
  ["min over the limit", ["x", "--min", "1001", "--max", "1001"], "--min", /must be from 0 to 1000/],

  // Health-check paths and container images.
  ["health path without /", ["x", "--health-path", "health"], "--health-path", /not a URL path starting with \//],
  ["health path with a space", ["x", "--health-path", "/a b"], "--health-path", /not a URL path/],
  ["health path with ${", ["x", "--health-path", "/${x}"], "--health-path", /not a URL path/],
  ["health path with a quote", ["x", "--health-path", '/a"b'], "--health-path", /not a URL path/],
  ["health path with a newline", ["x", "--health-path", "/a\nb"], "--health-path", /not a URL path/],
  ["upper-case image", ["x", "--image", "UPPER/case"], "--image", /not a container image reference/],
  ["image with ${", ["x", "--image", "a/b:${x}"], "--image", /not a container image reference/],
  ["image with a space", ["x", "--image", "ghcr.io/a b"], "--image", /not a container image reference/],
  ["image with a bad digest", ["x", "--image", "a/b@sha256:xyz"], "--image", /not a container image reference/],

  // ARNs.
  [
    "malformed certificate ARN",
    ["x", "--certificate-arn", "arn:aws:acm:us-east-1:123:certificate/x"],
    "--certificate-arn",
    /not an ACM certificate ARN/,
  ],
  [
    "certificate ARN of another service",
    ["x", "--certificate-arn", `arn:aws:iam:us-east-1:123456789012:certificate/${UUID}`],
    "--certificate-arn",
    /not an ACM certificate ARN/,
  ],
  [
    "certificate in another region",
    ["x", "--certificate-arn", `arn:aws:acm:eu-west-1:123456789012:certificate/${UUID}`],
    "--certificate-arn",
    /ACM certificates are regional/,
  ],
  [
    "certificate ARN in the wrong partition",
    ["x", "--certificate-arn", `arn:aws-cn:acm:us-east-1:123456789012:certificate/${UUID}`],
    "--certificate-arn",
    /arn:aws-cn: is not the partition of us-east-1/,
  ],
  [
    "certificate ARN of a China region in the aws partition",
    ["x", "--region", "cn-north-1", "--certificate-arn", `arn:aws:acm:cn-north-1:123456789012:certificate/${UUID}`],
    "--certificate-arn",
    /is not the partition of cn-north-1/,
  ],

  // CIDRs (10.0.0.0/8: cli.test.ts).
  [
    "CIDR prefix over 32",
    ["x", "--vpc-cidr", "10.0.0.0/33"],
    "--vpc-cidr",
    /--vpc-cidr: "[^"]+" (has a prefix length over 32|is not an IPv4 CIDR block like 10\.0\.0\.0\/16)/,
  ],
  ["CIDR with host bits", ["x", "--vpc-cidr", "10.0.1.0/16"], "--vpc-cidr", /host bits/],
  ["CIDR octet over 255", ["x", "--vpc-cidr", "300.0.0.0/16"], "--vpc-cidr", /outside 0-255/],
  ["CIDR with a leading zero", ["x", "--vpc-cidr", "10.01.0.0/16"], "--vpc-cidr", /leading zero/],
  [
    "CIDR without a prefix",
    ["x", "--vpc-cidr", "10.0.0.0"],
    "--vpc-cidr",
    /--vpc-cidr: "[^"]+" (has a prefix length over 32|is not an IPv4 CIDR block like 10\.0\.0\.0\/16)/,
  ],
  ["public CIDR", ["x", "--vpc-cidr", "8.8.0.0/16"], "--vpc-cidr", /not a private range/],
  ["CIDR too small for two zones", ["x", "--vpc-cidr", "10.0.0.0/26"], "--vpc-cidr", /use \/16 to \/23/],
  [
    "CIDR with ${",
    ["x", "--vpc-cidr", "${var.cidr}"],
    "--vpc-cidr",
    /--vpc-cidr: "[^"]+" (has a prefix length over 32|is not an IPv4 CIDR block like 10\.0\.0\.0\/16)/,
  ],
  ["new VPC and existing VPC at once", ["x", "--vpc-cidr", "10.0.0.0/16", ...EXISTING], "--vpc-cidr", /cannot be combined with --vpc-id/],

  // Existing VPC ids and subnet ids.
  ["VPC id with non-hex", ["x", "--vpc-id", "vpc-xyz12345", ...PUBLIC, ...PRIVATE], "--vpc-id", /not a VPC id/],
  ["VPC id too short", ["x", "--vpc-id", "vpc-123", ...PUBLIC, ...PRIVATE], "--vpc-id", /not a VPC id/],
  ["VPC id with 16 hex digits", ["x", "--vpc-id", "vpc-0123456789abcdef", ...PUBLIC, ...PRIVATE], "--vpc-id", /not a VPC id/],
  ["upper-case VPC id", ["x", "--vpc-id", "VPC-01234567", ...PUBLIC, ...PRIVATE], "--vpc-id", /not a VPC id/],
  ["missing VPC id", ["x", ...PUBLIC, ...PRIVATE], "--vpc-id", /--vpc-id: is required with --public-subnets and --private-subnets/],
  [
    "malformed subnet id",
    ["x", ...EXISTING, "--public-subnets", "subnet-1,subnet-00000002", ...PRIVATE],
    "--public-subnets",
    /--public-subnets: "subnet-1" is not a subnet id/,
  ],
  [
    "subnet id with ${",
    ["x", ...EXISTING, ...PUBLIC, "--private-subnets", "subnet-00000003,${x}"],
    "--private-subnets",
    /--private-subnets: "\$\{x\}" is not a subnet id/,
  ],
  [
    "subnet listed twice",
    ["x", ...EXISTING, "--public-subnets", "subnet-00000001,subnet-00000001", ...PRIVATE],
    "--public-subnets",
    /listed twice/,
  ],
  [
    "one private subnet",
    ["x", ...EXISTING, ...PUBLIC, "--private-subnets", "subnet-00000003"],
    "--private-subnets",
    /at least two subnets/,
  ],
  ["missing private subnets", ["x", ...EXISTING, ...PUBLIC], "--private-subnets", /at least two subnets/],
  [
    "a subnet both public and private",
    ["x", ...EXISTING, ...PUBLIC, "--private-subnets", "subnet-00000001,subnet-00000004"],
    "--private-subnets",
    /also a public subnet/,
  ],

  // Config keys: prototype members, comment keys, template syntax, and values that are secrets.
  ["config key __proto__", ["x", "--config", "__proto__=x"], "--config", /--config: "__proto__" is not allowed as a key/],
  ["config key constructor", ["x", "--config", "constructor=x"], "--config", /"constructor" is not allowed as a key/],
  ["config key prototype", ["x", "--config", "prototype=x"], "--config", /"prototype" is not allowed as a key/],
  ["config key //", ["x", "--config", "//=x"], "--config", /--config: "\/\/" is not allowed as a key/],
  ["config key with {{", ["x", "--config", "{{x}}=1"], "--config", /key "\{\{x\}\}"/],
  ["config key with ${", ["x", "--config", "${X}=1"], "--config", /key "\$\{X\}"/],
  ["config key with a leading hyphen", ["x", "--config=-A=1"], "--config", /key "-A"/],
  ["config key with a leading underscore", ["x", "--config", "_A=1"], "--config", /key "_A"/],
  ["config key with a leading dot", ["x", "--config", ".A=1"], "--config", /key "\.A"/],
  ["config key the image sets", ["x", "--config", "LD_PRELOAD=/tmp/x.so"], "--config", /set by the image itself/],
  ["empty config value", ["x", "--config", "A="], "--config", /--config: A: must not be empty/],
  ["config value with NUL", ["x", "--config", "A=a\u0000b"], "--config", /control characters/],
  ["config value with BEL", ["x", "--config", "A=\u0007"], "--config", /control characters/],
  ["config value with ESC", ["x", "--config", "A=\u001b[2J"], "--config", /control characters/],
  ["config value over 4 KiB", ["x", "--config", `A=${"é".repeat(2049)}`], "--config", /over 4096 bytes/],
  [
    "password under a secret-sounding key",
    ["x", "--config", "DB_PASSWORD=hunter2"],
    "--config",
    /looks like a secret \(the key DB_PASSWORD names a secret\)/,
  ],
  ["AWS access key id as a value", ["x", "--config", "UPSTREAM=AKIAABCDEFGHIJKLMNOP"], "--config", /an AWS access key id/],
  ["GitHub token as a value", ["x", "--config", `GH=ghp_${"a1".repeat(18)}`], "--config", /a GitHub token/],
  ["Slack token as a value", ["x", "--config", "HOOK=xoxb-1234567890-abcdef"], "--config", /a Slack token/],
  ["Stripe key as a value", ["x", "--config", "PAY=sk_live_abcdefghijklmnop1234"], "--config", /a Stripe key/],
  [
    "JSON web token as a value",
    ["x", "--config", "AUTH=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop"],
    "--config",
    /a JSON web token/,
  ],
  ["private key as a value", ["x", "--config", "CERT=-----BEGIN PRIVATE KEY-----\nMIIE"], "--config", /a private key/],
  [
    "URL with a password as a value",
    ["x", "--config", "DATABASE_URL=postgres://app:s3cret@db:5432/app"],
    "--config",
    /a URL with a password/,
  ],

  // Secret names.
  ["secret name with a space", ["x", "--secret", "DB PASSWORD"], "--secret", /--secret: "DB PASSWORD" is not a name/],
  ["secret name with a hyphen", ["x", "--secret", "DB-PASSWORD"], "--secret", /is not a name like DATABASE_PASSWORD/],
  ["secret name __proto__", ["x", "--secret", "__proto__"], "--secret", /"__proto__" is not a name/],
  ["secret NAME=value", ["x", "--secret", "DB_PASSWORD=hunter2"], "--secret", /"DB_PASSWORD=hunter2" is not a name/],
  [
    "secret value (an AWS key) given as its name",
    ["x", "--secret", "AKIAABCDEFGHIJKLMNOP"],
    "--secret",
    /looks like a secret's value \(the value contains an AWS access key id\), not its name/,
  ],
  [
    "secret value (a GitHub token) given as its name",
    ["x", "--secret", `ghp_${"a1".repeat(18)}`],
    "--secret",
    /a GitHub token\), not its name/,
  ],
  ["secret name the image sets", ["x", "--secret", "LD_PRELOAD"], "--secret", /set by the image itself/],
  ["secret listed twice", ["x", "--secret", "TOKEN", "--secret", "TOKEN"], "--secret", /TOKEN is listed twice/],
  ["secret that is also config", ["x", "--config", "API_URL=https://x", "--secret", "API_URL"], "--secret", /also a plain config key/],

  // Options named after Object.prototype's members were taken as known flags before.
  ["--constructor", ["x", "--constructor", "y"], "--constructor", /is not a known option/],
  ["--__proto__", ["x", "--__proto__=1"], "--__proto__", /is not a known option/],
  ["--hasOwnProperty", ["x", "--hasOwnProperty", "1"], "--hasOwnProperty", /is not a known option/],
  ["--no-toString", ["x", "--no-toString"], "--no-toString", /is not a known option/],
];

/** A message about a flag names the flag and the problem: no config field (`appName:`, `network.cidr:`) after it. */
const FIELD_AFTER_FLAG =
  /^(?:create-immutable-app: | {2}- )--[a-z-]+: (?:appName|region|environments|instanceType|min|max|appPort|healthCheckPath|image|certificateArn|network|config|secrets)\b[.[:]/m;

describe("bad flags: exit 2, the flag named, nothing written", () => {
  it.each(FLAG_CASES)("%s", async (_what, argv, subject, message) => {
    const stderr = await expectRefused({ argv: [...argv, "--yes"] }, subject, message);
    expect(stderr).not.toMatch(FIELD_AFTER_FLAG);
    expect(stderr).not.toMatch(/immutable\.config\.json|managed\//);
  });

  it("reports every bad flag of one run, each with its own flag", async () => {
    const stderr = await expectRefused(
      {
        argv: [
          "x",
          "--yes",
          "--name",
          "a${b}",
          "--region",
          "constructor",
          "--port",
          "0",
          "--vpc-cidr",
          "10.0.0.0/33",
          "--config",
          "__proto__=x",
          "--secret",
          "AKIAABCDEFGHIJKLMNOP",
        ],
      },
      "--name",
      /"a\$\{b\}" must start with a lower-case letter/,
    );
    expect(stderr).toMatch(/invalid answers \(6 problems\)/);
    expect(stderr).not.toMatch(FIELD_AFTER_FLAG);
    for (const flag of ["--name", "--region", "--port", "--vpc-cidr", "--config", "--secret"])
      expect(stderr).toMatch(new RegExp(`^  - ${flag}: `, "m"));
  });
});

type FileCase = readonly [what: string, file: string | Buffer | Record<string, unknown>, message: RegExp];

/** Bad answers files; every message names `--config-file a.json` (not/list/null/shape/huge: cli.test.ts). */
const FILE_CASES: readonly FileCase[] = [
  // Wrong JSON types for fields that have a question were replaced by the default (or crashed) before.
  ["a number as region", { appName: "x", region: 5 }, /region: must be a string, got number 5/],
  ["a number as health path", { appName: "x", healthCheckPath: 5 }, /healthCheckPath: must be a string, got number 5/],
  ["a number as certificate ARN", { appName: "x", certificateArn: 5 }, /certificateArn: must be a string, got number 5/],
  ["a string as image", { appName: "x", image: "nginx" }, /image: must be an object, got "nginx"/],
  ["a number as container image", { appName: "x", image: { containerImage: 7 } }, /image\.containerImage: must be a string, got number 7/],
  ["null as network", { appName: "x", network: null }, /network: must be an object, got null/],
  ["null as config", { appName: "x", config: null }, /config: must be an object of strings, got null/],
  ["a string as secrets", { appName: "x", secrets: "DB_PASSWORD" }, /secrets: must be a list/],
  ["a string as environments", { appName: "x", environments: "prod" }, /environments: must be a list/],
  ["a string as port", { appName: "x", appPort: "8080" }, /appPort: must be a whole number/],
  ["a fraction as port", { appName: "x", appPort: 80.5 }, /appPort: must be a whole number/],
  ["a name with ${", { appName: "a${b}" }, /appName: "a\$\{b\}"/],
  // Prototype keys and comment keys, as JSON.parse gives them (own properties).
  ["__proto__ as a config key", '{"appName":"x","config":{"__proto__":"x"}}', /config\.__proto__: "__proto__" is not allowed as a key/],
  ["constructor as a config key", '{"appName":"x","config":{"constructor":"x"}}', /config\.constructor: "constructor" is not allowed/],
  ["// as a config key", '{"appName":"x","config":{"//":"x"}}', /config\["\/\/"\]: "\/\/" is not allowed as a key/],
  ["__proto__ as a tag key", '{"appName":"x","tags":{"__proto__":"x"}}', /tags\.__proto__: "__proto__" is not allowed/],
  ["constructor as a tag key", '{"appName":"x","tags":{"constructor":"x"}}', /tags\.constructor: "constructor" is not allowed/],
  [
    "// as a tag key (Terraform JSON's comment key: the export dropped the tag)",
    '{"appName":"x","tags":{"//":"x"}}',
    /tags\["\/\/"\]: "\/\/" is not allowed as a key \(Terraform JSON reads it as a comment\)/,
  ],
  ["__proto__ at the top level", '{"appName":"x","__proto__":{"appPort":22}}', /__proto__: is not a known field/],
  ["// at the top level", '{"appName":"x","//":"a comment"}', /\/\/: is not a known field/],
  [
    "__proto__ in an environment",
    '{"appName":"x","environments":[{"name":"dev","__proto__":{"minCapacity":9}}]}',
    /environments\[0\]\.__proto__: is not a known field/,
  ],
  [
    "__proto__ in an environment's config",
    '{"appName":"x","environments":[{"name":"dev","config":{"__proto__":"x"}}]}',
    /environments\[0\]\.config\.__proto__/,
  ],
  // Networks only the file can describe.
  [
    "overlapping subnets",
    {
      appName: "x",
      network: {
        cidr: "10.0.0.0/16",
        publicSubnetCidrs: ["10.0.0.0/20", "10.0.16.0/20"],
        privateSubnetCidrs: ["10.0.8.0/24", "10.0.128.0/20"],
      },
    },
    /network\.privateSubnetCidrs\[0\]: 10\.0\.8\.0\/24 overlaps network\.publicSubnetCidrs\[0\]/,
  ],
  [
    "the same subnet twice",
    { appName: "x", network: { publicSubnetCidrs: ["10.0.0.0/20", "10.0.0.0/20"] } },
    /publicSubnetCidrs\[1\]: 10\.0\.0\.0\/20 overlaps/,
  ],
  [
    "a subnet outside the VPC",
    { appName: "x", network: { publicSubnetCidrs: ["10.1.0.0/20", "10.0.16.0/20"] } },
    /not inside the VPC block/,
  ],
  [
    "a subnet smaller than /27 for the load balancer",
    { appName: "x", network: { publicSubnetCidrs: ["10.0.0.0/29", "10.0.16.0/20"] } },
    /smaller than \/27/,
  ],
  [
    "a private subnet smaller than /28",
    { appName: "x", network: { privateSubnetCidrs: ["10.0.128.0/29", "10.0.144.0/20"] } },
    /smaller than \/28/,
  ],
  [
    "an invalid subnet CIDR",
    { appName: "x", network: { privateSubnetCidrs: ["10.0.128.0/20", "10.0.144.0/40"] } },
    /privateSubnetCidrs\[1\]/,
  ],
  [
    "a zone of another region",
    { appName: "x", region: "eu-west-1", network: { availabilityZones: ["us-east-1a", "us-east-1b"] } },
    /a zone of eu-west-1/,
  ],
  [
    "existing-VPC fields on a new VPC",
    { appName: "x", network: { mode: "new", vpcId: "vpc-01234567" } },
    /network\.vpcId: applies to mode "existing" only/,
  ],
  [
    "malformed subnet ids",
    {
      appName: "x",
      network: {
        mode: "existing",
        vpcId: "vpc-01234567",
        publicSubnetIds: ["subnet-0000000g", "subnet-00000002"],
        privateSubnetIds: ["subnet-00000003", "subnet-00000004"],
      },
    },
    /publicSubnetIds\[0\]: "subnet-0000000g" is not a subnet id/,
  ],
  // Image sources and the state backend.
  ["an AMI id as amiSource", { appName: "x", amiSource: "ami-123" }, /amiSource: must be "variable" or "resolve:ssm:/],
  ["a bad SSM name in amiSource", { appName: "x", amiSource: "resolve:ssm:/a b" }, /"\/a b" is not an SSM parameter name/],
  [
    "a bad AMI publish parameter",
    { appName: "x", image: { amiParameter: "no-slash" } },
    /image\.amiParameter: "no-slash" is not an SSM parameter name/,
  ],
  [
    "a bad build instance type",
    { appName: "x", image: { buildInstanceType: "huge" } },
    /image\.buildInstanceType: "huge" is not an EC2 instance type/,
  ],
  [
    "a backend region named after a prototype member",
    { appName: "x", backend: { bucket: "my-state", region: "toString" } },
    /backend\.region: "toString" is not a known AWS region/,
  ],
  ["a backend key prefix with ..", { appName: "x", backend: { bucket: "my-state", keyPrefix: "a/../b" } }, /backend\.keyPrefix/],
  [
    "a backend bucket like an IP address",
    { appName: "x", backend: { bucket: "10.0.0.1" } },
    /backend\.bucket: "10\.0\.0\.1" is not a valid S3 bucket name/,
  ],
  // Secrets where plain values belong, and values where names belong.
  [
    "a secret-sounding key in an environment's config",
    { appName: "x", environments: [{ name: "dev", config: { API_TOKEN: "x" } }] },
    /environments\[0\]\.config\.API_TOKEN: looks like a secret/,
  ],
  [
    "an AWS key as a tag value",
    { appName: "x", tags: { deployer: "AKIAABCDEFGHIJKLMNOP" } },
    /tags\.deployer: looks like a secret \(the value contains an AWS access key id\)/,
  ],
  [
    "a secret's value instead of its name",
    { appName: "x", secrets: [{ DB_PASSWORD: "hunter2" }] },
    /secrets\[0\]: must be a secret's name \(not its value\)/,
  ],
  // Capacities.
  [
    "min > max in an environment",
    { appName: "x", environments: [{ name: "dev", minCapacity: 5, maxCapacity: 2 }] },
    /environments\[0\]\.minCapacity: is 5, more than maxCapacity 2/,
  ],
  [
    "desired outside min..max",
    { appName: "x", environments: [{ name: "dev", minCapacity: 1, maxCapacity: 2, desiredCapacity: 3 }] },
    /desiredCapacity: is 3/,
  ],
  ["an environment that is a string", { appName: "x", environments: ["prod"] }, /environments\[0\]: must be an object/],
  // Files that are not JSON objects in other ways.
  ["empty", "", /is not valid JSON/],
  ["binary", Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80]), /is not valid JSON/],
  ["JSON with trailing garbage", '{"appName":"x"} {}', /is not valid JSON/],
  ["a number", "5", /must hold a JSON object .* got number/],
  ["a string", '"x"', /must hold a JSON object .* got string/],
  ["nested 300,000 levels deep", `${"[".repeat(300_000)}${"]".repeat(300_000)}`, /(is not valid JSON|got a list)/],
  [
    "an object nested 100,000 levels deep in a field",
    `{"appName":"x","tags":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`,
    /(is not valid JSON|tags\.a: must be a string, got an object)/,
  ],
];

describe("bad answers files: exit 2, the file and field named, nothing written", () => {
  it.each(FILE_CASES)("%s", async (_what, file, message) => {
    await expectRefused({ argv: ["x", "--yes", "--config-file", "a.json"], file }, "--config-file a.json", message);
  });

  it("names --config when the file was given with --config FILE", async () => {
    await expectRefused(
      { argv: ["x", "--yes", "--config", "a.json"], file: { appName: "x", region: 5 } },
      "--config a.json",
      /region: must be a string/,
    );
  });

  it("refuses a device without reading it (/dev/zero would never end)", async () => {
    await expectRefused({ argv: ["x", "--yes", "--config-file", "/dev/zero"] }, "--config-file /dev/zero", /is not a regular file/);
  });

  it("refuses a file one byte over the limit but reads one exactly at it", async () => {
    const exact = JSON.stringify({ appName: "x", tags: { team: "web" } });
    const padded = exact + " ".repeat(MAX_ANSWERS_FILE_BYTES - Buffer.byteLength(exact));
    const ws = workspace();
    writeFileSync(join(ws.cwd, "a.json"), padded);
    const r = await runInWorkspace({ argv: ["x", "--yes", "--dry-run", "--config-file", "a.json"] }, ws);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await expectRefused(
      { argv: ["x", "--yes", "--config-file", "a.json"], file: `${padded} ` },
      "--config-file a.json",
      /is 1048577 bytes/,
    );
  });

  it("accepts a UTF-8 byte-order mark (editors on Windows write one)", async () => {
    const r = await runInWorkspace({
      argv: ["x", "--yes", "--dry-run", "--config-file", "a.json"],
      file: `\uFEFF${JSON.stringify({ appName: "x" })}`,
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("bad answers at the prompts: refused as typed, re-asked, nothing written", () => {
  // inquirer shows the validator's message and asks again, so a prompt never exits 2: the test types the
  // bad answer, checks the message, then presses Ctrl-C (exit 130) and checks that nothing was written.
  it.each([
    [/^App name/, "a${b}", /must start with a lower-case letter/],
    [/^App name/, "nul", /reserved device name/],
    [/^AWS region/, "constructor", /"constructor" is not a known AWS region/],
    [/^Environments/, "staging,Prod", /"Prod" must start with a lower-case letter/],
    [/^Instance type/, "t3", /not an EC2 instance type/],
    [/^Minimum instances/, "-1", /type a whole number/],
    [/^Maximum instances/, "1", /--max: 1 is less than your answer for --min, 2/],
    [/^Port/, "0", /must be from 1 to 65535/],
    [/^Port/, "65536", /must be from 1 to 65535/],
    [/^Health-check path/, "/${x}", /not a URL path/],
    [/^Container image/, "a/b:${x}", /not a container image reference/],
    [/^ACM certificate ARN/, "arn:aws:acm:us-east-1:123:certificate/x", /not an ACM certificate ARN/],
    [/^VPC CIDR/, "10.0.0.0/33", /over 32|\/33/],
    [/^Config value/, "__proto__=x", /"__proto__" is not allowed as a key/],
    [/^Config value/, "DB_PASSWORD=hunter2", /looks like a secret/],
    [/^Config value/, "A=\u0000", /control characters/],
    [/^Secret names/, "AKIAABCDEFGHIJKLMNOP", /not its name/],
  ])("%s refuses %j", async (question, bad, message) => {
    const seen: { verdict?: true | string; asked: string[] } = { asked: [] };
    const r = await runInWorkspace({ argv: ["shop"], prompter: probingPrompter(question, bad, seen) });
    expect(seen.asked.some((m) => question.test(m))).toBe(true);
    expect(seen.verdict).toEqual(expect.stringMatching(message));
    expect(r.code).toBe(130);
    expect(r.after).toEqual(r.before);
  });
});

/**
 * The target directory argument. Decision: it is a path the user typed, so it may lie anywhere the user
 * can write — `..`, `../sibling`, an absolute path — and its own name may be anything the file system
 * allows (a Windows device name like `con` too: the directory's name is never part of the project, so a
 * checkout elsewhere is unaffected). What is refused: an empty argument (what an unset "$DIR" gives),
 * control characters, a leading `~` (only a shell expands it), a target that exists and is not an empty
 * directory (unless --force), a symlink (generator-write.test.ts); all of it before the first question
 * (cli.test.ts, cli-pty.test.ts). The app name derived from the directory (resolved: `.` is the current
 * directory, `..` its parent) must itself be valid; otherwise --name is required and named.
 */
describe("the target directory", () => {
  it.each([
    ["empty (an unset $DIR)", ["", "--name", "x"], "[dir]", /is empty/],
    [
      "empty, without --name (not read as the current directory)",
      [""],
      "[dir]",
      /is empty; give a directory name \(or \. for the current directory\)/,
    ],
    ["~ alone", ["~", "--name", "x"], "[dir]", /starts with ~/],
    ["a newline", ["a\nb", "--name", "x"], "[dir]", /control characters/],
    ["NUL", ["a\u0000b", "--name", "x"], "[dir]", /control characters/],
    ["ESC", ["a\u001bb", "--name", "x"], "[dir]", /control characters/],
    [".. (the parent: not empty)", [".."], "[dir]", /is not empty; nothing was written/],
    [
      ". (the current directory, which holds the user's notes.txt)",
      ["."],
      "[dir]",
      /work is not empty; nothing was written\.\n {2}it contains: notes\.txt/,
    ],
    [".. with --name: the parent is not empty", ["..", "--name", "x"], "[dir]", /is not empty; nothing was written/],
    ["/ with --name: not empty", ["/", "--name", "x"], "[dir]", /is not empty|read-only/],
    ["an existing file", ["notes.txt", "--name", "x"], "[dir]", /exists and is not a directory/],
    ["a device name (names no app)", ["con"], "--name", /"con" is a reserved device name/],
    ["upper case (names no app)", ["MyApp"], "--name", /not a valid app name/],
    ["${x} (names no app)", ["${x}"], "--name", /not a valid app name/],
    ["a leading dot (names no app)", [".app"], "--name", /not a valid app name/],
    ["a leading hyphen is an option", ["-app"], "-app", /not a known option/],
  ])("refuses %s", async (_what, argv, subject, message) => {
    await expectRefused({ argv: [...argv, "--yes"] }, subject, message);
  });

  it("refuses . in a directory whose name is not an app name, naming --name, before writing anything", async () => {
    const ws = workspace();
    const cwd = join(ws.cwd, "My Project");
    mkdirSync(cwd);
    const before = treeSnapshot(ws.root);
    const r = await runInWorkspace({ argv: [".", "--yes", "--no-install", "--no-git"] }, { ...ws, cwd });
    expect(r.code).toBe(2);
    expect(namedLine(r.stderr, "--name")).toMatch(
      /is required: the name of "\.", "My Project", is not a valid app name \("My Project" must start with a lower-case letter/,
    );
    expect(treeSnapshot(ws.root)).toEqual(before);
  });

  it("writes to ../sibling when typed so, and nowhere else", async () => {
    const ws = workspace();
    const r = await runInWorkspace({ argv: ["../sibling", "--name", "shop", "--yes", "--no-install", "--no-git"] }, ws);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(ws.root, "sibling", "immutable.config.json"))).toBe(true);
    expect(treeSnapshot(ws.cwd)).toEqual(
      Object.fromEntries(
        Object.entries(r.before)
          .filter(([p]) => p.startsWith("work/"))
          .map(([p, h]) => [p.slice(5), h]),
      ),
    );
    expect(Object.keys(r.after).filter((p) => !p.startsWith("sibling"))).toEqual(Object.keys(r.before));
  });

  it("derives the app name from an absolute path's last segment", async () => {
    const ws = workspace();
    const target = join(ws.root, "deep", "er", "shop-api");
    const r = await runInWorkspace({ argv: [target, "--yes", "--no-install", "--no-git"] }, ws);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(target, "package.json"), "utf8")).name).toBe("shop-api");
  });

  it.each([
    ["a device name", "con"],
    ["template and quote characters", "my ${app} \"q\" 'a' {{x}} %{y}"],
    ["a leading hyphen (after --)", "-x"],
    ["unicode", "projekt-ü"],
  ])("accepts a directory with %s when --name is given; no file holds its path, and the printed cd works", async (_what, dir) => {
    const ws = workspace();
    const argv = dir.startsWith("-")
      ? ["--name", "shop", "--yes", "--no-install", "--no-git", "--", dir]
      : [dir, "--name", "shop", "--yes", "--no-install", "--no-git"];
    const r = await runInWorkspace({ argv }, ws);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const target = join(ws.cwd, dir);
    expect(existsSync(join(target, "immutable.config.json"))).toBe(true);
    const files = Object.entries(treeSnapshot(target))
      .filter(([, kind]) => kind !== "dir")
      .map(([path]) => path);
    // Nothing of the generating machine: not the target's absolute path, not the directory as typed.
    expect(files.filter((path) => readFileSync(join(target, path), "utf8").includes(ws.root))).toEqual([]);
    if (dir.includes("$")) expect(files.filter((path) => readFileSync(join(target, path), "utf8").includes(dir))).toEqual([]);
    const cd = /^ {2}cd (.+)$/m.exec(r.stdout)?.[1];
    expect(cd).toBeDefined();
    const pwd = execFileSync("bash", ["-c", `cd ${cd} && pwd -P`], { cwd: ws.cwd, encoding: "utf8" }).trim();
    expect(pwd).toBe(execFileSync("bash", ["-c", 'cd -- "$1" && pwd -P', "_", target], { encoding: "utf8" }).trim());
  });

  it("leaves no temp directory beside a target it refused (conflicts are found before anything is written)", async () => {
    const ws = workspace();
    mkdirSync(join(ws.cwd, "busy"));
    writeFileSync(join(ws.cwd, "busy", "README.md"), "mine\n");
    const r = await runInWorkspace({ argv: ["busy", "--yes", "--no-install", "--no-git"] }, ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[dir\]: .*busy is not empty; nothing was written[\s\S]*README\.md/);
    expect(r.after).toEqual(r.before);
  });
});
