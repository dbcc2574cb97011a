/**
 * The generator, end to end: argv -> flags -> answers -> model -> file map -> disk -> install/git.
 * Side effects are injected (cwd, output, prompter, spawn, step hook) so tests run it in-process;
 * it returns an exit code and never calls process.exit (bin/ does).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "./args";
import { type AnswerKey, type Answers, resolveAnswers } from "./answers";
import { colourEnabled, palette, type Palette } from "./colour";
import { CancelledError, GeneratorError, UsageError, UsageProblems, EXIT_CANCELLED } from "./errors";
import { answerKeyOfSubject, buildModel, dirProblems, type ProjectModel, subjectOf } from "./model";
import { readSources, type Sources } from "./package-files";
import { installCommand } from "./package-manager";
import { defaultSpawn, GIT_BY_HAND, initGit, installDependencies, type Output, type SpawnFn } from "./post-steps";
import { isPromptExit, type Prompter } from "./prompter";
import { type FileMap, renderProject } from "./render";
import { confirmationSummary, nextSteps, printCreated, riskyValues, shellWord } from "./summary";
import { type GitFn, upgrade } from "./upgrade";
import { checkTarget, planWrite, type WritePlan, writeFiles } from "./write";

export interface CliDeps {
  readonly cwd: string;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Prompts are shown only when stdin and stdout are TTYs (and --yes is absent). */
  readonly stdinIsTTY: boolean;
  /**
   * The environment variables the CLI reads: npm_config_user_agent (the package manager that ran it),
   * NO_COLOR, FORCE_COLOR and TERM (colour). Nothing else is read from the environment.
   * @default {} (npm, colour only on a TTY)
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Loads the interactive prompter; called only when a prompt is needed. */
  readonly loadPrompter?: () => Promise<Prompter>;
  readonly spawn?: SpawnFn;
  /** Named steps of the write (see write.ts); tests crash the process at them. */
  readonly onStep?: (step: string) => void;
  /** This package's files; read from the package root when absent. */
  readonly sources?: Sources;
  /**
   * Registers a handler for SIGINT/SIGTERM/SIGHUP from the write to the end of the install and git
   * steps; returns the unregister function. Without it a signal ends the process as usual.
   */
  readonly deferSignals?: (onSignal: (signal: string) => void) => () => void;
  /** Reads the project's history for `upgrade` (file contents, so the whole output). @default the real git */
  readonly git?: GitFn;
}

/** Answers files larger than this are refused before they are read. */
export const MAX_ANSWERS_FILE_BYTES = 1024 * 1024;

export async function run(argv: readonly string[], deps: CliDeps): Promise<number> {
  const red = palette(colourEnabled(deps.env ?? {}, deps.stderr.isTTY)).red;
  const err = (text: string): void => deps.stderr.write(text);
  try {
    return await generate(argv, deps);
  } catch (error) {
    if (error instanceof CancelledError || isPromptExit(error)) {
      err("\nCancelled; nothing was written.\n");
      return EXIT_CANCELLED;
    }
    if (error instanceof GeneratorError) {
      err(`${red(`create-immutable-app: ${error.message}`)}\n`);
      if (error.category === "usage") err("Run create-immutable-app --help for the options.\n");
      return error.exitCode;
    }
    err(`${red(`create-immutable-app: internal error (please report it): ${(error as Error)?.stack ?? String(error)}`)}\n`);
    return 70;
  }
}

/** The answers the summary can change, as it names them. */
const ANSWER_LABELS: ReadonlyArray<readonly [AnswerKey, string]> = [
  ["name", "App name"],
  ["region", "AWS region"],
  ["environments", "Environments"],
  ["instanceType", "Instance type"],
  ["min", "Minimum instances"],
  ["max", "Maximum instances"],
  ["port", "Port"],
  ["healthPath", "Health-check path"],
  ["image", "Container image"],
  ["dockerfile", "Dockerfile"],
  ["certificateArn", "HTTPS certificate"],
  ["network", "Network"],
  ["config", "Config values"],
  ["secrets", "Secrets"],
  ["githubRepo", "GitHub repository"],
  ["install", "Install dependencies"],
  ["git", "git repository"],
];

/** The questions behind usage problems, when every problem has one (a problem in an answers file has none). */
function reaskable(error: UsageProblems): Set<AnswerKey> | undefined {
  const keys = error.problems.map((p) => answerKeyOfSubject(p.subject));
  return keys.every((k) => k !== undefined) && keys.length > 0 ? new Set(keys as AnswerKey[]) : undefined;
}

