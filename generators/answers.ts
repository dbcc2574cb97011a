/**
 * flags -> answers: each question is answered by its flag, else by the answers file, else by a prompt
 * (only on a TTY without --yes), else by its default. Prompts validate as the user types, with the
 * same rules as the config file (checkConfig), so there is one source of truth for what is valid.
 */
import { basename, resolve } from "node:path";
import { REGIONS } from "../managed/aws-rules";
import { DEFAULTS } from "../managed/config";
import { checkConfig } from "../managed/config-validation";
import type { Flags } from "./args";
import { GeneratorError, UsageError } from "./errors";
import { flagOfField } from "./model";
import { DEFAULT_PACKAGE_MANAGER, installCommand, type PackageManager, packageManagerFromUserAgent } from "./package-manager";
import type { PickQuestion, Prompter } from "./prompter";

export type Source = "flag" | "file" | "prompt" | "default";

export type NetworkAnswer =
  | { readonly mode: "new"; readonly cidr: string }
  | {
      readonly mode: "existing";
      readonly vpcId: string;
      readonly publicSubnetIds: readonly string[];
      readonly privateSubnetIds: readonly string[];
    };

/** Every question's answer. `file` holds the answers file as read (its other fields pass through). */
export interface Answers {
  /** Target directory as given (relative to cwd or absolute). */
  readonly dir: string;
  readonly name: string;
  readonly region: string;
  /** Environment names; undefined when the answers file lists full environment objects. */
  readonly environments?: readonly string[];
  readonly instanceType?: string;
  readonly min?: number;
  readonly max?: number;
  readonly port: number;
  readonly healthPath: string;
  readonly image: string;
  readonly dockerfile: boolean;
  readonly certificateArn?: string;
  readonly network: NetworkAnswer;
  readonly config: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  /** `owner/name`, or undefined: no CI roles (the workflows then say what to add). */
  readonly githubRepo?: string;
  readonly install: boolean;
  readonly git: boolean;
  readonly packageManager: PackageManager;
  readonly file?: { readonly flag: string; readonly path: string; readonly value: Readonly<Record<string, unknown>> };
  /** Where each answer came from; the validation step uses it to name the flag of a bad value. */
  readonly sources: Readonly<Record<AnswerKey, Source>>;
}

export type AnswerKey =
  | "name"
  | "region"
  | "environments"
  | "instanceType"
  | "min"
  | "max"
  | "port"
  | "healthPath"
  | "image"
  | "dockerfile"
  | "certificateArn"
  | "network"
  | "config"
  | "secrets"
  | "githubRepo"
  | "install"
  | "git"
  | "packageManager";

export interface ResolveOptions {
  readonly flags: Flags;
  /** Prompts are shown only when this is true (stdin and stdout are a TTY) and --yes is absent. */
  readonly interactive: boolean;
  readonly prompter?: Prompter;
  /** The answers file, already read and parsed (see readAnswersFile). */
  readonly file?: Answers["file"];
  /** Whether the target lies inside a git work tree already (then git init defaults to no). */
  readonly insideGitRepo?: boolean;
  /** What a relative [dir] is relative to (`.` is this directory, and names the app after it). @default process.cwd() */
  readonly cwd?: string;
  /** npm_config_user_agent: the package manager that ran the CLI, when no --use-<pm> flag chooses. */
  readonly userAgent?: string;
  /**
   * Checks the target directory (as given: relative to cwd) as soon as it is known, before the first
   * question that follows; throws to stop. It is known at once from [dir], else right after the name.
   */
  readonly checkTarget?: (dir: string) => void;
  /**
   * A second round on a terminal: every answer of `previous` is kept as it is, except the `reask` ones,
   * which are asked again with the previous answer as the default (whatever answered them before: a flag
   * too). For answers that failed validation, and for "change an answer" at the summary.
   */
  readonly previous?: Answers;
  readonly reask?: ReadonlySet<AnswerKey>;
}

/** Suggested at the instance-type picker (any other type can be typed): small general-purpose ones, x86 and Graviton. */
const INSTANCE_TYPES: readonly string[] = ["t3.small", "t3.medium", "t3.large", "m7i.large", "t4g.small", "t4g.medium", "m7g.large"];

