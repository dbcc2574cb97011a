/**
 * Helpers for the generator and CLI tests: an in-process run with captured output and a scripted
 * prompter, the built bin as a subprocess, and a snapshot of a directory tree.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "../../generators/args";
import { resolveAnswers } from "../../generators/answers";
import { type CliDeps, run } from "../../generators/cli";
import { buildModel, type ProjectModel } from "../../generators/model";
import { type FileMap, renderProject } from "../../generators/render";
import type { ConfirmQuestion, InputQuestion, Prompter, SelectQuestion } from "../../generators/prompter";
import { readSources, type Sources } from "../../generators/package-files";
import type { SpawnFn } from "../../generators/post-steps";

export const REPO = resolve(__dirname, "..", "..");
export const BIN = join(REPO, "bin", "create-immutable-app.js");

let sources: Sources | undefined;
/** This package's sources, read once per test file. */
export function packageSources(): Sources {
  sources ??= readSources(REPO);
  return sources;
}

export class Capture {
  text = "";
  constructor(readonly isTTY = false) {}
  write(chunk: string): void {
    this.text += chunk;
  }
}

export interface PromptLog {
  readonly kind: "input" | "confirm" | "select";
  readonly message: string;
  readonly default?: unknown;
}

/**
 * Answers prompts in order from `script`; each entry is checked against the question's own
 * validator first (so a test can assert that a bad answer is refused as it is typed).
 */
export function scriptedPrompter(script: Array<string | boolean>, log: PromptLog[] = []): Prompter {
  const next = (message: string): string | boolean => {
    if (script.length === 0) throw new Error(`unexpected prompt: ${message}`);
    return script.shift()!;
  };
  return {
    async input(q: InputQuestion) {
      log.push({ kind: "input", message: q.message, default: q.default });
      let value = next(q.message) as string;
      if (value === "") value = q.default ?? "";
      const valid = q.validate ? q.validate(value) : true;
      if (valid !== true) throw new Error(`prompt "${q.message}" refused ${JSON.stringify(value)}: ${valid}`);
      return value;
    },
    async confirm(q: ConfirmQuestion) {
      log.push({ kind: "confirm", message: q.message, default: q.default });
      return next(q.message) as boolean;
    },
    async select<T extends string>(q: SelectQuestion<T>) {
      log.push({ kind: "select", message: q.message, default: q.default });
      const value = next(q.message) as T;
      if (!q.choices.some((c) => c.value === value)) throw new Error(`${value} is not a choice of ${q.message}`);
      return value;
    },
  };
}

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI in-process (no TTY unless a prompter is given), never installing or running git for real.
 * The environment is empty unless given: npm, and no colour (NO_COLOR) so that tests read plain text.
 */
export async function runCli(
  argv: string[],
  options: Partial<CliDeps> & { prompter?: Prompter; stdoutIsTTY?: boolean; stderrIsTTY?: boolean } = {},
): Promise<InProcessResult> {
  const stdout = new Capture(options.stdoutIsTTY ?? options.prompter !== undefined);
  const stderr = new Capture(options.stderrIsTTY ?? false);
  const refuseSpawn: SpawnFn = async (command) => {
    throw new Error(`test run tried to spawn ${command}; pass --no-install --no-git or a fake spawn`);
  };
  const code = await run(argv, {
    cwd: options.cwd ?? process.cwd(),
    stdout: options.stdout ?? stdout,
    stderr,
    stdinIsTTY: options.prompter !== undefined,
    env: options.env ?? { NO_COLOR: "1" },
    loadPrompter: options.prompter ? async () => options.prompter! : undefined,
    spawn: options.spawn ?? refuseSpawn,
    onStep: options.onStep,
    sources: options.sources ?? packageSources(),
    deferSignals: options.deferSignals,
    git: options.git,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Every entry under `dir` (relative path -> sha256, "dir", or "-> link"), for "untouched" assertions. */
export function treeSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(dir, path);
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) out[path] = `-> ${readlinkSync(full)}`;
      else if (stat.isDirectory()) {
        out[path] = "dir";
        walk(path);
      } else out[path] = createHash("sha256").update(readFileSync(full)).digest("hex").slice(0, 16);
    }
  };
  walk("");
  return out;
}

export function sha(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * Builds dist/ (what bin/ runs) once, unless it is newer than every source; a lock directory keeps
 * parallel jest workers from compiling at the same time.
 */
export function ensureCliBuilt(): void {
  const lock = join(REPO, "dist", ".build-lock");
  mkdirSync(join(REPO, "dist"), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} is held for too long`);
      execFileSync("sleep", ["0.2"]);
    }
  }
  try {
    if (!isBuildFresh()) {
      execFileSync(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], {
        cwd: REPO,
        stdio: "pipe",
      });
    }
  } finally {
    rmdirSync(lock);
  }
}

function isBuildFresh(): boolean {
  const newest = (dir: string, ext: string): number => {
    if (!existsSync(dir)) return 0;
    let max = 0;
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const stat = statSync(full);
      if (stat.isDirectory()) max = Math.max(max, newest(full, ext));
      else if (name.endsWith(ext)) max = Math.max(max, stat.mtimeMs);
    }
    return max;
  };
  const built = join(REPO, "dist", "generators", "cli.js");
  if (!existsSync(built)) return false;
  const oldestOutput = statSync(built).mtimeMs;
  return (
    Math.max(newest(join(REPO, "generators"), ".ts"), newest(join(REPO, "stacks"), ".ts"), newest(join(REPO, "managed"), ".ts")) <
    oldestOutput
  );
}

/**
 * Runs the built bin as a user would, with plain output: jest's workers may set FORCE_COLOR, and
 * NO_COLOR wins over it (a test that wants colour passes NO_COLOR: "").
 */
export function runBin(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    encoding: "utf8",
    timeout: options.timeout ?? 60_000,
  });
}

/** The model of `create-immutable-app shop --yes <argv>` (and an answers file given as a value), in process. */
export async function shopModel(argv: string[], file?: Record<string, unknown>): Promise<ProjectModel> {
  const answers = await resolveAnswers({
    flags: parseArgs(["shop", "--yes", ...argv]),
    interactive: false,
    file: file ? { flag: "--config-file", path: "answers.json", value: file } : undefined,
  });
  return buildModel(answers, "/tmp");
}

/** What that run would write, without writing: for tests that read the generated files. */
export async function renderShop(argv: string[], file?: Record<string, unknown>): Promise<FileMap> {
  return renderProject(await shopModel(argv, file), packageSources());
}