async function generate(argv: readonly string[], deps: CliDeps): Promise<number> {
  // `create-immutable-app upgrade ...`: only as the first argument (`./upgrade` is a directory of that name).
  if (argv[0] === "upgrade") return upgrade(argv.slice(1), deps);
  const env = deps.env ?? {};
  const out = (text: string): void => deps.stdout.write(text);
  const colour = palette(colourEnabled(env, deps.stdout.isTTY));
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
  const resolveOptions = {
    flags,
    interactive,
    prompter,
    file,
    insideGitRepo: insideGitRepo(target ?? deps.cwd),
    cwd: deps.cwd,
    userAgent: env.npm_config_user_agent,
    // The same rules as the write step, before the questions: no answering 17 of them for nothing.
    checkTarget: (dir: string) => {
      const problems = dirProblems(dir);
      if (problems.length > 0) throw new UsageProblems(problems);
      checkTarget(resolve(deps.cwd, dir), flags.force);
    },
  };
  let answers: Answers = await resolveAnswers(resolveOptions);
  // On a terminal no answer is thrown away: answers that fail together are shown and asked again, and
  // the summary lets the user change any answer; every other answer is kept as it was.
  let settled: { model: ProjectModel; files: FileMap; plan: WritePlan } | undefined;
  while (!settled) {
    let model: ProjectModel;
    try {
      model = buildModel(answers, deps.cwd);
    } catch (error) {
      if (!(error instanceof UsageProblems) || !prompter) throw error;
      const keys = reaskable(error);
      if (!keys) throw error;
      const red = palette(colourEnabled(env, deps.stderr.isTTY)).red;
      deps.stderr.write(`${red(`create-immutable-app: ${error.message}`)}\nThose questions again (your other answers are kept):\n`);
      answers = await resolveAnswers({ ...resolveOptions, previous: answers, reask: keys });
      continue;
    }
    for (const line of riskyValues(model, (field) => subjectOf(field, answers))) deps.stderr.write(`warning: ${line}\n`);
    const files = renderProject(model, sources);
    const plan = planWrite(model.targetDir, files, flags.force);
    if (prompter && !flags.dryRun) {
      out(confirmationSummary(model, files, plan, colour));
      if (!(await prompter.confirm({ message: "Create the project?", default: true }))) {
        const change = await prompter.select<AnswerKey | "cancel">({
          message: "Change an answer, or cancel?",
          default: "cancel",
          choices: [{ name: "Cancel: write nothing", value: "cancel" }, ...ANSWER_LABELS.map(([key, name]) => ({ name, value: key }))],
        });
        if (change === "cancel") {
          deps.stderr.write("Nothing was written.\n");
          return EXIT_CANCELLED;
        }
        answers = await resolveAnswers({ ...resolveOptions, previous: answers, reask: new Set([change]) });
        continue;
      }
    }
    settled = { model, files, plan };
  }
  const { model, files, plan } = settled;
  const shownDir = displayPath(deps.cwd, model.targetDir);

  if (flags.dryRun) {
    out(`Dry run: would write ${files.size} files to ${shownDir} (nothing is written):\n`);
    for (const [path, f] of files) {
      const size = typeof f.contents === "string" ? Buffer.byteLength(f.contents) : f.contents.length;
      const backup = plan.backups.get(path);
      out(
        `  ${plan.replaced.includes(path) ? "replace" : "create "} ${path} (${size} bytes${backup ? `; old contents kept as ${backup}` : ""})\n`,
      );
    }
    return 0;
  }

  // From here a signal is deferred: the write finishes (never half a project), a running install or
  // git is stopped, and the user is told what is on disk and the one command that finishes the job.
  let interrupted: string | undefined;
  const stop = new AbortController();
  const release = deps.deferSignals?.((signal) => {
    interrupted ??= signal;
    stop.abort();
  });
  try {
    const result = writeFiles(model.targetDir, files, { force: flags.force, onStep: deps.onStep });
    if (release) await settleSignals();
    printCreated(out, files, result, shownDir);
    for (const [path, note] of result.modes) out(`  ${path}: ${note}\n`);
    return await postSteps(model, shownDir, sources, deps, colour, stop.signal, () => interrupted);
  } finally {
    release?.();
  }
}