/** Suggested at the environments picker (any other comma-separated list can be typed). */
const ENVIRONMENT_SETS: readonly string[] = [DEFAULTS.environmentNames.join(","), "production", "dev,staging,production"];

export const DEFAULT_MIN = DEFAULTS.environment.minCapacity;
export const DEFAULT_MAX = DEFAULTS.environment.maxCapacity;

/**
 * The first problem checkConfig finds in fields starting with `prefix`, for prompt validation, naming
 * its flag as the flags' own errors do (`--max: ...`), so that a message never loses its subject.
 */
export function problemIn(input: Record<string, unknown>, prefix: string): true | string {
  const problem = checkConfig({ appName: "app", ...input }).find((p) => p.field === prefix || p.field.startsWith(prefix));
  if (!problem) return true;
  const flag = flagOfField(problem.field);
  return flag ? `${flag}: ${problem.message}` : problem.message;
}

export const validators = {
  name: (v: string) => problemIn({ appName: v }, "appName"),
  region: (v: string) => problemIn({ region: v }, "region"),
  environments: (appName: string) => (v: string) => {
    const names = splitList(v);
    if (names.length === 0) return "name at least one environment, e.g. staging,production";
    return problemIn({ appName, environments: names.map((name) => ({ name })) }, "environments");
  },
  instanceType: (v: string) => problemIn({ environments: [{ name: "env", instanceType: v }] }, "environments[0].instanceType"),
  min: (v: string) =>
    integerIn(v, "--min", (n) =>
      problemIn({ environments: [{ name: "env", minCapacity: n, maxCapacity: Math.max(n, 1) }] }, "environments[0]"),
    ),
  max: (min: number) => (v: string) =>
    integerIn(v, "--max", (n) =>
      n < min && n >= 1
        ? `--max: ${n} is less than your answer for --min, ${min}`
        : problemIn({ environments: [{ name: "env", minCapacity: min, maxCapacity: n }] }, "environments[0]"),
    ),
  port: (v: string) => integerIn(v, "--port", (n) => problemIn({ appPort: n }, "appPort")),
  healthPath: (v: string) => problemIn({ healthCheckPath: v }, "healthCheckPath"),
  image: (v: string) => problemIn({ image: { containerImage: v } }, "image.containerImage"),
  certificateArn: (region: string) => (v: string) =>
    v.trim() === "" ? true : problemIn({ region, certificateArn: v.trim() }, "certificateArn"),
  vpcCidr: (v: string) => problemIn({ network: { mode: "new", cidr: v } }, "network"),
  vpcId: (v: string) =>
    problemIn(
      {
        network: {
          mode: "existing",
          vpcId: v,
          publicSubnetIds: ["subnet-00000001", "subnet-00000002"],
          privateSubnetIds: ["subnet-00000003", "subnet-00000004"],
        },
      },
      "network.vpcId",
    ),
  /** @param others the other list, once it is known: checked against it as the config is (no subnet in both). */
  subnets: (key: "publicSubnetIds" | "privateSubnetIds", others?: readonly string[]) => (v: string) => {
    const ids = splitList(v);
    const other = key === "publicSubnetIds" ? "privateSubnetIds" : "publicSubnetIds";
    const network = { mode: "existing", vpcId: "vpc-00000001", [key]: ids, [other]: others ?? ["subnet-0000000e", "subnet-0000000f"] };
    return problemIn({ network }, `network.${key}`);
  },
  configPair:
    (secrets: readonly string[], given: Readonly<Record<string, string>> = {}) =>
    (v: string): true | string => {
      if (v.trim() === "") return true;
      const eq = v.indexOf("=");
      if (eq <= 0) return "--config: write KEY=VALUE, e.g. LOG_LEVEL=info (empty to finish)";
      const key = v.slice(0, eq).trim();
      // As the flags refuse a repeated --config key: a second value never silently replaces the first.
      if (Object.hasOwn(given, key)) return `--config: ${key} is given more than once (it is ${key}=${given[key]} already)`;
      return problemIn({ config: { [key]: v.slice(eq + 1) }, secrets }, "config");
    },
  secrets: (config: Readonly<Record<string, string>>) => (v: string) => problemIn({ config, secrets: splitList(v) }, "secrets"),
  githubRepo: (v: string) => (v.trim() === "" ? true : problemIn({ github: { repository: v.trim() } }, "github.repository")),
};

