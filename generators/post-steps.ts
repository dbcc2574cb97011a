/**
 * What runs after the files are on disk: the package manager's install (with a progress display) and
 * `git init`. A failure here keeps every file and tells the user how to finish by hand.
 */
import { spawn as nodeSpawn } from "child_process";
import { installArgv, installCommand, PackageManager } from "./package-manager";

export interface SpawnResult {
  readonly code: number | null;
  /** The end of the combined output, for the error message. */
  readonly output: string;
}

/** Runs a command to completion; never rejects for a non-zero exit (only `code` says so). */
export type SpawnFn = (command: string, args: readonly string[], options: { readonly cwd: string }) => Promise<SpawnResult>;

export const defaultSpawn: SpawnFn = (command, args, options) => new Promise((resolve) => {
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  let child;
  try {
    child = nodeSpawn(command, [...args], { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false" } });
  } catch (error) {
    resolve({ code: null, output: (error as Error).message });
    return;
  }
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("error", (error) => resolve({ code: null, output: error.message }));
  child.on("close", (code) => resolve({ code, output }));
});

export interface Output {
  write(text: string): void;
  readonly isTTY?: boolean;
}

/** A one-line spinner with elapsed seconds on a TTY; a start and an end line otherwise. */
export async function withProgress<T>(out: Output, label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const seconds = (): string => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  if (!out.isTTY) {
    out.write(`${label}...\n`);
    const result = await work();
    out.write(`${label}: finished in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    return result;
  }
  const frames = ["-", "\\", "|", "/"];
  let i = 0;
  const draw = (): void => out.write(`\r${frames[i++ % frames.length]} ${label} (${seconds()})`);
  draw();
  const timer = setInterval(draw, 120);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    out.write(`\r${label}: finished in ${seconds()}    \n`);
  }
}

export interface StepOutcome {
  readonly ok: boolean;
  /** What to run by hand when the step failed. */
  readonly manual?: string;
  readonly detail?: string;
}

export async function installDependencies(dir: string, pm: PackageManager, spawn: SpawnFn, out: Output): Promise<StepOutcome> {
  const [command, ...args] = installArgv(pm);
  const manual = installCommand(pm);
  const result = await withProgress(out, `Installing dependencies (${manual})`, () => spawn(command, args, { cwd: dir }));
  if (result.code === 0) return { ok: true };
  return { ok: false, manual, detail: lastLines(result.output, 12) };
}

export async function initGit(dir: string, spawn: SpawnFn): Promise<StepOutcome> {
  const init = await spawn("git", ["init", "-q"], { cwd: dir });
  if (init.code !== 0) return { ok: false, manual: "git init", detail: lastLines(init.output, 5) };
  const add = await spawn("git", ["add", "-A"], { cwd: dir });
  if (add.code !== 0) return { ok: false, manual: "git add -A && git commit -m \"Initial commit\"", detail: lastLines(add.output, 5) };
  const commit = await spawn("git", ["commit", "-q", "-m", "Initial commit from create-immutable-app"], { cwd: dir });
  if (commit.code !== 0) return { ok: false, manual: "git commit -m \"Initial commit\"", detail: lastLines(commit.output, 5) };
  return { ok: true };
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
