/**
 * `create-immutable-app upgrade`, run in a project: the files of this version, rendered from the
 * project's own immutable.config.json, brought in without losing the team's changes.
 *
 *   config --migrate fields ($schema)--> validate (as the generator does; exit 2, nothing written)
 *   --> render this version's file map --> plan each file against what the old version wrote
 *   --> print the plan (--dry-run stops here) --> the generator's write step (temp dir, then move)
 *
 * What the old version wrote: its manifest (.create-immutable-app.json) gives each owned file's sha256;
 * a 0.1.0 project has none, so releases.ts gives the hashes of the files 0.1.0 wrote identically
 * everywhere. A file whose hash is unchanged is untouched: replaced. A changed file needs the *base*
 * (the old version's bytes) for a three-way merge. The base comes, checked against the recorded hash,
 * from (1) this version's own rendering when the file did not change between the versions, else
 * (2) the project's git history: the commits that wrote the manifest, then the generator's
 * "Initial commit from create-immutable-app"; without a recorded hash only that commit is trusted.
 * Without a base (no git, or a history without the generator's commit) the two sides are compared
 * and every differing hunk is marked as a conflict: never overwritten silently.
 *
 * Exit codes: 0 done (or already up to date), 3 written with conflicts to resolve (--dry-run: would
 * be), 2 usage (nothing written), 1 disk or git failure, 130 "no" at the confirmation.
 */
import { type ChildProcessWithoutNullStreams, spawn as nodeSpawn } from "node:child_process";
import { lstatSync, readFileSync, unlinkSync } from "node:fs";
import { join, posix } from "node:path";
import { CONFIG_FILE } from "../managed/config";
import { resolveConfig } from "../managed/config-validation";
import { ConfigError } from "../managed/json-reader";
import { parseUpgradeArgs } from "./args";
import { type CliDeps, settleSignals } from "./cli";
import { colourEnabled, palette } from "./colour";
import { EXIT_CANCELLED, EXIT_CONFLICTS, GeneratorError, UsageError, UsageProblems } from "./errors";
import {
  buildJournal,
  buildManifest,
  compareVersions,
  isOwned,
  JOURNAL_FILE,
  type JournalEntry,
  type Manifest,
  MANIFEST_FILE,
  type ManifestOptions,
  parseJournal,
  parseManifest,
  sha256,
} from "./manifest";
import { mergeJson } from "./json-merge";
import { jestNote, jestStyleTests } from "./jest-tests";
import { hasConflictMarkers, merge2, merge3, type MergeLabels } from "./merge";
import { type ProjectModel, SCHEMA_REF } from "./model";
import { readSources, type Sources } from "./package-files";
import { DEFAULT_PACKAGE_MANAGER, installCommand, runScript } from "./package-manager";
import { RELEASE_0_1_0 } from "./releases";
import { type FileMap, type GeneratedFile, json, renderProject } from "./render";
import { writeFiles } from "./write";

export interface GitResult {
  /** null: git could not be started (not installed). */
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs git to completion with the whole of its output (file contents); never rejects. */
export type GitFn = (args: readonly string[], options: { readonly cwd: string; readonly input?: string }) => Promise<GitResult>;

export const defaultGit: GitFn = (args, options) =>
  new Promise((resolve) => {
    const out: Buffer[] = [];
    let err = "";
    let child: ChildProcessWithoutNullStreams;
    try {
      // Reads only; no optional index refresh (GIT_OPTIONAL_LOCKS=0), no prompts, plain messages.
      child = nodeSpawn("git", [...args], {
        cwd: options.cwd,
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      });
    } catch (error) {
      resolve({ code: null, stdout: Buffer.alloc(0), stderr: (error as Error).message });
      return;
    }
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      err = (err + chunk.toString("utf8")).slice(-4000);
    });
    child.on("error", (error) => resolve({ code: null, stdout: Buffer.alloc(0), stderr: error.message }));
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });

/** Field-level migrations of immutable.config.json: one field's value, every other byte kept. */
const CONFIG_MIGRATIONS: ReadonlyArray<{ readonly field: "$schema"; readonly from: string; readonly to: string }> = [
  { field: "$schema", from: RELEASE_0_1_0.schemaRef, to: SCHEMA_REF },
];

/** Files that tools load by pattern (Packer: every .pkr.hcl and .auto.pkrvars.hcl; tsc and npm test: every test). */
const LOADED_BY_PATTERN: readonly RegExp[] = [
  /^packer\/[^/]+\.pkr\.(hcl|json)$/,
  /^packer\/[^/]+\.auto\.pkrvars\.(hcl|json)$/,
  /^__tests__\/.+\.test\.ts$/,
];

const KEPT_CHANGES = "your changes; nothing new for this file";

export type Action = "replace" | "merge" | "conflict" | "add" | "migrate" | "move-aside" | "keep" | "up-to-date";