export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function integerIn(text: string, flag: string, check: (n: number) => true | string): true | string {
  if (!/^\d{1,9}$/.test(text.trim())) return `${flag}: type a whole number`;
  return check(Number(text.trim()));
}

/**
 * The name of the directory [dir] stands for: its last segment, after resolving it against cwd, so
 * that `.` is the current directory's name and `..` its parent's. Undefined for an empty [dir].
 */
export function dirName(dir: string | undefined, cwd: string): string | undefined {
  if (dir === undefined || dir === "") return undefined;
  return basename(resolve(cwd, dir));
}

/** A valid app name derived from the directory, if the directory's name is one. */
export function nameFromDir(dir: string | undefined, cwd: string = process.cwd()): string | undefined {
  const base = dirName(dir, cwd);
  return base !== undefined && validators.name(base) === true ? base : undefined;
}

export async function resolveAnswers(options: ResolveOptions): Promise<Answers> {
  const { flags, file } = options;
  const interactive = options.interactive && !flags.yes;
  if (interactive && !options.prompter) throw new Error("interactive resolution needs a prompter");
  const ask = options.prompter!;
  const fv = (file?.value ?? {}) as Record<string, any>;
  const sources = {} as Record<AnswerKey, Source>;
  const prev = options.previous;
  /** A picker that takes typed values too, or an input where the prompter has none. */
  const pick = (q: PickQuestion): Promise<string> => (ask.pick ? ask.pick(q) : ask.input(q));
  /** A second round: this answer is kept as it was. */
  const keep = (key: AnswerKey): boolean => prev !== undefined && !(options.reask?.has(key) ?? false);
  /** A second round: this answer is asked again (on a terminal). */
  const again = (key: AnswerKey): boolean => prev !== undefined && interactive && (options.reask?.has(key) ?? false);

  /** flag > file > prompt > default, recording where the answer came from; `prompt` gets the previous answer. */
  async function answer<T>(
    key: AnswerKey,
    flag: T | undefined,
    fromFile: T | undefined,
    prompt: ((previous?: T) => Promise<T>) | undefined,
    fallback: T,
  ): Promise<T> {
    if (keep(key)) {
      sources[key] = prev!.sources[key];
      return prev![key] as T;
    }
    if (again(key) && prompt) {
      sources[key] = "prompt";
      return prompt(prev![key] as T);
    }
    if (flag !== undefined) {
      sources[key] = "flag";
      return flag;
    }
    if (fromFile !== undefined) {
      sources[key] = "file";
      return fromFile;
    }
    if (interactive && prompt) {
      sources[key] = "prompt";
      return prompt();
    }
    sources[key] = "default";
    return fallback;
  }
  // A file value is passed on whatever its JSON type: validation then names the file and the field.
  // (Dropping a non-string here would silently put the default in its place.)
  const str = (v: unknown): string | undefined => v as string | undefined;

  // The target is checked before the first question it can spare: at once when [dir] is given.
  if (flags.dir !== undefined && prev === undefined) options.checkTarget?.(flags.dir);

  // App name: required. Default: the directory's basename when it is a valid name.
  const cwd = options.cwd ?? process.cwd();
  const fromDir = nameFromDir(flags.dir, cwd);
  let name: string;
  const askName = (def: string | undefined): Promise<string> => {
    // Without [dir] the name is the folder too: one that cannot be written is refused here, and asked again.
    const nameAndFolder = (v: string): true | string => {
      const valid = validators.name(v);
      if (valid !== true || flags.dir !== undefined) return valid;
      try {
        options.checkTarget?.(v);
        return true;
      } catch (error) {
        if (error instanceof GeneratorError) return error.message;
        throw error;
      }
    };
    return ask.input({ message: "App name (lower-case, prefixes every AWS resource)", default: def, validate: nameAndFolder });
  };
  if (keep("name")) {
    name = prev!.name;
    sources.name = prev!.sources.name;
  } else if (again("name")) {
    name = await askName(prev!.name);
    sources.name = "prompt";
  } else if (flags.name !== undefined) {
    name = flags.name;
    sources.name = "flag";
  } else if (fv.appName !== undefined) {
    name = fv.appName as string;
    sources.name = "file";
  } else if (interactive) {
    name = await askName(fromDir);
    sources.name = "prompt";
  } else if (fromDir !== undefined) {
    name = fromDir;
    sources.name = "default";
  } else {
    throw new UsageError("--name", missingName(flags.dir, cwd));
  }
  const dir = flags.dir ?? name;
  // Without [dir] the directory is the name; an invalid name is reported by validation, not read as a path.
  if (flags.dir === undefined && validators.name(name) === true && sources.name !== "prompt") options.checkTarget?.(dir);

  const region = await answer(
    "region",
    flags.region,
    str(fv.region),
    (p) => pick({ message: "AWS region", choices: Object.keys(REGIONS), default: p ?? DEFAULTS.region, validate: validators.region }),
    DEFAULTS.region,
  );

  // Environments: the file may list full environment objects; then names/type/capacity come from it.
  const fileEnvs: unknown = fv.environments;
  let environments: readonly string[] | undefined;
  const askEnvironments = async (def: string): Promise<string[]> =>
    splitList(
      await pick({
        message: "Environments (comma-separated; one stack each)",
        choices: ENVIRONMENT_SETS,
        default: def,
        validate: validators.environments(name),
      }),
    );
  if (keep("environments")) {
    environments = prev!.environments;
    sources.environments = prev!.sources.environments;
  } else if (again("environments")) {
    environments = await askEnvironments((prev!.environments ?? DEFAULTS.environmentNames).join(","));
    sources.environments = "prompt";
  } else if (flags.environments !== undefined) {
    environments = flags.environments;
    sources.environments = "flag";
  } else if (fileEnvs !== undefined) {
    environments = undefined;
    sources.environments = "file";
  } else if (interactive) {
    environments = await askEnvironments(DEFAULTS.environmentNames.join(","));
    sources.environments = "prompt";
  } else {
    environments = [...DEFAULTS.environmentNames];
    sources.environments = "default";
  }
  const envQuestions = environments !== undefined;
  const instanceType = await answer<string | undefined>(
    "instanceType",
    flags.instanceType,
    undefined,
    envQuestions
      ? (p) =>
          pick({
            message: "Instance type",
            choices: INSTANCE_TYPES,
            default: p ?? DEFAULTS.environment.instanceType,
            validate: validators.instanceType,
          })
      : undefined,
    envQuestions ? DEFAULTS.environment.instanceType : undefined,
  );
  const min = await answer<number | undefined>(
    "min",
    flags.min,
    undefined,
    envQuestions
      ? async (p) =>
          Number(
            await ask.input({ message: "Minimum instances per environment", default: String(p ?? DEFAULT_MIN), validate: validators.min }),
          )
      : undefined,
    envQuestions ? DEFAULT_MIN : undefined,
  );
  const max = await answer<number | undefined>(
    "max",
    flags.max,
    undefined,
    envQuestions
      ? async (p) =>
          Number(
            await ask.input({
              message: "Maximum instances per environment",
              default: String(p ?? Math.max(DEFAULT_MAX, min ?? 0)),
              validate: validators.max(min ?? DEFAULT_MIN),
            }),
          )
      : undefined,
    envQuestions ? Math.max(DEFAULT_MAX, min ?? 0) : undefined,
  );
  if (!envQuestions) {
    // Answered by the file's environment objects; flags still override every environment.
    for (const key of ["instanceType", "min", "max"] as const) if (sources[key] !== "flag") sources[key] = "file";
  }

  const port = await answer(
    "port",
    flags.port,
    fv.appPort as number | undefined,
    async (p) =>
      Number(await ask.input({ message: "Port the app listens on", default: String(p ?? DEFAULTS.appPort), validate: validators.port })),
    DEFAULTS.appPort,
  );
  const healthPath = await answer(
    "healthPath",
    flags.healthPath,
    str(fv.healthCheckPath),
    (p) =>
      ask.input({
        message: "Health-check path (answers 2xx when healthy)",
        default: p ?? DEFAULTS.healthCheckPath,
        validate: validators.healthPath,
      }),
    DEFAULTS.healthCheckPath,
  );
  // --dockerfile: CI builds the image from the repository, so there is no image to ask for (the
  // summary says "built by CI"). Asked at the prompt, the Dockerfile question comes after the image.
  const image = await answer(
    "image",
    flags.image,
    str(fv.image?.containerImage),
    flags.dockerfile === true
      ? undefined
      : (p) =>
          ask.input({ message: "Container image the AMI runs", default: p ?? DEFAULTS.image.containerImage, validate: validators.image }),
    DEFAULTS.image.containerImage,
  );
  const dockerfile = await answer(
    "dockerfile",
    flags.dockerfile,
    undefined,
    (p) => ask.confirm({ message: "Build the app's image from this repository (write a Dockerfile)?", default: p ?? false }),
    false,
  );
  const certificateArn = await answer<string | undefined>(
    "certificateArn",
    flags.certificateArn,
    str(fv.certificateArn),
    async (p) =>
      (
        await ask.input({
          message: "ACM certificate ARN for HTTPS (empty: plain HTTP)",
          default: p ?? "",
          validate: validators.certificateArn(region),
        })
      ).trim() || undefined,
    undefined,
  );

  let network: NetworkAnswer;
  if (keep("network")) {
    network = prev!.network;
    sources.network = prev!.sources.network;
  } else if (again("network")) {
    network = await askNetwork(ask, prev!.network);
    sources.network = "prompt";
  } else network = await resolveNetwork(flags, fv.network, interactive ? ask : undefined, sources);

  const config = await answer<Readonly<Record<string, string>>>(
    "config",
    flags.config ? pairsToRecord(flags.config) : undefined,
    fv.config as Record<string, string> | undefined,
    async (p) => {
      const out: Record<string, string> = {};
      const was =
        p && Object.keys(p).length > 0
          ? ` (was: ${Object.entries(p)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")})`
          : "";
      for (;;) {
        const line = await ask.input({
          message: `Config value KEY=VALUE (SSM String parameter; empty to finish)${was}`,
          default: "",
          validate: validators.configPair([], out),
        });
        if (line.trim() === "") return out;
        const eq = line.indexOf("=");
        out[line.slice(0, eq).trim()] = line.slice(eq + 1);
      }
    },
    {},
  );
  const secrets = await answer<readonly string[]>(
    "secrets",
    flags.secrets,
    fv.secrets as string[] | undefined,
    async (p) =>
      splitList(
        await ask.input({
          message: "Secret names, comma-separated (SecureString; values are set out of band)",
          default: (p ?? []).join(","),
          validate: validators.secrets(config),
        }),
      ),
    [],
  );
  const githubRepo = await answer<string | undefined>(
    "githubRepo",
    flags.githubRepo,
    str(fv.github?.repository),
    async (p) =>
      (
        await ask.input({
          message: "GitHub repository whose workflows deploy, owner/name (empty: set up CI later)",
          default: p ?? "",
          validate: validators.githubRepo,
        })
      ).trim() || undefined,
    undefined,
  );
  const packageManager =
    prev?.packageManager ?? flags.packageManager ?? packageManagerFromUserAgent(options.userAgent) ?? DEFAULT_PACKAGE_MANAGER;
  sources.packageManager = prev?.sources.packageManager ?? (flags.packageManager !== undefined ? "flag" : "default");
  const install = await answer(
    "install",
    flags.install,
    undefined,
    (p) => ask.confirm({ message: `Install dependencies now (${installCommand(packageManager)})?`, default: p ?? true }),
    true,
  );
  const git = await answer(
    "git",
    flags.git,
    undefined,
    (p) => ask.confirm({ message: "Initialize a git repository?", default: p ?? !options.insideGitRepo }),
    !options.insideGitRepo,
  );

  return {
    dir,
    name,
    region,
    environments,
    instanceType,
    min,
    max,
    port,
    healthPath,
    image,
    dockerfile,
    certificateArn,
    network,
    config,
    secrets,
    githubRepo,
    install,
    git,
    packageManager,
    file,
    sources,
  };
}

