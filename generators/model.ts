/**
 * answers -> model: the answers become a config object (the future immutable.config.json), which
 * resolveConfig validates with every problem reported at once. Each problem is reported once, against
 * what the user typed: the flag that gave the bad value, with the problem alone (no config field path,
 * no file the user does not have); or the answers file and its field, when the value came from there.
 */
import { isAbsolute, resolve } from "node:path";
import type { AppConfig } from "../managed/config";
import { ConfigError, type ConfigProblem, quote, resolveConfig } from "../managed/config-validation";
import type { AnswerKey, Answers, Source } from "./answers";
import { UsageProblems } from "./errors";
import type { PackageManager } from "./package-manager";

/** The validated, typed description of the project to generate. Render needs nothing else. */
export interface ProjectModel {
  /** Absolute target directory. */
  readonly targetDir: string;
  /** The resolved configuration (every default filled in). */
  readonly config: AppConfig;
  /** What is written to immutable.config.json: the answers, not the expanded defaults. */
  readonly configFile: Readonly<Record<string, unknown>>;
  readonly dockerfile: boolean;
  readonly install: boolean;
  readonly git: boolean;
  /** Installs the dependencies, and is the command the next steps, README and CI run scripts with. */
  readonly packageManager: PackageManager;
}

export const SCHEMA_REF = "./managed/config.schema.json";

/** Which answer (and flag) produced a config field; the first match wins. */
const FIELD_ANSWERS: ReadonlyArray<readonly [RegExp, AnswerKey, string]> = [
  [/^appName$/, "name", "--name"],
  [/^region$/, "region", "--region"],
  [/^environments\[\d+\]\.instanceType$/, "instanceType", "--instance-type"],
  [/^environments\[\d+\]\.(minCapacity|desiredCapacity)$/, "min", "--min"],
  [/^environments\[\d+\]\.maxCapacity$/, "max", "--max"],
  [/^environments(\[\d+\](\.name)?)?$/, "environments", "--environments"],
  [/^appPort$/, "port", "--port"],
  [/^healthCheckPath$/, "healthPath", "--health-path"],
  [/^image\.containerImage$/, "image", "--image"],
  [/^certificateArn$/, "certificateArn", "--certificate-arn"],
  [/^network\.vpcId$/, "network", "--vpc-id"],
  [/^network\.publicSubnetIds/, "network", "--public-subnets"],
  [/^network\.privateSubnetIds/, "network", "--private-subnets"],
  [/^network/, "network", "--vpc-cidr"],
  [/^config\b/, "config", "--config"],
  [/^secrets\b/, "secrets", "--secret"],
  [/^github\.repository$/, "githubRepo", "--github-repo"],
];

/** The flag that sets a config field (`environments[0].maxCapacity` -> `--max`), when one does. */
export function flagOfField(field: string): string | undefined {
  return FIELD_ANSWERS.find(([pattern]) => pattern.test(field))?.[2];
}

/** The question behind a problem's subject (`--max`, `--max (your answer)`), when it names a flag. */
export function answerKeyOfSubject(subject: string): AnswerKey | undefined {
  const flag = subject.replace(/ \((?:your answer|the default)\)$/, "");
  return FIELD_ANSWERS.find(([, , f]) => f === flag)?.[1];
}