/**
 * Lets a signal that arrived during a synchronous write reach its handler before the result is
 * reported. One setImmediate was not enough (upgrade: the message in 1 of 18 runs, exit 3); two loop
 * turns were, in 20 of 20 runs (__tests__/upgrade-no-loss.test.ts).
 */
export async function settleSignals(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

type PostStep = "install" | "git";

/** Install and git; on Ctrl-C, what is on disk and the command that finishes the job (exit 130). */
async function postSteps(
  model: ProjectModel,
  shownDir: string,
  sources: Sources,
  deps: CliDeps,
  colour: Palette,
  signal: AbortSignal,
  interrupted: () => string | undefined,
): Promise<number> {
  const out = (text: string): void => deps.stdout.write(text);
  const spawn = deps.spawn ?? defaultSpawn;
  const install = installCommand(model.packageManager);
  const pending: PostStep[] = [...(model.install ? ["install" as const] : []), ...(model.git ? ["git" as const] : [])];
  const byHand = (step: PostStep): string => (step === "install" ? install : GIT_BY_HAND);
  const manual: string[] = [];
  let failed = false;
  let installed = false;
  let when = "after the project was written completely";
  const report = (remaining: ReadonlyArray<{ step: PostStep; command: string }>): number => {
    deps.stderr.write(interruptedReport(interrupted() ?? "SIGINT", when, shownDir, remaining));
    return EXIT_CANCELLED;
  };
  while (pending.length > 0) {
    const step = pending[0];
    if (interrupted()) return report(pending.map((s) => ({ step: s, command: byHand(s) })));
    const outcome =
      step === "install"
        ? await installDependencies(model.targetDir, model.packageManager, spawn, deps.stdout, signal)
        : await initGit(model.targetDir, spawn, signal);
    if (outcome.interrupted) {
      when = step === "install" ? `during the install (${install})` : "during the git setup";
      return report([{ step, command: outcome.manual! }, ...pending.slice(1).map((s) => ({ step: s, command: byHand(s) }))]);
    }
    pending.shift();
    when = step === "install" ? `after the install (${install})` : "after the git setup";
    if (outcome.ok) {
      installed ||= step === "install";
      continue;
    }
    if (outcome.skipped) {
      // Not a failure (as create-next-app does): the project and its repository are there; one step is the user's.
      deps.stderr.write(`\nNo initial commit: ${outcome.skipped}.\n`);
      manual.push(outcome.manual!);
      continue;
    }
    failed = true;
    deps.stderr.write(
      `\n${step === "install" ? install : "git setup"} failed; the project files are complete. Output:\n${outcome.detail}\n`,
    );
    manual.push(outcome.manual!);
  }
  if (interrupted()) return report([]);
  const cd = shownDir === "." ? [] : [`cd ${shellWord(shownDir)}`];
  if (manual.length > 0) out(`\nTo finish by hand:\n${[...cd, ...manual].map((m) => `  ${m}\n`).join("")}`);
  out(`\n${nextSteps(sources, model, shownDir, installed, colour)}`);
  return failed ? 1 : 0;
}

/** After Ctrl-C: when it came, that the project is complete, what is still missing, one command for the rest. */
function interruptedReport(
  signal: string,
  when: string,
  shownDir: string,
  remaining: ReadonlyArray<{ step: PostStep; command: string }>,
): string {
  const missing = remaining.map((r) => (r.step === "install" ? "its dependencies are not installed" : "git is not set up"));
  const lines = [`\nInterrupted (${signal}) ${when}.`, `The project in ${shownDir} is complete${missing.map((m) => `; ${m}`).join("")}.`];
  if (remaining.length > 0) {
    const cd = shownDir === "." ? [] : [`cd ${shellWord(shownDir)}`];
    lines.push(`To finish: ${[...cd, ...remaining.map((r) => r.command)].join(" && ")}`);
  }
  return `${lines.join("\n")}\n`;
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
    text = buffer
      .subarray(0, read)
      .toString("utf8")
      .replace(/^\uFEFF/, "");
  } catch (error) {
    if (error instanceof GeneratorError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      subject,
      code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : `cannot be read (${(error as Error).message})`,
    );
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
    throw new UsageError(
      subject,
      `must hold a JSON object shaped like immutable.config.json, got ${Array.isArray(value) ? "a list" : value === null ? "null" : typeof value}`,
    );
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