/** Why no app name could be taken from [dir]: the message of the --name usage error. */
function missingName(dir: string | undefined, cwd: string): string {
  const base = dirName(dir, cwd);
  if (dir === undefined || base === undefined) {
    return "is required without a TTY: pass --name my-app (or a directory whose name is a valid app name)";
  }
  const which =
    base === dir ? `the directory name ${JSON.stringify(base)}` : `the name of ${JSON.stringify(dir)}, ${JSON.stringify(base)},`;
  return `is required: ${which} is not a valid app name (${String(validators.name(base)).replace(/^--name: /, "")}); pass --name my-app`;
}

async function resolveNetwork(
  flags: Flags,
  fromFile: unknown,
  ask: Prompter | undefined,
  sources: Record<AnswerKey, Source>,
): Promise<NetworkAnswer> {
  const existingFlags = flags.vpcId !== undefined || flags.publicSubnets !== undefined || flags.privateSubnets !== undefined;
  if (existingFlags && flags.vpcCidr !== undefined) {
    throw new UsageError("--vpc-cidr", "creates a new VPC; it cannot be combined with --vpc-id, --public-subnets or --private-subnets");
  }
  if (flags.vpcCidr !== undefined) {
    sources.network = "flag";
    return { mode: "new", cidr: flags.vpcCidr };
  }
  if (existingFlags) {
    if (flags.vpcId === undefined) {
      throw new UsageError("--vpc-id", "is required with --public-subnets and --private-subnets (they are subnets of an existing VPC)");
    }
    sources.network = "flag";
    return {
      mode: "existing",
      vpcId: flags.vpcId,
      publicSubnetIds: flags.publicSubnets ?? [],
      privateSubnetIds: flags.privateSubnets ?? [],
    };
  }
  if (fromFile !== undefined) {
    sources.network = "file";
    return fromFile as NetworkAnswer;
  }
  if (!ask) {
    sources.network = "default";
    return { mode: "new", cidr: DEFAULTS.network.cidr };
  }
  sources.network = "prompt";
  return askNetwork(ask);
}