/** The config object the answers describe; fields of the answers file without a question pass through. */
export function configFromAnswers(a: Answers): Record<string, unknown> {
  const file = a.file?.value ?? {};
  const { $schema: _schema, ...rest } = file as Record<string, unknown>;
  const fileImage = (rest.image ?? {}) as Record<string, unknown>;
  const envs =
    a.environments !== undefined
      ? a.environments.map((name) => ({ name, instanceType: a.instanceType, minCapacity: a.min, maxCapacity: a.max }))
      : overrideEnvironments(rest.environments, a);
  // The file's network and image pass through as written, whatever their shape: validation reports them.
  const network = a.sources.network !== "file" && a.network.mode === "new" ? { mode: "new", cidr: a.network.cidr } : a.network;
  return {
    $schema: SCHEMA_REF,
    ...rest,
    appName: a.name,
    region: a.region,
    appPort: a.port,
    healthCheckPath: a.healthPath,
    ...(a.certificateArn !== undefined ? { certificateArn: a.certificateArn } : {}),
    network,
    config: a.config,
    secrets: a.secrets,
    image: isRecord(fileImage) ? { ...fileImage, containerImage: a.image } : rest.image,
    // The file's other github fields (branch, oidcProviderArn) stay; the flag or prompt sets the repository.
    ...(a.githubRepo !== undefined && a.sources.githubRepo !== "file"
      ? { github: { ...(isRecord(rest.github) ? rest.github : {}), repository: a.githubRepo } }
      : {}),
    environments: envs,
  };
}

/** Flags (--instance-type, --min, --max) override every environment listed in the answers file. */
function overrideEnvironments(value: unknown, a: Answers): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((env) => {
    if (!isRecord(env)) return env;
    return {
      ...env,
      ...(a.sources.instanceType === "flag" ? { instanceType: a.instanceType } : {}),
      ...(a.sources.min === "flag" ? { minCapacity: a.min } : {}),
      ...(a.sources.max === "flag" ? { maxCapacity: a.max } : {}),
    };
  });
}

export interface Problem {
  readonly subject: string;
  readonly message: string;
}

