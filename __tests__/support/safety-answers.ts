/**
 * Answer sets for the property tests: a structured description of everything a user can answer, its
 * CLI invocation (flags, plus an answers file for what only a file can say), fast-check arbitraries of
 * valid sets, and a catalogue of one-field mutations that make a set invalid (with the flag that must
 * be named).
 */
import fc from "fast-check";
import {
  REGIONS,
  RESERVED_DEVICE_NAMES,
  architectureOf,
  reservedAppNameReason,
  reservedEnvironmentNameReason,
} from "../../managed/aws-rules";
import { RESERVED_ENV_NAMES } from "../../managed/names";

export interface EnvAnswer {
  readonly name: string;
  readonly instanceType: string;
  readonly min: number;
  readonly max: number;
  /** Only an answers file can set it; with flags it is the default (min). */
  readonly desired: number;
}

export type NetworkAnswerSet =
  | { readonly mode: "new"; readonly cidr: string }
  | {
      readonly mode: "existing";
      readonly vpcId: string;
      readonly publicSubnetIds: readonly string[];
      readonly privateSubnetIds: readonly string[];
    };

export interface AnswerSet {
  readonly dir: string;
  readonly name: string;
  readonly region: string;
  /** "flags": --environments/--instance-type/--min/--max (every environment alike); "file": objects. */
  readonly envVia: "flags" | "file";
  readonly environments: readonly EnvAnswer[];
  readonly port: number;
  readonly healthPath: string;
  readonly configVia: "flags" | "file";
  readonly config: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  readonly network: NetworkAnswerSet;
  /** Only an answers file can set tags. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface Invocation {
  readonly argv: string[];
  /** The answers file (`a.json` in the cwd), when the set needs one. */
  readonly file?: Record<string, unknown>;
}

export const ANSWERS_FILE = "a.json";
export const FILE_SUBJECT = `--config-file ${ANSWERS_FILE}`;

/** The command line (and answers file) that gives exactly `set`. */
export function invocation(set: AnswerSet): Invocation {
  const argv = [set.dir, "--name", set.name, "--region", set.region, "--port", String(set.port), "--health-path", set.healthPath];
  const file: Record<string, unknown> = {};
  if (set.envVia === "flags") {
    const e = set.environments[0];
    argv.push(
      "--environments",
      set.environments.map((env) => env.name).join(","),
      "--instance-type",
      e.instanceType,
      "--min",
      String(e.min),
      "--max",
      String(e.max),
    );
  } else {
    file.environments = set.environments.map((e) => ({
      name: e.name,
      instanceType: e.instanceType,
      minCapacity: e.min,
      maxCapacity: e.max,
      desiredCapacity: e.desired,
    }));
  }
  if (set.configVia === "flags") {
    for (const [key, value] of Object.entries(set.config)) argv.push("--config", `${key}=${value}`);
  } else {
    // defineProperty: a mutation may use __proto__ as a key, which must reach the file as a field.
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(set.config)) Object.defineProperty(config, key, { value, enumerable: true });
    file.config = config;
  }
  for (const name of set.secrets) argv.push("--secret", name);
  if (set.network.mode === "new") argv.push("--vpc-cidr", set.network.cidr);
  else
    argv.push(
      "--vpc-id",
      set.network.vpcId,
      "--public-subnets",
      set.network.publicSubnetIds.join(","),
      "--private-subnets",
      set.network.privateSubnetIds.join(","),
    );
  if (Object.keys(set.tags).length > 0) {
    const tags: Record<string, string> = {};
    for (const [key, value] of Object.entries(set.tags)) Object.defineProperty(tags, key, { value, enumerable: true });
    file.tags = tags;
  }
  argv.push("--yes", "--no-install", "--no-git");
  if (Object.keys(file).length === 0) return { argv };
  argv.push("--config-file", ANSWERS_FILE);
  return { argv, file };
}

// ---- valid values ----

