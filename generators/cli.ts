/**
 * The generator, end to end: argv -> flags -> answers -> model -> file map -> disk -> install/git.
 * Side effects are injected (cwd, output, prompter, spawn, step hook) so tests run it in-process;
 * it returns an exit code and never calls process.exit (bin/ does).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from "fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "path";
import Handlebars from "handlebars";
import { kmsAliasName, resourcePrefix, secretParameterName } from "../managed/names";
import { parseArgs } from "./args";
import { Answers, resolveAnswers } from "./answers";
import { CancelledError, GeneratorError, UsageError, UsageProblems, EXIT_CANCELLED } from "./errors";
import { buildModel, dirProblems, ProjectModel } from "./model";
import { readSources, Sources } from "./package-files";
import { defaultSpawn, initGit, installDependencies, Output, SpawnFn } from "./post-steps";
import { isPromptExit, Prompter } from "./prompter";
import { FileMap, manualRefreshPreferences, renderProject } from "./render";
import { checkTarget, planWrite, writeFiles, WritePlan } from "./write";

export interface CliDeps {
  readonly cwd: string;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Prompts are shown only when stdin and stdout are TTYs (and --yes is absent). */
  readonly stdinIsTTY: boolean;
  /**
   * The environment variables the CLI reads: npm_config_user_agent (the package manager that ran it).
   * Nothing else is read from the environment.
   * @default {} (npm)
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Loads the interactive prompter; called only when a prompt is needed. */
  readonly loadPrompter?: () => Promise<Prompter>;
  readonly spawn?: SpawnFn;
  /** Named steps of the write (see write.ts); tests crash the process at them. */
  readonly onStep?: (step: string) => void;
  /** This package's files; read from the package root when absent. */
  readonly sources?: Sources;
  /** Registers a handler for SIGINT/SIGTERM during the write; returns the unregister function. */
  readonly deferSignals?: (onSignal: (signal: string) => void) => () => void;
}

/** Answers files larger than this are refused before they are read. */
export const MAX_ANSWERS_FILE_BYTES = 1024 * 1024;