export interface PlannedFile {
  readonly path: string;
  readonly action: Action;
  /** Why, for the listing. */
  readonly note: string;
  /** What is written at `path` (replace, merge, conflict, add, migrate). */
  readonly file?: GeneratedFile;
  readonly conflicts?: number;
  /** The current contents are kept as `<path>.orig` first (git HEAD does not hold them). */
  readonly backup?: boolean;
  /** move-aside: the new name. */
  readonly to?: string;
  /** conflict: the file holds <<<<<<< ... >>>>>>> blocks (otherwise the note says what to do by hand). */
  readonly markers?: boolean;
  /** A file this version writes that the team deleted: it stays deleted, and is recorded so. */
  readonly deleted?: boolean;
  /** Not listed: recorded as deleted by an earlier upgrade (it was said then). */
  readonly silent?: boolean;
}

export interface PlanInput {
  readonly from: string;
  readonly to: string;
  /** This version's owned files. */
  readonly theirs: FileMap;
  /** The old version's owned files -> sha256 of what it wrote; undefined = not known (rendered by 0.1.0). */
  readonly previous: ReadonlyMap<string, string | undefined>;
  /** What is on disk now; "special" = not a regular file, or reached through a symbolic link. Absent = no file. */
  readonly current: ReadonlyMap<string, Buffer | "special">;
  /** Bases found in git (verified), by path. */
  readonly bases: ReadonlyMap<string, { readonly contents: Buffer; readonly commit: string }>;
  /** git HEAD holds the current contents of this path (no backup needed). */
  readonly recoverable: (path: string) => boolean;
  /** Files an earlier upgrade recorded as deleted by the team. @default none */
  readonly deleted?: ReadonlySet<string>;
  /** --restore: deleted files to write again. @default none */
  readonly restore?: ReadonlySet<string>;
  /** Files an interrupted run of this upgrade already wrote (their bytes match its journal). @default none */
  readonly resumed?: ReadonlyMap<string, JournalEntry>;
}

export function conflictLabels(from: string, to: string): MergeLabels {
  return { ours: "ours (your project)", base: `base (create-immutable-app ${from})`, theirs: `theirs (create-immutable-app ${to})` };
}

