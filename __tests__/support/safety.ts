/**
 * Helpers for the safety tests: a fresh working directory inside a root that is snapshotted whole
 * (so a write beside the target, or a temp directory left behind, shows up), and the assertion that a
 * run was refused with exit 2, naming its flag, with nothing on disk changed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InputQuestion, Prompter } from "../../generators/prompter";
import { tempDir } from "./terraform";
import { type InProcessResult, runCli, treeSnapshot } from "./cli";

export interface Workspace {
  /** Snapshotted whole: holds `work/` (the cwd) and nothing else of ours. */
  readonly root: string;
  /** The cwd of the run; holds one file of the user's. */
  readonly cwd: string;
}

export function workspace(prefix = "cia-safety"): Workspace {
  const root = tempDir(prefix);
  const cwd = join(root, "work");
  mkdirSync(cwd);
  writeFileSync(join(cwd, "notes.txt"), "the user's own file\n");
  return { root, cwd };
}

/** Escapes text for use inside a RegExp. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The line of stderr that names `subject`: a single usage error (`create-immutable-app: --port: ...`) or
 * one entry of the list of problems (`  - --port: appPort: ...`).
 */
export function namedLine(stderr: string, subject: string): string | undefined {
  const pattern = new RegExp(`^(?:create-immutable-app: |  - )${literal(subject)}(?::| \\()`);
  return stderr.split("\n").find((line) => pattern.test(line));
}

export interface RefusalCase {
  readonly argv: readonly string[];
  /** Written to `<cwd>/a.json` as is (a string) or as JSON; pass `--config-file a.json` in argv. */
  readonly file?: string | Buffer | Record<string, unknown>;
  readonly prompter?: Prompter;
}

/** Runs the CLI in a fresh workspace and returns the result with the root's tree before and after. */
export async function runInWorkspace(
  c: RefusalCase,
  ws = workspace(),
): Promise<InProcessResult & { before: Record<string, string>; after: Record<string, string>; ws: Workspace }> {
  if (c.file !== undefined) {
    const contents = typeof c.file === "string" || Buffer.isBuffer(c.file) ? c.file : JSON.stringify(c.file);
    writeFileSync(join(ws.cwd, "a.json"), contents);
  }
  const before = treeSnapshot(ws.root);
  const result = await runCli([...c.argv], { cwd: ws.cwd, prompter: c.prompter });
  return { ...result, before, after: treeSnapshot(ws.root), ws };
}

/** Exit 2, a line naming `subject` that matches `message`, the --help hint, and not one byte changed. */
export async function expectRefused(c: RefusalCase, subject: string, message: RegExp): Promise<string> {
  const r = await runInWorkspace({ ...c, argv: [...c.argv, "--no-install", "--no-git"] });
  const line = namedLine(r.stderr, subject);
  if (r.code !== 2 || line === undefined) {
    throw new Error(`expected exit 2 naming ${subject}, got ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  expect(r.stderr.slice(r.stderr.indexOf(line))).toMatch(message);
  expect(r.stderr).toMatch(/Run create-immutable-app --help for the options\./);
  expect(r.stdout).toBe("");
  expect(r.after).toEqual(r.before);
  return r.stderr;
}

/**
 * A prompter that accepts every default, except at the question matching `target`: there it types
 * `bad`, records what the question's validator said, and then the user presses Ctrl-C.
 */
export function probingPrompter(target: RegExp, bad: string, seen: { verdict?: true | string; asked: string[] }): Prompter {
  const exit = (): Error => Object.assign(new Error("User force closed the prompt"), { name: "ExitPromptError" });
  return {
    async input(q: InputQuestion) {
      seen.asked.push(q.message);
      if (target.test(q.message)) {
        seen.verdict = q.validate ? q.validate(bad) : true;
        throw exit();
      }
      const value = q.default ?? "";
      const ok = q.validate ? q.validate(value) : true;
      if (ok !== true) throw new Error(`the default of "${q.message}" is refused: ${ok}`);
      return value;
    },
    async confirm(q) {
      seen.asked.push(q.message);
      return q.default ?? false;
    },
    async select(q) {
      seen.asked.push(q.message);
      return q.default ?? q.choices[0].value;
    },
  };
}