export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  const err = (text: string): void => deps.stderr.write(text);
  try {
    return await generate(argv, deps);
  } catch (error) {
    if (error instanceof CancelledError || isPromptExit(error)) {
      err("\nCancelled; nothing was written.\n");
      return EXIT_CANCELLED;
    }
    if (error instanceof GeneratorError) {
      err(`create-immutable-app: ${error.message}\n`);
      if (error.category === "usage") err("Run create-immutable-app --help for the options.\n");
      return error.exitCode;
    }
    err(`create-immutable-app: internal error (please report it): ${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}

async function generate(argv: readonly string[], deps: CliDeps): Promise<number> {
  const out = (text: string): void => deps.stdout.write(text);
  const flags = parseArgs(argv);
  const sources = deps.sources ?? readSources();
  if (flags.help) {
    out(sources.help.usage);
    return 0;
  }
  if (flags.version) {
    out(`${sources.packageJson.version}\n`);
    return 0;
  }

  const file = flags.configFile ? readAnswersFile(flags.configFile.path, flags.configFile.flag, deps.cwd) : undefined;
  const interactive = deps.stdinIsTTY && deps.stdout.isTTY === true && !flags.yes;
  const prompter = interactive ? await loadPrompter(deps) : undefined;
  const target = flags.dir !== undefined ? resolve(deps.cwd, flags.dir) : undefined;
  const answers: Answers = await resolveAnswers({
    flags, interactive, prompter, file, insideGitRepo: insideGitRepo(target ?? deps.cwd),
    cwd: deps.cwd, userAgent: deps.env?.npm_config_user_agent,
    // The same rules as the write step, before the questions: no answering 17 of them for nothing.
    checkTarget: (dir) => {
      const problems = dirProblems(dir);
      if (problems.length > 0) throw new UsageProblems(problems);
      checkTarget(resolve(deps.cwd, dir), flags.force);
    },
  });
  const model = buildModel(answers, deps.cwd);
  const files = renderProject(model, sources);
  const shownDir = displayPath(deps.cwd, model.targetDir);

  if (flags.dryRun) {
    const plan = planWrite(model.targetDir, files, flags.force);
    out(`Dry run: would write ${files.size} files to ${shownDir} (nothing is written):\n`);
    for (const [path, f] of files) {
      const size = typeof f.contents === "string" ? Buffer.byteLength(f.contents) : f.contents.length;
      const backup = plan.backups.get(path);
      out(`  ${plan.replaced.includes(path) ? "replace" : "create "} ${path} (${size} bytes${backup ? `; old contents kept as ${backup}` : ""})\n`);
    }
    return 0;
  }

  let interrupted: string | undefined;
  const release = deps.deferSignals?.((signal) => { interrupted = signal; });
  let result;
  try {
    result = writeFiles(model.targetDir, files, { force: flags.force, onStep: deps.onStep });
    // A signal that arrived during the synchronous write is dispatched by the event loop: let it run.
    if (release) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    release?.();
  }
  printSummary(out, files, result, shownDir);
  if (interrupted) {
    deps.stderr.write(`\nInterrupted (${interrupted}) after the project was written completely; skipped install and git.\n`);
    return EXIT_CANCELLED;
  }

  const spawn = deps.spawn ?? defaultSpawn;
  const manual: string[] = [];
  let failed = false;
  if (model.install) {
    const outcome = await installDependencies(model.targetDir, model.packageManager, spawn, deps.stdout);
    if (!outcome.ok) {
      failed = true;
      deps.stderr.write(`\n${outcome.manual} failed; the project files are complete. Output:\n${outcome.detail}\n`);
      manual.push(outcome.manual!);
    }
  }
  if (model.git) {
    const outcome = await initGit(model.targetDir, spawn);
    if (!outcome.ok) {
      failed = true;
      deps.stderr.write(`\ngit setup failed; the project files are complete. Output:\n${outcome.detail}\n`);
      manual.push(outcome.manual!);
    }
  }
  if (manual.length > 0) {
    out(`\nTo finish by hand:\n  cd ${shellWord(shownDir)}\n${manual.map((m) => `  ${m}\n`).join("")}`);
  }
  out(`\n${nextSteps(sources, model, shownDir, model.install && !failed)}`);
  return failed ? 1 : 0;
}

async function loadPrompter(deps: CliDeps): Promise<Prompter> {
  if (!deps.loadPrompter) throw new GeneratorError("internal", "no prompter available for an interactive run");
  return deps.loadPrompter();
}

/** Reads and parses the answers file; every failure is a usage error that names the flag. */
export function readAnswersFile(path: string, flag: string, cwd: string): NonNullable<Answers["file"]> {
  const subject = `${flag} ${path}`;
  const full = isAbsolute(path) ? path : join(cwd, path);
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(full, "r");
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UsageError(subject, "is not a regular file");
    if (stat.size > MAX_ANSWERS_FILE_BYTES) {
      throw new UsageError(subject, `is ${stat.size} bytes; an answers file may be at most ${MAX_ANSWERS_FILE_BYTES} bytes (1 MiB)`);
    }
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    text = buffer.subarray(0, read).toString("utf8").replace(/^\uFEFF/, "");
  } catch (error) {
    if (error instanceof GeneratorError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(subject, code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : `cannot be read (${(error as Error).message})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(subject, `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(subject, `must hold a JSON object shaped like immutable.config.json, got ${Array.isArray(value) ? "a list" : value === null ? "null" : typeof value}`);
  }
  return { flag, path, value: value as Record<string, unknown> };
}

function insideGitRepo(start: string): boolean {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return true;
    if (dirname(dir) === dir) return false;
  }
}

function displayPath(cwd: string, target: string): string {
  const rel = relative(cwd, target);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? target : rel;
}

/** Quotes a path for the shell only when it needs it. */
function shellWord(text: string): string {
  // `cd -x` would read the directory as an option: a relative path starting with - gets ./ in front.
  const path = text.startsWith("-") ? `./${text}` : text;
  return /^[A-Za-z0-9_./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}

function printSummary(out: (t: string) => void, files: FileMap, plan: WritePlan, dir: string): void {
  const groups = new Map<string, number>();
  for (const path of files.keys()) {
    const top = path.includes("/") ? `${path.split("/")[0]}/` : path;
    groups.set(top, (groups.get(top) ?? 0) + 1);
  }
  out(`Created ${dir === "." ? `${basename(plan.targetDir)} (this directory)` : dir} (${files.size} files):\n`);
  for (const [top, count] of groups) out(`  ${top}${count > 1 || top.endsWith("/") ? ` (${count} file${count === 1 ? "" : "s"})` : ""}\n`);
  const { replaced, backups } = plan;
  if (replaced.length > 0) {
    const line = (p: string): string => {
      const backup = backups.get(p);
      return `  ${p}${backup ? ` (old contents kept as ${backup})` : " (unchanged)"}\n`;
    };
    out(`Replaced ${replaced.length} existing file(s) (--force):\n${replaced.map(line).join("")}`);
  }
}

function nextSteps(sources: Sources, model: ProjectModel, dir: string, installed: boolean): string {
  const template = Handlebars.compile(sources.help["next-steps"] ?? "", { noEscape: true, strict: true });
  const { appName: app, environments, secrets } = model.config;
  const env = environments[0];
  return template({
    dir: shellWord(dir),
    env: env.name,
    installed,
    ssm: env.amiSource.mode === "ssm",
    amiParameter: env.amiSource.mode === "ssm" ? env.amiSource.parameter : "",
    asgName: resourcePrefix(app, env.name),
    refreshPreferences: JSON.stringify(manualRefreshPreferences(env)),
    secrets: secrets.length > 0,
    secret: secretParameterName(app, env.name, secrets[0] ?? "NAME"),
    kmsAlias: kmsAliasName(app, env.name),
  });
}