/** What to do with every file: pure, for the tests and the dry run alike. */
export function planUpgrade(input: PlanInput): PlannedFile[] {
  const { theirs, previous, current, bases, from, to } = input;
  const labels = conflictLabels(from, to);
  const planned: PlannedFile[] = [];
  const latin1 = (b: Buffer): string => b.toString("latin1");
  const bytes = (f: GeneratedFile): Buffer => (typeof f.contents === "string" ? Buffer.from(f.contents, "utf8") : f.contents);
  const baseOf = (path: string, t: Buffer): { contents: Buffer; source: string } | undefined => {
    const hash = previous.get(path);
    if (hash !== undefined && sha256(t) === hash) return { contents: t, source: `unchanged since ${from}` };
    const found = bases.get(path);
    return found ? { contents: found.contents, source: `base from git ${found.commit.slice(0, 7)}` } : undefined;
  };

  for (const [path, file] of theirs) {
    const t = bytes(file);
    const c = current.get(path);
    const written = (contents: Buffer): GeneratedFile => ({ contents, executable: file.executable });
    const hash = previous.get(path);
    const resumed = input.resumed?.get(path);
    if (resumed) {
      planned.push({
        path,
        action: resumed.action as Action,
        conflicts: resumed.conflicts,
        markers: resumed.markers,
        // An empty hash: not the journal's, an unresolved conflict of this finished upgrade.
        note: resumed.sha256 === "" ? resumed.note : `${resumed.note}; written by the interrupted run`,
      });
      continue;
    }
    if (c === "special") {
      planned.push({
        path,
        action: "conflict",
        conflicts: 1,
        note: "is not a regular file (or is reached through a symbolic link): left alone; compare it with the new version by hand",
      });
      continue;
    }
    if (c === undefined) {
      if (input.restore?.has(path)) planned.push({ path, action: "add", note: "restored (--restore)", file });
      else if (input.deleted?.has(path)) planned.push({ path, action: "keep", deleted: true, silent: true, note: "deleted by you" });
      else if (!previous.has(path)) planned.push({ path, action: "add", note: "new", file });
      else
        planned.push({
          path,
          action: "keep",
          deleted: true,
          note: `deleted by you: stays deleted${hash !== undefined && sha256(t) === hash ? "" : " (the new version changed it)"}; recorded in ${MANIFEST_FILE}, not said again; upgrade --restore ${path} brings it back`,
        });
      continue;
    }
    if (c.equals(t)) {
      planned.push({ path, action: "up-to-date", note: "" });
      continue;
    }
    const backup = !input.recoverable(path);
    // No base: both sides, every differing hunk marked (merge2).
    const markedWithoutBase = (note: string): PlannedFile => {
      const r = merge2(latin1(c), latin1(t), labels);
      return {
        path,
        action: "conflict",
        conflicts: r.conflicts,
        markers: true,
        backup,
        file: written(Buffer.from(r.text, "latin1")),
        note,
      };
    };
    if (hash !== undefined && sha256(c) === hash) {
      planned.push({ path, action: "replace", note: "untouched since generated", file });
      continue;
    }
    if (!previous.has(path)) {
      planned.push(
        markedWithoutBase(`yours (not written by create-immutable-app ${from}) and the new version's: every differing hunk marked`),
      );
      continue;
    }
    const base = baseOf(path, t);
    if (base && c.equals(base.contents)) {
      planned.push({ path, action: "replace", note: `untouched since generated; ${base.source}`, file });
      continue;
    }
    if (!base) {
      const what = hash !== undefined ? "changed, and no base to merge with" : `no record of what ${from} wrote here`;
      planned.push(markedWithoutBase(`${what} (no git history of what was generated): every differing hunk marked`));
      continue;
    }
    // JSON by keys (a dependency each side added is no clash); a clash of one value falls back to lines.
    const byKeys = path.endsWith(".json") ? mergeJson(base.contents.toString("utf8"), c.toString("utf8"), t.toString("utf8")) : undefined;
    if (byKeys !== undefined) {
      const merged = Buffer.from(byKeys, "utf8");
      if (merged.equals(c)) planned.push({ path, action: "keep", note: KEPT_CHANGES });
      else if (merged.equals(t))
        planned.push({ path, action: "replace", note: `the new version's; your changes were in it already; ${base.source}`, file });
      else
        planned.push({
          path,
          action: "merge",
          backup,
          file: written(merged),
          note: `your changes and the new version's, merged key by key; ${base.source}`,
        });
      continue;
    }
    const r = merge3(latin1(base.contents), latin1(c), latin1(t), labels);
    const merged = Buffer.from(r.text, "latin1");
    if (r.conflicts > 0) {
      planned.push({
        path,
        action: "conflict",
        conflicts: r.conflicts,
        markers: true,
        backup,
        file: written(merged),
        note: `${r.conflicts} conflict${r.conflicts === 1 ? "" : "s"} between your changes and the new version's; ${base.source}`,
      });
    } else if (merged.equals(c)) {
      planned.push({ path, action: "keep", note: KEPT_CHANGES });
    } else {
      planned.push({ path, action: "merge", backup, file: written(merged), note: `your changes and the new version's; ${base.source}` });
    }
  }

  // Files the old version wrote and this one does not: never deleted.
  const obsolete = [...previous.keys()].filter((p) => !theirs.has(p) && isOwned(p) && current.get(p) !== undefined).sort();
  const untouched = new Map<string, boolean | undefined>();
  for (const path of obsolete) {
    const c = current.get(path)!;
    if (c === "special") continue;
    const hash = previous.get(path) ?? (bases.has(path) ? sha256(bases.get(path)!.contents) : undefined);
    untouched.set(path, hash === undefined ? undefined : sha256(c) === hash);
  }
  // An untouched obsolete file moves aside when a tool would still load it, or when it imports a file
  // this version rewrote (its old assumptions about that file may no longer compile); and so on, for
  // the untouched obsolete files that import one moved aside.
  const reasons = new Map<string, string>();
  for (const path of obsolete) {
    if (untouched.get(path) === true && LOADED_BY_PATTERN.some((re) => re.test(path)))
      reasons.set(path, "a tool still loads it by its name");
  }
  const rewritten = (dep: string): boolean => {
    const t = theirs.get(dep);
    if (!t) return false;
    const hash = previous.get(dep);
    return hash === undefined || sha256(bytes(t)) !== hash;
  };
  // The tsconfig.json the project will have: as planned above, else as it is.
  const tsconfig =
    planned.find((p) => p.path === "tsconfig.json")?.file?.contents ??
    current.get("tsconfig.json") ??
    theirs.get("tsconfig.json")?.contents;
  const compiled = compiledBy(tsconfig === "special" ? undefined : tsconfig);
  for (let changed = true; changed; ) {
    changed = false;
    for (const path of obsolete) {
      if (reasons.has(path) || untouched.get(path) !== true || !compiled(path)) continue;
      const deps = relativeImports(path, latin1(current.get(path) as Buffer), (p) => theirs.has(p) || current.get(p) !== undefined);
      const hit = deps.find((d) => rewritten(d) || reasons.has(d));
      if (hit) {
        reasons.set(path, `it imports ${hit}, which ${reasons.has(hit) ? "moves aside too" : "the new version rewrote"}`);
        changed = true;
      }
    }
  }
  const taken = new Set<string>([...theirs.keys(), ...current.keys()]);
  for (const path of obsolete) {
    const c = current.get(path)!;
    const successor = successorOf(path, theirs);
    const next = successor ? `; its successor is ${successor}` : "";
    const reason = reasons.get(path);
    if (reason) {
      let target = `${path}.orig-${from}`;
      for (let n = 1; taken.has(target); n++) target = `${path}.orig-${from}.${n}`;
      taken.add(target);
      planned.push({
        path,
        action: "move-aside",
        to: target,
        note: `no longer written; untouched since generated; moved aside to ${target}: ${reason}; safe to delete${next}`,
      });
      continue;
    }
    const state =
      c === "special"
        ? "not a regular file"
        : untouched.get(path) === true
          ? "safe to delete: untouched since generated"
          : untouched.get(path) === false
            ? "changed since generated: move your changes, then delete it"
            : "no record of what was generated: compare before deleting";
    const loaded =
      untouched.get(path) !== true && LOADED_BY_PATTERN.some((re) => re.test(path)) ? "; a tool still loads it by its name" : "";
    planned.push({ path, action: "keep", note: `no longer written; kept; ${state}${loaded}${next}` });
  }
  return planned;
}

/**
 * The files `tsc` compiles: the globs of the tsconfig.json's `include` (every .ts file when it has none).
 * A file outside them cannot break the build, only sit there unused.
 */
