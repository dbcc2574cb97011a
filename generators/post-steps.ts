/**
 * What runs after the files are on disk: the package manager's install (with a progress display) and
 * `git init`. A failure or an interruption here keeps every file and tells the user how to finish.
 */
import { type ChildProcessByStdio, spawn as nodeSpawn } from "node:child_process";
import type { Readable } from "node:stream";
import { installArgv, installCommand, type PackageManager } from "./package-manager";

export interface SpawnResult {
  readonly code: number | null;
  /** The end of the combined output, for the error message. */
  readonly output: string;
  /** The signal that ended the command, if one did. */
  readonly signal?: string;
}

export interface SpawnOptions {
  readonly cwd: string;
  /** Aborted on Ctrl-C: the command is stopped (SIGTERM, then SIGKILL) and its result returned. */
  readonly signal?: AbortSignal;
}

/** Runs a command to completion; never rejects for a non-zero exit (only `code` says so). */
export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => Promise<SpawnResult>;

/** How long a stopped command may take to exit before it is killed. */
const STOP_GRACE_MS = 3000;

export const defaultSpawn: SpawnFn = (command, args, options) =>
  new Promise((resolve) => {
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-4000);
    };
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = nodeSpawn(command, [...args], {
        cwd: options.cwd,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false" },
      });
    } catch (error) {
      resolve({ code: null, output: (error as Error).message });
      return;
    }
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let killer: NodeJS.Timeout | undefined;
    // On a terminal, Ctrl-C reaches the child itself (same process group); a signal sent to this
    // process alone does not, so the child is stopped here too.
    const stop = (): void => {
      child.kill("SIGTERM");
      killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    };
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    const done = (result: SpawnResult): void => {
      if (killer) clearTimeout(killer);
      options.signal?.removeEventListener("abort", stop);
      resolve(result);
    };
    child.on("error", (error) => done({ code: null, output: error.message }));
    child.on("close", (code, signal) => done({ code, output, signal: signal ?? undefined }));
  });

export interface Output {
  write(text: string): void;
  readonly isTTY?: boolean;
}

/**
 * A one-line spinner with elapsed seconds on a TTY; a start and an end line otherwise. The end line
 * says "finished in 12s", or what `ending` says of the result ("interrupted after").
 */
export async function withProgress<T>(
  out: Output,
  label: string,
  work: () => Promise<T>,
  ending: (result: T) => string = () => "finished in",
): Promise<T> {
  const started = Date.now();
  const seconds = (digits: number): string => `${((Date.now() - started) / 1000).toFixed(digits)}s`;
  if (!out.isTTY) {
    out.write(`${label}...\n`);
    const result = await work();
    out.write(`${label}: ${ending(result)} ${seconds(1)}\n`);
    return result;
  }
  const frames = ["-", "\\", "|", "/"];
  let i = 0;
  const draw = (): void => out.write(`\r${frames[i++ % frames.length]} ${label} (${seconds(0)})`);
  draw();
  const timer = setInterval(draw, 120);
  let result: T | undefined;
  let ok = false;
  try {
    result = await work();
    ok = true;
    return result;
  } finally {
    clearInterval(timer);
    out.write(`\r${label}: ${ok ? ending(result as T) : "failed after"} ${seconds(0)}    \n`);
  }
}

export interface StepOutcome {
  readonly ok: boolean;
  /**
   * Not a failure, a step left to the user for a reason the note gives (git has no identity: the
   * repository is made and the files are staged, the commit is theirs to make once it has one).
   */
  readonly skipped?: string;
  /** Stopped by Ctrl-C (the signal passed in was aborted); `manual` then finishes the step. */
  readonly interrupted?: boolean;
  /** What to run by hand when the step failed. */
  readonly manual?: string;
  readonly detail?: string;
}

/** The generator's first commit; upgrade finds the base of a project's files by it (releases.ts). */
export const INITIAL_COMMIT = "Initial commit from create-immutable-app";

/** The whole git step, for the user to run when it did not happen. */
export const GIT_BY_HAND = `git init -q && git add -A && git commit -q -m "${INITIAL_COMMIT}"`;

/** How to get each package manager when it is not installed (Node.js 20 ships corepack for pnpm and yarn). */
const GET_PACKAGE_MANAGER: Readonly<Record<PackageManager, string>> = {
  npm: "install Node.js with its npm",
  pnpm: "corepack enable pnpm",
  yarn: "corepack enable yarn",
  bun: "npm install -g bun",
};

export async function installDependencies(
  dir: string,
  pm: PackageManager,
  spawn: SpawnFn,
  out: Output,
  signal?: AbortSignal,
): Promise<StepOutcome> {
  const [command, ...args] = installArgv(pm);
  const manual = installCommand(pm);
  const result = await withProgress(
    out,
    `Installing dependencies (${manual})`,
    () => spawn(command, args, { cwd: dir, signal }),
    (r) => (stoppedByCtrlC(r, signal) ? "interrupted after" : r.code === 0 ? "finished in" : "failed after"),
  );
  if (stoppedByCtrlC(result, signal)) return { ok: false, interrupted: true, manual };
  if (result.code === 0) return { ok: true };
  // Not started at all: the program is missing (spawn's ENOENT), not a failed install.
  if (result.code === null && /\bENOENT\b/.test(result.output)) {
    return {
      ok: false,
      manual: pm === "npm" ? manual : `${GET_PACKAGE_MANAGER[pm]} && ${manual}`,
      detail: `${command} is not installed (not found on the PATH); ${pm === "npm" ? GET_PACKAGE_MANAGER.npm : `get it with: ${GET_PACKAGE_MANAGER[pm]}`}`,
    };
  }
  return { ok: false, manual, detail: lastLines(result.output, 12) };
}

export async function initGit(dir: string, spawn: SpawnFn, signal?: AbortSignal): Promise<StepOutcome> {
  const steps: Array<[readonly string[], string]> = [
    [["init", "-q"], GIT_BY_HAND],
    [["add", "-A"], 'git add -A && git commit -m "Initial commit"'],
    [["commit", "-q", "-m", INITIAL_COMMIT], `git commit -q -m "${INITIAL_COMMIT}"`],
  ];
  for (const [args, manual] of steps) {
    if (signal?.aborted) return { ok: false, interrupted: true, manual };
    const result = await spawn("git", args, { cwd: dir, signal });
    if (stoppedByCtrlC(result, signal)) return { ok: false, interrupted: true, manual };
    // git's own words when it has no user.name/user.email and cannot make them up.
    if (args[0] === "commit" && /Please tell me who you are|unable to auto-detect email address|empty ident name/.test(result.output)) {
      return {
        ok: false,
        skipped: "git does not know who you are (user.name and user.email are not set), so no commit was made; the files are staged",
        manual: `git config --global user.name "Your Name" && git config --global user.email you@example.com && ${manual}`,
      };
    }
    if (result.code !== 0) return { ok: false, manual, detail: lastLines(result.output, 5) };
  }
  return { ok: true };
}

/**
 * Ctrl-C on a terminal reaches the command too (one process group): it may end before this process's
 * own handler has run, so a command ended by SIGINT counts as interrupted, not as failed.
 */
function stoppedByCtrlC(result: SpawnResult, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || result.signal === "SIGINT";
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
