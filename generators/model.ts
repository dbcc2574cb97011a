/**
 * answers -> model: the answers become a config object (the future immutable.config.json), which
 * resolveConfig validates with every problem reported at once. Each problem names the flag that gave
 * the bad value (or the answers file and its field), so a usage error always says what to fix.
 */
import { isAbsolute, resolve } from "path";
import { AppConfig, CONFIG_FILE } from "../managed/config";
import { ConfigError, resolveConfig } from "../managed/config-validation";
import { AnswerKey, Answers } from "./answers";
import { UsageProblems } from "./errors";

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
}

export const SCHEMA_REF = "./managed/config.schema.json";

/** Which answer (and flag) produced a config field. */
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
];

/** The config object the answers describe; fields of the answers file without a question pass through. */
export function configFromAnswers(a: Answers): Record<string, unknown> {
  const file = a.file?.value ?? {};
  const { $schema: _schema, ...rest } = file as Record<string, unknown>;
  const fileImage = (rest.image ?? {}) as Record<string, unknown>;
  const envs = a.environments !== undefined
    ? a.environments.map((name) => ({ name, instanceType: a.instanceType, minCapacity: a.min, maxCapacity: a.max }))
    : overrideEnvironments(rest.environments, a);
  // The file's network and image pass through as written, whatever their shape: validation reports them.
  const network = a.sources.network !== "file" && a.network.mode === "new"
    ? { mode: "new", cidr: a.network.cidr }
    : a.network;
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

/** Validates the answers; throws UsageProblems (exit 2) listing every problem with its flag. */
export function buildModel(a: Answers, cwd: string): ProjectModel {
  const configFile = configFromAnswers(a);
  let config: AppConfig;
  try {
    config = resolveConfig(configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageProblems(error.problems.map((p) => ({ subject: subjectOf(p.field, a), message: `${p.field}: ${p.message}` })));
  }
  const problems: Array<{ subject: string; message: string }> = [];
  // An empty argument is what "$DIR" gives when DIR is unset: never read it as the current directory.
  if (a.dir === "") problems.push({ subject: "[dir]", message: "is empty; give a directory name (or . for the current directory)" });
  if (/[\u0000-\u001f\u007f]/.test(a.dir)) problems.push({ subject: "[dir]", message: "contains control characters" });
  if (a.dir.startsWith("~")) problems.push({ subject: "[dir]", message: `${JSON.stringify(a.dir)} starts with ~, which only a shell expands; write the full path` });
  if (problems.length > 0) throw new UsageProblems(problems);
  return {
    targetDir: isAbsolute(a.dir) ? resolve(a.dir) : resolve(cwd, a.dir),
    config,
    configFile,
    dockerfile: a.dockerfile,
    install: a.install,
    git: a.git,
  };
}

/** The flag (or answers-file field) a problem in `field` came from. */
export function subjectOf(field: string, a: Answers): string {
  const fileSubject = a.file ? `${a.file.flag} ${a.file.path}` : CONFIG_FILE;
  const hit = FIELD_ANSWERS.find(([pattern]) => pattern.test(field));
  if (!hit) return fileSubject;
  const [, key, flag] = hit;
  switch (a.sources[key]) {
    case "flag": return flag;
    case "file": return fileSubject;
    default: return `${flag} (${a.sources[key] === "prompt" ? "your answer" : "the default"})`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