export function compiledBy(tsconfig: string | Buffer | undefined): (path: string) => boolean {
  let include: unknown;
  try {
    include = tsconfig !== undefined ? (JSON.parse(tsconfig.toString()) as { include?: unknown }).include : undefined;
  } catch {
    include = undefined;
  }
  const globs = Array.isArray(include) ? include.filter((g): g is string => typeof g === "string") : ["**/*.ts"];
  const res = globs.map(
    (g) =>
      new RegExp(
        `^${g
          .split(/(\*\*\/|\*)/)
          .map((part) => (part === "**/" ? "(?:.*/)?" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
          .join("")}$`,
      ),
  );
  return (path) => path.endsWith(".ts") && res.some((re) => re.test(path));
}

/** managed/<rest> for stacks/<rest> or scripts/<rest>: where 0.2.0 moved the machinery. */
function successorOf(path: string, theirs: FileMap): string | undefined {
  const rest = path.split("/").slice(1).join("/");
  const candidate = `managed/${rest}`;
  return rest !== "" && candidate !== path && theirs.has(candidate) ? candidate : undefined;
}

/** Project paths a TypeScript file imports relatively (`./x`, `../y/z`), as far as they exist. */
export function relativeImports(path: string, text: string, exists: (p: string) => boolean): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']*)["']/g)) {
    const target = posix.normalize(posix.join(posix.dirname(path), m[1]));
    if (target.startsWith("..")) continue;
    const found = [target, `${target}.ts`, `${target}/index.ts`, `${target}.json`].find(exists);
    if (found && !out.includes(found)) out.push(found);
  }
  return out;
}

/** $schema moved with 0.2.0: the one field is rewritten in place; the text must parse to the same config but for it. */
export function migrateConfig(text: string): { readonly text: string; readonly changes: string[]; readonly byHand: string[] } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(CONFIG_FILE, `is not valid JSON (${(error as Error).message}); nothing was written`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { text, changes: [], byHand: [] };
  let out = text;
  const changes: string[] = [];
  const byHand: string[] = [];
  for (const m of CONFIG_MIGRATIONS) {
    if (value[m.field] !== m.from) continue;
    const literal = new RegExp(
      `("${m.field.replace(/\$/g, "\\$")}"\\s*:\\s*)${JSON.stringify(m.from).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`,
      "g",
    );
    const hits = [...out.matchAll(literal)];
    const next = hits.length === 1 ? out.replace(literal, (_, key: string) => `${key}${JSON.stringify(m.to)}`) : out;
    let ok = false;
    try {
      ok = hits.length === 1 && JSON.stringify(JSON.parse(next.replace(/^\uFEFF/, ""))) === JSON.stringify({ ...value, [m.field]: m.to });
    } catch {
      ok = false;
    }
    if (ok) {
      out = next;
      value = { ...value, [m.field]: m.to };
      changes.push(`${m.field}: ${JSON.stringify(m.from)} -> ${JSON.stringify(m.to)}`);
    } else {
      byHand.push(`${m.field}: set it to ${JSON.stringify(m.to)} by hand (was ${JSON.stringify(m.from)})`);
    }
  }
  return { text: out, changes, byHand };
}

interface OldVersion {
  readonly version: string;
  readonly manifest?: Manifest;
  readonly options: ManifestOptions;
  readonly previous: Map<string, string | undefined>;
}

/** What the old version wrote: its manifest, or for a project without one, what 0.1.0 wrote. */
function oldVersion(dir: string, manifestText: string | undefined, appName: string): OldVersion {
  if (manifestText !== undefined) {
    const manifest = parseManifest(manifestText);
    const previous = new Map<string, string | undefined>(Object.entries(manifest.files));
    for (const [path, hash] of Object.entries(manifest.obsolete ?? {})) if (!previous.has(path)) previous.set(path, hash);
    return { version: manifest.version, manifest, options: manifest.options, previous };
  }
  const release = RELEASE_0_1_0;
  // 0.1.0 recorded no answers: --dockerfile shows in the files it wrote; npm was its only package manager.
  const dockerfile = ["Dockerfile", "app/server.js"].every((p) => readFile(dir, p) !== undefined);
  const previous = new Map<string, string | undefined>();
  for (const [path, hash] of Object.entries(release.fixed)) {
    if (dockerfile || !release.dockerfileOnly.includes(path)) previous.set(path, hash);
  }
  for (const pattern of release.rendered) {
    const path = pattern.replace("{app}", appName);
    if ((dockerfile || !release.dockerfileOnly.includes(path)) && !previous.has(path)) previous.set(path, undefined);
  }
  return { version: release.version, options: { dockerfile, packageManager: DEFAULT_PACKAGE_MANAGER }, previous };
}