/** Validates the answers; throws UsageProblems (exit 2) listing every problem, each once, with its flag. */
export function buildModel(a: Answers, cwd: string): ProjectModel {
  const configFile = configFromAnswers(a);
  let config: AppConfig;
  try {
    config = resolveConfig(configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageProblems(reportProblems(error.problems, a));
  }
  const problems = dirProblems(a.dir);
  if (problems.length > 0) throw new UsageProblems(problems);
  return {
    targetDir: isAbsolute(a.dir) ? resolve(a.dir) : resolve(cwd, a.dir),
    config,
    configFile,
    dockerfile: a.dockerfile,
    install: a.install,
    git: a.git,
    packageManager: a.packageManager,
  };
}

/** What is wrong with [dir] as typed, before the disk is asked anything about it. */
export function dirProblems(dir: string): Problem[] {
  const problems: Problem[] = [];
  // An empty argument is what "$DIR" gives when DIR is unset: never read it as the current directory.
  if (dir === "") problems.push({ subject: "[dir]", message: "is empty; give a directory name (or . for the current directory)" });
  if (/[\u0000-\u001f\u007f]/.test(dir)) problems.push({ subject: "[dir]", message: "contains control characters" });
  if (dir.startsWith("~"))
    problems.push({ subject: "[dir]", message: `${JSON.stringify(dir)} starts with ~, which only a shell expands; write the full path` });
  return problems;
}

/**
 * The validator's problems as the user must read them: each against the flag (or file field) that gave
 * the value, and each once (a per-environment flag such as --max sets every environment: its problem
 * is the same in each one).
 */
export function reportProblems(problems: readonly ConfigProblem[], a: Answers): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const p of problems) {
    // min > max only counts between two valid values: `--max 0` is one problem (its range), not two.
    const env = /^(environments\[\d+\])\.minCapacity$/.exec(p.field)?.[1];
    if (env && /^is \d+, more than maxCapacity \d+$/.test(p.message)) {
      if (problems.some((q) => q !== p && /^(?:min|max)Capacity$/.test(q.field.slice(env.length + 1)) && q.field.startsWith(`${env}.`)))
        continue;
    }
    const reported = reportProblem(p, a);
    const key = `${reported.subject}\n${reported.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(reported);
  }
  return out;
}

/** The flag (or answers-file field) a problem in `field` came from. */
export function subjectOf(field: string, a: Answers): string {
  return reportProblem({ field, message: "" }, a).subject;
}

function reportProblem(p: ConfigProblem, a: Answers): Problem {
  const fileSubject = a.file ? `${a.file.flag} ${a.file.path}` : undefined;
  const hit = FIELD_ANSWERS.find(([pattern]) => pattern.test(p.field));
  if (!hit) {
    // Only the answers file sets fields without a question; without one, the field is all there is to name.
    return fileSubject ? { subject: fileSubject, message: `${p.field}: ${p.message}` } : { subject: p.field, message: p.message };
  }
  const [, key, flag] = hit;
  const capacity = capacityProblem(p, a);
  if (capacity) return capacity;
  const source = a.sources[key];
  // Environments listed in the answers file differ from each other: a problem that involves their own
  // values (a flag's --max below a file's minCapacity) keeps the field, which says which environment.
  const perFileEnvironment =
    a.environments === undefined &&
    p.field.startsWith("environments") &&
    (source !== "flag" || /\b(min|max|desired)Capacity\b/.test(p.message));
  if (source === "file" || perFileEnvironment) {
    const subject = source === "file" ? (fileSubject ?? flag) : labelled(flag, source);
    return { subject, message: `${p.field}: ${p.message}` };
  }
  return { subject: labelled(flag, source), message: flagMessage(p, key) };
}

/** `--min`, `--min (the default)`, `--min (your answer)`. */
function labelled(flag: string, source: Source): string {
  return source === "flag" ? flag : `${flag} (${source === "prompt" ? "your answer" : "the default"})`;
}

/** The problem without its field path; for --config, with the key the user typed (config.KEY is that key). */
function flagMessage(p: ConfigProblem, key: AnswerKey): string {
  if (key !== "config") return p.message;
  const m = /^config(?:\.(.+)|\[("(?:[^"\\]|\\.)*")\])$/.exec(p.field);
  const configKey = m ? (m[1] ?? (JSON.parse(m[2]) as string)) : undefined;
  if (configKey === undefined) return p.message;
  const mentioned =
    p.message.includes(quote(configKey)) || p.message.startsWith(`${configKey} `) || p.message.includes(`the key ${configKey} `);
  return mentioned ? p.message : `${configKey}: ${p.message}`;
}

/**
 * min > max: one problem, against the flag the user gave (--max 1 under the default --min 2 is --max's
 * problem), in flag terms; a value from the answers file keeps its field, which says which environment.
 */
function capacityProblem(p: ConfigProblem, a: Answers): Problem | undefined {
  const field = /^environments\[(\d+)\]\.minCapacity$/.exec(p.field);
  const values = /^is (\d+), more than maxCapacity (\d+)$/.exec(p.message);
  if (!field || !values) return undefined;
  const [min, max] = [Number(values[1]), Number(values[2])];
  const { min: minSource, max: maxSource } = a.sources;
  const fileSubject = a.file ? `${a.file.flag} ${a.file.path}` : "the answers file";
  const given = (source: Source, flag: string, value: number, key: string): string => {
    switch (source) {
      case "flag":
        return `${flag} ${value}`;
      case "prompt":
        return `${value} (your answer for ${flag})`;
      case "file":
        return `environments[${field[1]}].${key} (${value}) in ${fileSubject}`;
      default:
        return `${value} (the default of ${flag})`;
    }
  };
  if (maxSource === "flag" && minSource !== "flag") {
    return {
      subject: "--max",
      message: `${max} is less than the minimum, ${given(minSource, "--min", min, "minCapacity")}; pass a --min of ${max} or less too`,
    };
  }
  if (minSource === "flag" && maxSource !== "flag") {
    return {
      subject: "--min",
      message: `${min} is more than the maximum, ${given(maxSource, "--max", max, "maxCapacity")}; pass a --max of ${min} or more too`,
    };
  }
  if (minSource === "file" && maxSource === "file") return undefined;
  return { subject: labelled("--min", minSource), message: `${min} is more than ${given(maxSource, "--max", max, "maxCapacity")}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