const lowerName = (maxRest: number) =>
  fc.stringMatching(new RegExp(`^[a-z][a-z0-9]{0,${maxRest}}(-[a-z0-9]{1,3})?$`)).filter((n) => !RESERVED_DEVICE_NAMES.has(n));

/** App names up to 16 characters; names of Object.prototype members that are valid names too. */
const appName = fc
  .oneof({ weight: 5, arbitrary: lowerName(10) }, { weight: 1, arbitrary: fc.constantFrom("constructor", "prototype", "proto", "a") })
  .filter((n) => !reservedAppNameReason(n));
/** Environment names up to 12 characters (with a 16-character app name: 29 <= 32 for the ALB name). */
const envName = fc
  .oneof({ weight: 4, arbitrary: lowerName(6) }, { weight: 1, arbitrary: fc.constantFrom("staging", "production", "valueof", "proto") })
  .filter((n) => !reservedEnvironmentNameReason(n));

const INSTANCE_TYPES = [
  "t3.small",
  "t3.micro",
  "t4g.nano",
  "m7g.large",
  "c6in.32xlarge",
  "m7i-flex.large",
  "u-6tb1.metal",
  "mac2-m2.metal",
  "r5.24xlarge",
  "x2iedn.metal",
];

const capacity = fc
  .tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }))
  .map(([a, b, c]) => {
    const [min, desired, max] = [a, b, c].sort((x, y) => x - y);
    return { min, desired, max: Math.max(max, 1) };
  });

/** Characters a config value may hold that templates, JSON, HCL, YAML, Markdown and shells care about. */
const EXOTIC = [
  "$",
  "%",
  "${",
  "%{",
  "$${",
  "%%{",
  "}",
  "{",
  "{{",
  "}}",
  "{{{",
  '"',
  "'",
  "`",
  "\\",
  "\n",
  "\t",
  "\r\n",
  "=",
  "&",
  "<",
  ">",
  "|",
  "#",
  "*",
  "_",
  "-",
  "!",
  "@",
  "/",
  "//",
  "..",
  "~",
  "é",
  "e\u0301",
  "ß",
  "日本",
  "😀",
  "\u00a0",
  "\u202e",
  "\u2028",
  "\uf9a8",
  "Zoë",
];
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EXOTIC) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom("a", "b", "1", " ", "x y") },
);
/** Non-empty, well-formed UTF-16, no control characters but newline and tab (so CR-LF loses its CR). */
export const configValue = fc
  .array(piece, { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join("").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ""))
  .filter((v) => v.length > 0 && !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v));