/** A regular file's bytes; "special" when it or a directory on its way is not a plain file or directory. */
function readFile(dir: string, path: string): Buffer | "special" | undefined {
  const segments = path.split("/");
  let current = dir;
  for (let i = 0; i < segments.length; i++) {
    current = join(current, segments[i]);
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(current);
    } catch (error) {
      if (["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "")) return undefined;
      throw error;
    }
    const last = i === segments.length - 1;
    if (stat.isSymbolicLink() || (!last && !stat.isDirectory()) || (last && !stat.isFile())) return "special";
  }
  try {
    return readFileSync(current);
  } catch (error) {
    throw new GeneratorError("external", `cannot read ${path}: ${(error as Error).message}`);
  }
}

interface GitBases {
  readonly bases: Map<string, { contents: Buffer; commit: string }>;
  readonly head: Map<string, Buffer>;
  /** Why there is no history to read, when there is none. */
  readonly none?: string;
}

/**
 * Bases from git: for each wanted path, the first candidate commit whose file has the recorded hash
 * (or, with no recorded hash, the generator's own initial commit); and HEAD's version of each.
 */
async function gitBases(dir: string, git: GitFn, wanted: ReadonlyMap<string, string | undefined>, hasManifest: boolean): Promise<GitBases> {
  const bases = new Map<string, { contents: Buffer; commit: string }>();
  const head = new Map<string, Buffer>();
  if (wanted.size === 0) return { bases, head };
  const run = (args: string[], input?: string): Promise<GitResult> => git(args, { cwd: dir, input });
  const top = await run(["rev-parse", "--show-prefix"]);
  if (top.code === null) return { bases, head, none: "git is not installed" };
  if (top.code !== 0) return { bases, head, none: "not a git repository" };
  const prefix = top.stdout.toString("utf8").trim();
  if ((await run(["rev-parse", "-q", "--verify", "HEAD^{commit}"])).code !== 0) return { bases, head, none: "no commits yet" };
  const lines = async (args: string[]): Promise<string[]> => {
    const r = await run(args);
    if (r.code !== 0) throw new GeneratorError("external", `git ${args.join(" ")} failed: ${r.stderr.trim()}`);
    return r.stdout
      .toString("utf8")
      .split("\n")
      .filter((l) => l !== "");
  };
  const generatorCommits = (await lines(["log", "--format=%H%x09%s", "-F", `--grep=${RELEASE_0_1_0.initialCommit}`, "--", "."]))
    .map((l) => l.split("\t"))
    .filter(([, subject]) => subject === RELEASE_0_1_0.initialCommit)
    .map(([commit]) => commit);
  const candidates = [
    ...new Set([
      ...(hasManifest ? await lines(["log", "--format=%H", "-n", "20", "--", MANIFEST_FILE]) : []),
      ...generatorCommits,
      // A project committed by hand: trusted only where a hash checks what it holds.
      ...(await lines(["log", "--format=%H", "--diff-filter=A", "--", CONFIG_FILE])),
    ]),
  ];
  const requests: Array<{ path: string; commit: string }> = [];
  for (const path of wanted.keys()) {
    requests.push({ path, commit: "HEAD" });
    for (const commit of candidates) requests.push({ path, commit });
  }
  const batch = await run(["cat-file", "--batch"], requests.map((r) => `${r.commit}:${prefix}${r.path}\n`).join(""));
  if (batch.code !== 0) throw new GeneratorError("external", `git cat-file --batch failed: ${batch.stderr.trim()}`);
  const blobs = parseCatFileBatch(batch.stdout, requests.length);
  requests.forEach((request, i) => {
    const blob = blobs[i];
    if (blob === undefined) return;
    if (request.commit === "HEAD") {
      head.set(request.path, blob);
      return;
    }
    if (bases.has(request.path)) return;
    const hash = wanted.get(request.path);
    const trusted = hash !== undefined ? sha256(blob) === hash : generatorCommits.includes(request.commit);
    if (trusted) bases.set(request.path, { contents: blob, commit: request.commit });
  });
  return { bases, head };
}

/** `git cat-file --batch` output: one blob (or undefined: missing, not a blob) per request, in order. */
export function parseCatFileBatch(out: Buffer, count: number): Array<Buffer | undefined> {
  const blobs: Array<Buffer | undefined> = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) throw new GeneratorError("external", "git cat-file --batch ended early");
    const header = out.subarray(at, eol).toString("utf8");
    at = eol + 1;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!m) {
      blobs.push(undefined);
      continue;
    }
    const size = Number(m[2]);
    blobs.push(m[1] === "blob" ? Buffer.from(out.subarray(at, at + size)) : undefined);
    at += size + 1;
  }
  return blobs;
}

/** Which files hold conflict blocks, and what to do by hand in the others (they hold no markers). */
function conflictReport(conflicts: readonly PlannedFile[], colour: ReturnType<typeof palette>): string {
  const marked = conflicts.filter((p) => p.markers === true);
  const byHand = conflicts.filter((p) => p.markers !== true);
  const s = conflicts.length === 1 ? "" : "s";
  return (
    `\n${colour.red(`Conflicts remain in ${conflicts.length} file${s}`)}: ${conflicts.map((p) => p.path).join(", ")}\n` +
    (marked.length > 0
      ? `Resolve each <<<<<<< ours / ||||||| base / ======= / >>>>>>> theirs block in: ${marked.map((p) => p.path).join(", ")}\n`
      : "") +
    byHand.map((p) => `By hand (nothing is marked in it): ${p.path}: ${p.note}\n`).join("")
  );
}

const ORDER: readonly Action[] = ["conflict", "merge", "replace", "add", "migrate", "move-aside", "keep"];