/** The network questions; `previous` gives their defaults in a second round. */
async function askNetwork(ask: Prompter, previous?: NetworkAnswer): Promise<NetworkAnswer> {
  const mode = await ask.select<"new" | "existing">({
    message: "Network",
    default: previous?.mode ?? "new",
    choices: [
      { name: "Create a new VPC", value: "new" },
      { name: "Use an existing VPC and subnets", value: "existing" },
    ],
  });
  if (mode === "new") {
    const cidr = previous?.mode === "new" ? previous.cidr : DEFAULTS.network.cidr;
    return { mode, cidr: await ask.input({ message: "VPC CIDR block", default: cidr, validate: validators.vpcCidr }) };
  }
  const was = previous?.mode === "existing" ? previous : undefined;
  const vpcId = await ask.input({ message: "VPC id", default: was?.vpcId, validate: validators.vpcId });
  const publicSubnetIds = splitList(
    await ask.input({
      message: "Public subnet ids for the load balancer (comma-separated, 2+ zones)",
      default: was?.publicSubnetIds.join(","),
      validate: validators.subnets("publicSubnetIds"),
    }),
  );
  // Checked against the public ones as soon as they are known: a public subnet given here is refused at once.
  const privateSubnetIds = splitList(
    await ask.input({
      message: "Private subnet ids for the instances (comma-separated, 2+ zones)",
      default: was?.privateSubnetIds.join(","),
      validate: validators.subnets("privateSubnetIds", publicSubnetIds),
    }),
  );
  return { mode, vpcId, publicSubnetIds, privateSubnetIds };
}

function pairsToRecord(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  // defineProperty: a key like __proto__ must become a field (that validation then refuses), not a prototype.
  for (const [k, v] of pairs) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}