const parameterKey = fc
  .stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/)
  .filter((k) => !RESERVED_ENV_NAMES.test(k) && !/(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i.test(k));

const TAG_PIECES = ["a", "Z", "0", "_", ".", ":", "/", "//", "=", "+", "-", "@", " ", "é", "ß", "日本", "Zoë", "Ünïcode"];
const tagText = (min: number) =>
  fc.array(fc.constantFrom(...TAG_PIECES), { minLength: min, maxLength: 6 }).map((p) => p.join("").normalize("NFC"));
const tagKey = tagText(1).filter(
  (k) => !k.startsWith("aws:") && !["app", "environment", "managed-by", "constructor", "prototype", "__proto__", "//"].includes(k),
);

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const awsId = (prefix: string) => fc.oneof(hex(8), hex(17)).map((h) => `${prefix}-${h}`);

const network: fc.Arbitrary<NetworkAnswerSet> = fc.oneof(
  fc
    .oneof(
      fc.integer({ min: 0, max: 255 }).map((b) => `10.${b}.0.0/16`),
      fc.tuple(fc.integer({ min: 16, max: 31 }), fc.integer({ min: 0, max: 15 })).map(([b, c]) => `172.${b}.${c * 16}.0/20`),
      fc.integer({ min: 0, max: 127 }).map((c) => `192.168.${c * 2}.0/23`),
    )
    .map((cidr) => ({ mode: "new" as const, cidr })),
  fc
    .record({
      vpcId: awsId("vpc"),
      subnets: fc.uniqueArray(awsId("subnet"), { minLength: 4, maxLength: 6 }),
    })
    .map(({ vpcId, subnets }) => ({
      mode: "existing" as const,
      vpcId,
      publicSubnetIds: subnets.slice(0, 2),
      privateSubnetIds: subnets.slice(2),
    })),
);

export const validAnswerSet: fc.Arbitrary<AnswerSet> = fc
  .record({
    dir: fc.constantFrom("app", "my app", "projects/new", "../elsewhere/app", "ünï ${x}"),
    name: appName,
    region: fc.constantFrom(...Object.keys(REGIONS)),
    envVia: fc.constantFrom("flags" as const, "file" as const),
    envNames: fc.uniqueArray(envName, { minLength: 1, maxLength: 3 }),
    instanceTypes: fc.array(fc.constantFrom(...INSTANCE_TYPES), { minLength: 3, maxLength: 3 }),
    capacities: fc.array(capacity, { minLength: 3, maxLength: 3 }),
    port: fc.integer({ min: 1, max: 65535 }).filter((p) => p !== 22),
    healthPath: fc.stringMatching(/^\/[A-Za-z0-9/_.~%-]{0,30}$/),
    configVia: fc.constantFrom("flags" as const, "file" as const),
    config: fc.dictionary(parameterKey, configValue, { minKeys: 1, maxKeys: 5 }),
    secretNames: fc.uniqueArray(parameterKey, { maxLength: 3 }),
    network,
    tags: fc.dictionary(tagKey, tagText(0), { maxKeys: 4 }),
  })
  .map((r) => {
    const environments = r.envNames.map((name, i) => {
      const c = r.envVia === "flags" ? r.capacities[0] : r.capacities[i];
      return {
        name,
        // One image serves every environment: a type of another architecture falls back to the first.
        instanceType:
          r.envVia === "flags" || architectureOf(r.instanceTypes[i]) !== architectureOf(r.instanceTypes[0])
            ? r.instanceTypes[0]
            : r.instanceTypes[i],
        min: c.min,
        max: c.max,
        desired: r.envVia === "flags" ? c.min : c.desired,
      };
    });
    return {
      dir: r.dir,
      name: r.name,
      region: r.region,
      envVia: r.envVia,
      environments,
      port: r.port,
      healthPath: r.healthPath,
      configVia: r.configVia,
      config: r.config,
      secrets: r.secretNames.filter((n) => !Object.hasOwn(r.config, n)),
      network: r.network,
      tags: r.tags,
    };
  });

// ---- one-field mutations that make a set invalid ----

export interface Mutation {
  /** What was broken, for the failure message. */
  readonly what: string;
  readonly apply: (set: AnswerSet) => AnswerSet;
  /** The subject the error must name, given the (unmutated) set. */
  readonly subject: (set: AnswerSet) => string;
}

const via =
  (flag: string, key: "envVia" | "configVia") =>
  (set: AnswerSet): string =>
    set[key] === "flags" ? flag : FILE_SUBJECT;
const withEnv0 = (set: AnswerSet, change: Partial<EnvAnswer>): AnswerSet => ({
  ...set,
  environments: set.environments.map((e, i) => (set.envVia === "flags" || i === 0 ? { ...e, ...change } : e)),
});

const BAD_NAMES = [
  "a${b}",
  "a%{b}",
  'a"b',
  "a\\b",
  "a\nb",
  "a\u0000b",
  "a\u007fb",
  "{{x}}",
  "x}}",
  "__proto__",
  ".app",
  "-app",
  "_app",
  "MyApp",
  "a".repeat(21),
  "..",
  "../x",
  "/abs",
  "~x",
  "con",
  "lpt1",
  "app-",
  "a--b",
  "",
];
const BAD_REGIONS = ["us-east-7", "US-EAST-1", "constructor", "__proto__", "toString", "", "eu-west-1 ", "${region}"];
const BAD_ENV_NAMES = ["Staging", "../prod", "__proto__", "constructor", "a.b", "a b", "prod${x}", "x".repeat(13), "nul"];
const BAD_INSTANCE_TYPES = ["t3", "T3.small", "t3.small;reboot", "t3.${x}", "huge", "t3.small ", ".small"];
const BAD_PORTS = [0, 65536, 22, 99999];
const BAD_HEALTH_PATHS = ["health", "/a b", "/${x}", '/a"b', "/a\nb", "/a?b", `/${"a".repeat(1024)}`];
const BAD_CONFIG_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "//",
  "{{x}}",
  "${X}",
  "_A",
  "1A",
  "A-B",
  "PATH",
  "LD_PRELOAD",
  "AWS_REGION",
  "A".repeat(129),
];
const BAD_CONFIG_VALUES = [
  "",
  "a\u0000b",
  "\u0007",
  "\u001b[2J",
  "é".repeat(2049),
  "AKIAABCDEFGHIJKLMNOP",
  `ghp_${"a1".repeat(18)}`,
  "postgres://u:pw@db/x",
  "-----BEGIN RSA PRIVATE KEY-----",
];
const BAD_SECRETS = ["DB PASSWORD", "DB-PASSWORD", "__proto__", "A=b", "LD_PRELOAD", "AKIAABCDEFGHIJKLMNOP", "1ABC"];
const BAD_CIDRS = [
  "10.0.0.0/33",
  "10.0.1.0/16",
  "300.0.0.0/16",
  "10.0.0.0",
  "10.01.0.0/16",
  "8.8.0.0/16",
  "10.0.0.0/8",
  "10.0.0.0/26",
  "${cidr}",
  "",
];
const BAD_VPC_IDS = ["vpc-xyz12345", "vpc-123", "VPC-01234567", "vpc-0123456789abcdef", "subnet-01234567", ""];
const BAD_SUBNET_IDS = ["subnet-1", "subnet-0000000g", "SUBNET-01234567", "vpc-01234567", "subnet-${x}"];
const BAD_TAG_KEYS = ["aws:owner", "app", "managed-by", "__proto__", "constructor", "//", "a$b", "x".repeat(129)];
const BAD_TAG_VALUES = ["a$b", "%{x}", 'a"b', "a\nb", "x".repeat(257), "AKIAABCDEFGHIJKLMNOP"];
const BAD_DIRS = ["", "~", "~/x", "a\nb", "a\u0000b"];