function listing(planned: readonly PlannedFile[]): string {
  const width = Math.max(...ORDER.map((a) => a.length));
  return ORDER.flatMap((action) => planned.filter((p) => p.action === action && !p.silent))
    .map((p) => `  ${p.action.padEnd(width)}  ${p.path}${p.note ? ` (${p.note})` : ""}\n`)
    .join("");
}

interface Prepared {
  readonly from: string;
  readonly to: string;
  readonly options: ManifestOptions;
  readonly planned: readonly PlannedFile[];
  /** What the write step writes, in the order it moves the files (the manifest last). */
  readonly writes: FileMap;
  readonly moveAside: ReadonlyMap<string, string>;
  readonly backups: ReadonlySet<string>;
  /** Why git gave no bases, when bases were wanted and it gave none. */
  readonly noBase?: string;
  /** The journal this run writes while it moves files into place. */
  readonly journal: string;
  /** An interrupted run's journal was found: this run finishes that upgrade. */
  readonly resuming: boolean;
}

/** CRLF throughout (a Windows checkout, core.autocrlf=true): every "\n" is preceded by "\r". */
export function isCrlf(bytes: Buffer): boolean {
  let crlf = false;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (i === 0 || bytes[i - 1] !== 0x0d) return false;
    crlf = true;
  }
  return crlf;
}

const toLf = (bytes: Buffer): Buffer => Buffer.from(bytes.toString("latin1").replace(/\r\n/g, "\n"), "latin1");
const toCrlf = (bytes: Buffer): Buffer => Buffer.from(bytes.toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");

/** Everything up to the write: reads the project (and its git history), writes nothing. */
async function prepare(dir: string, sources: Sources, gitFn: GitFn, restoreFlags: readonly string[]): Promise<Prepared> {
  const to = sources.packageJson.version;

  const configBytes = readFile(dir, CONFIG_FILE);
  if (configBytes === undefined) {
    throw new UsageError(
      "upgrade",
      `${dir} has no ${CONFIG_FILE}: run upgrade in the root directory of a project create-immutable-app generated`,
    );
  }
  if (configBytes === "special") throw new UsageError(CONFIG_FILE, "is not a regular file");
  const manifestBytes = readFile(dir, MANIFEST_FILE);
  if (manifestBytes === "special") throw new UsageError(MANIFEST_FILE, "is not a regular file");
  const configText = configBytes.toString("utf8");
  const migration = migrateConfig(configText);
  const configFile = JSON.parse(migration.text.replace(/^\uFEFF/, "")) as Record<string, unknown>;
  let config: ReturnType<typeof resolveConfig>;
  try {
    config = resolveConfig(configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The generator's field-by-field messages, against the file the values came from.
    throw new UsageProblems(
      error.problems.map((p) => ({ subject: CONFIG_FILE, message: `${p.field}: ${p.message}` })),
      `${CONFIG_FILE} is not valid for create-immutable-app ${to}; nothing was written`,
    );
  }

  const old = oldVersion(dir, manifestBytes?.toString("utf8"), config.appName);
  if (compareVersions(old.version, to) > 0) {
    throw new UsageError(
      "upgrade",
      `this project was written by create-immutable-app ${old.version}, newer than this ${to}; run npx create-immutable-app@latest upgrade`,
    );
  }
  const model: ProjectModel = {
    targetDir: dir,
    config,
    configFile,
    dockerfile: old.options.dockerfile,
    install: false,
    git: false,
    packageManager: old.options.packageManager,
  };
  const rendered = renderProject(model, sources);
  const theirs: FileMap = new Map([...rendered].filter(([path]) => isOwned(path)));

  // An interrupted run of this upgrade: what it wrote (bytes that match its journal) is done, not redone.
  const journalBytes = readFile(dir, JOURNAL_FILE);
  if (journalBytes === "special") throw new UsageError(JOURNAL_FILE, "is not a regular file");
  const journal = journalBytes !== undefined ? parseJournal(journalBytes.toString("utf8")) : undefined;
  if (journal && journal.to !== to) {
    throw new UsageError(
      "upgrade",
      `an upgrade to create-immutable-app ${journal.to} did not finish (${JOURNAL_FILE}); finish it first with npx create-immutable-app@${journal.to} upgrade, then run this one (nothing was written)`,
    );
  }
  const resumed = new Map<string, JournalEntry>();

  // Compared and merged with LF line endings; written back in each file's own style (crlf).
  const current = new Map<string, Buffer | "special">();
  const crlf = new Set<string>();
  for (const path of new Set([...theirs.keys(), ...old.previous.keys()])) {
    const c = readFile(dir, path);
    if (c === undefined) continue;
    const entry = journal?.files[path];
    if (entry && c !== "special" && sha256(c) === entry.sha256) resumed.set(path, entry);
    if (c !== "special" && isCrlf(c)) {
      crlf.add(path);
      current.set(path, toLf(c));
    } else current.set(path, c);
  }
  const deleted = new Set(old.manifest?.deleted ?? []);
  for (const path of restoreFlags) {
    if (!theirs.has(path))
      throw new UsageError("--restore", `${path} is not a file create-immutable-app ${to} writes (nothing was written)`);
    if (current.has(path)) throw new UsageError("--restore", `${path} exists; there is nothing to restore (nothing was written)`);
  }
  if (!old.manifest) {
    // Without a manifest only a 0.1.0 project is known: by its $schema, or by a file as only 0.1.0 wrote it.
    const only010 = [...old.previous].filter(([path, hash]) => hash !== undefined && sha256(theirs.get(path)?.contents ?? "") !== hash);
    const recognized =
      (JSON.parse(configText.replace(/^\uFEFF/, "")) as { $schema?: unknown }).$schema === RELEASE_0_1_0.schemaRef ||
      only010.some(([path, hash]) => {
        const c = current.get(path);
        return c instanceof Buffer && sha256(c) === hash;
      });
    if (!recognized) {
      throw new UsageError(
        MANIFEST_FILE,
        `is missing, and this is not a project create-immutable-app ${old.version} generated (the last version without one): restore ${MANIFEST_FILE} from git, then run upgrade again`,
      );
    }
  }
  const labels = conflictLabels(old.version, to);
  const unresolved = [...current]
    .filter(([p, c]) => c !== "special" && !resumed.has(p) && hasConflictMarkers(c.toString("latin1"), labels))
    .map(([p]) => p);
  if (unresolved.length > 0 && compareVersions(old.version, to) === 0) {
    // This upgrade is done (its manifest is in place; perhaps its report was never seen): say what is left.
    for (const path of unresolved) {
      resumed.set(path, {
        sha256: "",
        action: "conflict",
        conflicts: 1,
        markers: true,
        note: `the upgrade to ${to} is written; the conflict markers it left are not resolved yet`,
      });
    }
  } else if (unresolved.length > 0) {
    throw new UsageError(
      "upgrade",
      `conflicts of an earlier upgrade are not resolved yet (nothing was written):\n${unresolved.map((p) => `    ${p}`).join("\n")}\n  Resolve the <<<<<<< ours ... >>>>>>> theirs blocks (or restore the files from git), then run upgrade again.`,
    );
  }

  // Git is asked only about files the team changed (or may have: no recorded hash) and this version
  // writes differently; HEAD's version of each decides whether a merge keeps a backup.
  const wanted = new Map<string, string | undefined>();
  for (const [path, c] of current) {
    if (c === "special" || resumed.has(path)) continue;
    const t = theirs.get(path);
    const hash = old.previous.get(path);
    const tBytes = t ? (typeof t.contents === "string" ? Buffer.from(t.contents, "utf8") : t.contents) : undefined;
    if (tBytes?.equals(c) || (hash !== undefined && sha256(c) === hash)) continue;
    if (tBytes ? hash !== undefined && sha256(tBytes) === hash : hash !== undefined) continue;
    wanted.set(path, hash);
  }
  const git = await gitBases(dir, gitFn, wanted, old.manifest !== undefined);
  const planned = planUpgrade({
    from: old.version,
    to,
    theirs,
    previous: old.previous,
    current,
    bases: git.bases,
    recoverable: (path) => {
      const c = current.get(path);
      return c !== undefined && c !== "special" && git.head.get(path)?.equals(c) === true;
    },
    deleted,
    restore: new Set(restoreFlags),
    resumed,
  }).map((p) =>
    p.file && crlf.has(p.path)
      ? {
          ...p,
          file: { ...p.file, contents: toCrlf(Buffer.from(p.file.contents)) },
          note: `${p.note}${p.note ? "; " : ""}CRLF line endings kept`,
        }
      : p,
  );
  if (migration.changes.length > 0) {
    planned.push({
      path: CONFIG_FILE,
      action: "migrate",
      file: { contents: migration.text },
      note: `${migration.changes.join("; ")}; every other byte kept`,
    });
  }
  for (const note of migration.byHand) planned.push({ path: CONFIG_FILE, action: "conflict", conflicts: 1, markers: false, note });

  // The new record: this version's hashes, and what older versions wrote that is still in place.
  const obsolete: Record<string, string> = {};
  for (const p of planned) {
    const hash = old.previous.get(p.path) ?? (git.bases.has(p.path) ? sha256(git.bases.get(p.path)!.contents) : undefined);
    if (p.action === "keep" && !theirs.has(p.path) && hash !== undefined) obsolete[p.path] = hash;
  }
  const stillDeleted = planned.filter((p) => p.deleted).map((p) => p.path);
  const manifestText = json(buildManifest(rendered, to, old.options, obsolete, stillDeleted));
  const writes = new Map<string, GeneratedFile>();
  for (const p of [...planned].sort((a, b) => (a.path < b.path ? -1 : 1))) if (p.file) writes.set(p.path, p.file);
  if (manifestBytes?.toString("utf8") !== manifestText) writes.set(MANIFEST_FILE, { contents: manifestText });
  const entries: Record<string, JournalEntry> = {};
  for (const p of planned) {
    const f = writes.get(p.path);
    if (!f || p.path === MANIFEST_FILE) continue;
    entries[p.path] = { sha256: sha256(f.contents), action: p.action, note: p.note, conflicts: p.conflicts, markers: p.markers };
  }
  // What an earlier interrupted run wrote stays recorded: a second interruption must not forget it
  // (its conflicts would then look like an earlier upgrade's, unresolved).
  for (const [path, entry] of resumed) if (!(path in entries)) entries[path] = entry;
  return {
    journal: json(buildJournal(journal?.from ?? old.version, to, entries)),
    resuming: journal !== undefined,
    from: journal?.from ?? old.version,
    to,
    options: old.options,
    planned,
    writes,
    moveAside: new Map(planned.filter((p) => p.action === "move-aside").map((p) => [p.path, p.to!])),
    backups: new Set(planned.filter((p) => p.backup).map((p) => p.path)),
    noBase: wanted.size > 0 ? git.none : undefined,
  };
}

/** The subcommand; argv is what follows `upgrade`. Returns the exit code; errors go to cli.ts's run. */
export async function upgrade(argv: readonly string[], deps: CliDeps): Promise<number> {
  const flags = parseUpgradeArgs(argv);
  const sources = deps.sources ?? readSources();
  const out = (text: string): void => deps.stdout.write(text);
  if (flags.help) {
    out(sources.help.usage);
    return 0;
  }
  const colour = palette(colourEnabled(deps.env ?? {}, deps.stdout.isTTY));
  const dir = deps.cwd;
  const prepared = await prepare(dir, sources, deps.git ?? defaultGit, flags.restore);
  const { from, to, options, planned, writes, moveAside, backups, noBase, resuming } = prepared;
  const conflicts = planned.filter((p) => p.action === "conflict");
  const code = conflicts.length > 0 ? EXIT_CONFLICTS : 0;

  const upToDate = planned.filter((p) => p.action === "up-to-date").length;
  const head = from === to ? `create-immutable-app ${to}` : `create-immutable-app ${from} -> ${to}`;
  const baseLine =
    noBase !== undefined
      ? `No base for the files you changed (${noBase}): where both sides changed a file, every differing hunk is marked.\n`
      : "";
  const resumeLine = resuming ? `Finishing an upgrade that was interrupted (${JOURNAL_FILE}): what it wrote is kept as it is.\n` : "";
  if (writes.size === 0 && moveAside.size === 0) {
    // An interrupted run that had written everything but had not removed its journal.
    if (resuming && !flags.dryRun) unlinkSync(join(dir, JOURNAL_FILE));
    const yours = planned.filter((p) => p.action === "keep" && p.note === KEPT_CHANGES).length;
    out(
      `${head}: ${code === 0 ? "already up to date" : "nothing to write"} (${upToDate + yours} files checked${yours > 0 ? `; your changes in ${yours} of them kept` : ""}).\n`,
    );
    const shown = planned.filter((p) => (p.action === "keep" || p.action === "conflict") && !p.silent);
    if (shown.length > 0) out(listing(shown));
    if (code !== 0) out(conflictReport(conflicts, colour));
    return code;
  }
  const plan = `${resumeLine}${baseLine}${listing(planned)}  ${upToDate} file${upToDate === 1 ? "" : "s"} already up to date.\n`;
  if (flags.dryRun) {
    out(`Dry run (${head}): nothing is written. The plan:\n${plan}`);
    out(jestNote(jestStyleTests(dir, writes)));
    if (conflicts.length > 0)
      out(`${conflicts.length} file${conflicts.length === 1 ? "" : "s"} would have conflicts to resolve (exit ${EXIT_CONFLICTS}).\n`);
    return code;
  }
  out(`Upgrading (${head}):\n${plan}`);
  if (deps.stdinIsTTY && deps.stdout.isTTY === true && !flags.yes) {
    if (!deps.loadPrompter) throw new GeneratorError("internal", "no prompter available for an interactive run");
    const prompter = await deps.loadPrompter();
    if (!(await prompter.confirm({ message: "Apply the upgrade?", default: true }))) {
      deps.stderr.write("Nothing was written.\n");
      return EXIT_CANCELLED;
    }
  }
  // As in the generator: a signal waits for the synchronous write to finish, then is reported (exit 130).
  let signalled: string | undefined;
  const release = deps.deferSignals?.((signal) => {
    signalled ??= signal;
  });
  let written: ReturnType<typeof writeFiles>;
  try {
    written = writeFiles(dir, writes, {
      force: true,
      onStep: deps.onStep,
      backup: (path) => backups.has(path),
      moveAside,
      journal: { path: JOURNAL_FILE, contents: prepared.journal },
    });
    if (release) await settleSignals();
  } finally {
    release?.();
  }
  if (signalled) deps.stderr.write(`\n${signalled} arrived during the write; the upgrade was written completely first.\n`);
  for (const [path, backup] of written.backups) out(`Your version of ${path} is kept as ${backup} (it is not in git HEAD).\n`);
  for (const [path, note] of written.modes) out(`${path}: ${note}.\n`);
  const pm = options.packageManager;
  const steps = [
    ...(writes.has("package.json") ? [`${installCommand(pm)}   # package.json changed`] : []),
    `${runScript(pm, "test")}`,
    "git diff   # review, then commit",
  ];
  if (conflicts.length > 0) {
    out(`${conflictReport(conflicts, colour)}Then:\n`);
  } else {
    out(`\nUpgraded to create-immutable-app ${to}. Next:\n`);
  }
  out(steps.map((s) => `  ${s}\n`).join(""));
  out(jestNote(jestStyleTests(dir, writes)));
  return signalled ? EXIT_CANCELLED : code;
}