function each<T>(values: readonly T[], make: (v: T) => Mutation): Mutation[] {
  return values.map(make);
}

export const MUTATIONS: readonly Mutation[] = [
  ...each(BAD_NAMES, (v) => ({ what: `name ${JSON.stringify(v)}`, apply: (s) => ({ ...s, name: v }), subject: () => "--name" })),
  ...each(BAD_REGIONS, (v) => ({ what: `region ${JSON.stringify(v)}`, apply: (s) => ({ ...s, region: v }), subject: () => "--region" })),
  ...each(BAD_ENV_NAMES, (v) => ({
    what: `environment ${JSON.stringify(v)}`,
    apply: (s) => withEnv0(s, { name: v }),
    subject: via("--environments", "envVia"),
  })),
  ...each(BAD_INSTANCE_TYPES, (v) => ({
    what: `instance type ${JSON.stringify(v)}`,
    apply: (s) => withEnv0(s, { instanceType: v }),
    subject: via("--instance-type", "envVia"),
  })),
  { what: "min > max", apply: (s) => withEnv0(s, { min: 5, max: 4, desired: 4 }), subject: via("--min", "envVia") },
  { what: "max over 1000", apply: (s) => withEnv0(s, { min: 1, max: 1001, desired: 1 }), subject: via("--max", "envVia") },
  { what: "max 0", apply: (s) => withEnv0(s, { min: 0, max: 0, desired: 0 }), subject: via("--max", "envVia") },
  ...each(BAD_PORTS, (v) => ({ what: `port ${v}`, apply: (s) => ({ ...s, port: v }), subject: () => "--port" })),
  ...each(BAD_HEALTH_PATHS, (v) => ({
    what: `health path ${JSON.stringify(v)}`,
    apply: (s) => ({ ...s, healthPath: v }),
    subject: () => "--health-path",
  })),
  ...each(BAD_CONFIG_KEYS, (v) => ({
    what: `config key ${JSON.stringify(v)}`,
    apply: (s) => ({ ...s, config: { ...s.config, ...defineKey(v, "x") } }),
    subject: via("--config", "configVia"),
  })),
  ...each(BAD_CONFIG_VALUES, (v) => ({
    what: `config value ${JSON.stringify(v)}`,
    apply: (s) => ({ ...s, config: { ...s.config, ZZ_BAD: v } }),
    subject: via("--config", "configVia"),
  })),
  ...each(BAD_SECRETS, (v) => ({
    what: `secret ${JSON.stringify(v)}`,
    apply: (s) => ({ ...s, secrets: [...s.secrets.filter((n) => n !== v), v] }),
    subject: () => "--secret",
  })),
  {
    what: "secret that is also a config key",
    apply: (s) => ({ ...s, secrets: [...s.secrets.filter((n) => n !== Object.keys(s.config)[0]), Object.keys(s.config)[0]] }),
    subject: () => "--secret",
  },
  ...each(BAD_CIDRS, (v) => ({
    what: `VPC CIDR ${JSON.stringify(v)}`,
    apply: (s) => ({ ...s, network: { mode: "new", cidr: v } }),
    subject: () => "--vpc-cidr",
  })),
  ...each(BAD_VPC_IDS, (v) => ({
    what: `VPC id ${JSON.stringify(v)}`,
    apply: (s) => ({
      ...s,
      network: {
        mode: "existing",
        vpcId: v,
        publicSubnetIds: ["subnet-00000001", "subnet-00000002"],
        privateSubnetIds: ["subnet-00000003", "subnet-00000004"],
      },
    }),
    subject: () => "--vpc-id",
  })),
  ...each(BAD_SUBNET_IDS, (v) => ({
    what: `subnet id ${JSON.stringify(v)}`,
    apply: (s) => ({
      ...s,
      network: {
        mode: "existing",
        vpcId: "vpc-01234567",
        publicSubnetIds: ["subnet-00000001", v],
        privateSubnetIds: ["subnet-00000003", "subnet-00000004"],
      },
    }),
    subject: () => "--public-subnets",
  })),
  {
    what: "one private subnet",
    apply: (s) => ({
      ...s,
      network: {
        mode: "existing",
        vpcId: "vpc-01234567",
        publicSubnetIds: ["subnet-00000001", "subnet-00000002"],
        privateSubnetIds: ["subnet-00000003"],
      },
    }),
    subject: () => "--private-subnets",
  },
  ...each(BAD_TAG_KEYS, (v) => ({
    what: `tag key ${JSON.stringify(v)}`,
    apply: (s) => ({ ...s, tags: { ...s.tags, ...defineKey(v, "x") } }),
    subject: () => FILE_SUBJECT,
  })),
  ...each(BAD_TAG_VALUES, (v) => ({
    what: `tag value ${JSON.stringify(v)}`,
    apply: (s) => ({ ...s, tags: { ...s.tags, team: v } }),
    subject: () => FILE_SUBJECT,
  })),
  ...each(BAD_DIRS, (v) => ({ what: `dir ${JSON.stringify(v)}`, apply: (s) => ({ ...s, dir: v }), subject: () => "[dir]" })),
];

/** `{ [key]: value }` as an own property even for `__proto__` (spread copies own properties). */
function defineKey(key: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  Object.defineProperty(out, key, { value, enumerable: true });
  return out;
}
