/**
 * file map -> disk, the only step that writes. Everything goes into a temporary directory on the
 * target's own device first and is then moved into place:
 * - a new target (or an existing empty one whose parent is writable and on the same device) is one
 *   rename of the whole directory, the temp directory beside it: an interrupted run leaves either nothing
 *   or the complete project (plus, after a SIGKILL, our own temp directory, which the next run removes);
 * - a target that is a mount point (a container's bind mount) or whose parent may not be written: the
 *   temp directory is made inside the target (`.create-immutable-app-tmp-<pid>-XXXXXX`), so that every
 *   move is a rename on one device (a rename across devices fails with EXDEV);
 * - with --force into a non-empty target, files are moved one by one (each rename replaces one file
 *   atomically); files that are not in the map are never touched, and every replaced file is reported.
 *   A replaced file whose contents differ is first copied to `<file>.orig` (`.orig.1`, `.orig.2`, ...
 *   when that exists: an earlier backup is never overwritten).
 * A target that is a symlink, or any path that would pass through a symlink or leave the target, is
 * refused before anything is written; so is a directory that may not be written (checked with access(2)
 * after staging, before the first change). Files are moved in the map's order (upgrade moves its
 * manifest last, so that a run killed during the moves still reads as the old version and can be run
 * again; its journal says what that run had written). A file that replaces another keeps that file's
 * mode (read-only stays read-only), made executable when the new version runs it; each such mode is
 * reported. A failure after the first change names exactly what was written (PartialWriteError).
 */
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, posix } from "node:path";
import { GeneratorError, PartialWriteError, UsageError } from "./errors";
import type { FileMap } from "./render";

export interface WriteOptions {
  /** Write beside existing files (never deleting one) and replace the ones the map contains. */
  readonly force: boolean;
  /** Called at named steps ("temp-created", "file-written:<n>", "files-written", "moved", ...). */
  readonly onStep?: (step: string) => void;
  /**
   * Which replaced files keep their old contents as `<file>.orig` (only files whose contents change).
   * @default every one
   */
  readonly backup?: (path: string) => boolean;
  /**
   * Existing files to rename (old path -> new path) before the files are moved: a rename, never a
   * deletion, and never onto an existing path. Upgrade moves obsolete files aside with it.
   * @default none
   */
  readonly moveAside?: ReadonlyMap<string, string>;
  /**
   * A file written into the target (atomically) after staging and before the first change, and removed
   * once every file is in place: upgrade's record of what an unfinished write was writing.
   * @default none
   */
  readonly journal?: { readonly path: string; readonly contents: string };
}

export interface WritePlan {
  readonly targetDir: string;
  /** "new": the target does not exist; "empty": it exists with nothing that matters in it; "merge": --force. */
  readonly mode: "new" | "empty" | "merge";
  /** Existing files the map replaces (only in "merge" mode). */
  readonly replaced: readonly string[];
  /** Replaced file -> where its old contents are kept; only files whose contents change. */
  readonly backups: ReadonlyMap<string, string>;
}

export interface WriteResult extends WritePlan {
  readonly written: readonly string[];
  /** Replaced files whose mode is not what a new project gets: path -> what happened to it. */
  readonly modes: ReadonlyMap<string, string>;
}

/** Entries an otherwise empty directory may hold (what `git init` or a file browser leaves). */
const IGNORABLE = new Set([".git", ".DS_Store", "Thumbs.db"]);

/** Marks our temporary directories: `.<target>.create-immutable-app-<pid>-XXXXXX` beside the target. */
const TEMP_MARK = ".create-immutable-app-";

/** Our temporary directory inside the target: `.create-immutable-app-tmp-<pid>-XXXXXX` (never project content). */
const INNER_TEMP = ".create-immutable-app-tmp-";

/** A relative, `/`-separated path that stays inside the target; throws otherwise. */
export function checkRelativePath(path: string): void {
  const bad = (why: string): never => {
    throw new GeneratorError("internal", `refusing to write ${JSON.stringify(path)}: ${why}`);
  };
  if (path === "" || path.includes("\0") || /[\u0000-\u001f\u007f]/.test(path)) bad("empty or control characters");
  if (path.includes("\\")) bad("backslash");
  if (posix.isAbsolute(path) || /^[A-Za-z]:/.test(path)) bad("absolute path");
  if (path.split("/").some((s) => s === "" || s === "." || s === "..")) bad("would resolve outside the target");
  if (posix.normalize(path) !== path) bad("not normalized");
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    // ENOTDIR: a segment of the path is a file; the path cannot exist (the caller reports that segment).
    if (["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw error;
  }
}

type TargetState = { readonly mode: "new" | "empty" } | { readonly mode: "non-empty"; readonly entries: readonly string[] };

/** The target itself: refuses a symlink, a non-directory, a read-only directory or parent. Reads only. */
function inspectTarget(targetDir: string): TargetState {
  const target = lstatOrUndefined(targetDir);
  if (target === undefined) {
    const parent = nearestExisting(dirname(targetDir));
    // A parent may be a symlink to a directory (/tmp on macOS): follow it for this check.
    const followed = parent.stat.isSymbolicLink() ? statOrUndefined(parent.path) : parent.stat;
    if (followed !== undefined && !followed.isDirectory()) {
      throw new UsageError("[dir]", `cannot create ${targetDir}: ${parent.path} is a file, not a directory`);
    }
    if (parent.stat.isDirectory() && (parent.stat.mode & 0o222) === 0) {
      throw new GeneratorError("external", `cannot create ${targetDir}: ${parent.path} is read-only`);
    }
    return { mode: "new" };
  }
  if (target.isSymbolicLink()) {
    throw new UsageError("[dir]", `${targetDir} is a symbolic link; give the real directory (nothing was written)`);
  }
  if (!target.isDirectory()) throw new UsageError("[dir]", `${targetDir} exists and is not a directory`);
  if ((target.mode & 0o222) === 0) {
    throw new GeneratorError("external", `${targetDir} is read-only (mode ${(target.mode & 0o777).toString(8)}); nothing was written`);
  }
  const entries = readdirSync(targetDir)
    .filter((name) => !IGNORABLE.has(name) && !name.startsWith(INNER_TEMP))
    .sort();
  return entries.length === 0 ? { mode: "empty" } : { mode: "non-empty", entries };
}

/**
 * The rules of planWrite that need no file map, for the CLI to apply before the first question:
 * the target must be new or empty (or --force), a real directory, writable. Reads the disk, writes nothing.
 */
export function checkTarget(targetDir: string, force: boolean): void {
  const state = inspectTarget(targetDir);
  if (state.mode === "non-empty" && !force) throw notEmpty(targetDir, state.entries, []);
}

function notEmpty(targetDir: string, others: readonly string[], replaced: readonly string[]): UsageError {
  // A home directory can hold hundreds of entries: name a few, count the rest.
  const shown = others.length > 12 ? [...others.slice(0, 12), `and ${others.length - 12} more`] : others;
  return new UsageError(
    "[dir]",
    [
      `${targetDir} is not empty; nothing was written.`,
      ...(replaced.length > 0 ? [`  ${replaced.length} file(s) would be replaced:`, ...replaced.map((p) => `    ${p}`)] : []),
      ...(others.length > 0 ? [`  it ${replaced.length > 0 ? "also " : ""}contains: ${shown.join(", ")}`] : []),
      "  Choose a new or empty directory, or pass --force to write beside these files (nothing is deleted; replaced files are listed).",
    ].join("\n"),
  );
}

/** Checks the target against the map; reads the disk, writes nothing. Throws a usage error on conflicts. */
export function planWrite(
  targetDir: string,
  files: FileMap,
  force: boolean,
  backup: (path: string) => boolean = () => true,
  moveAside: ReadonlyMap<string, string> = new Map(),
): WritePlan {
  for (const path of files.keys()) checkRelativePath(path);
  const state = inspectTarget(targetDir);
  if (state.mode !== "non-empty") return { targetDir, mode: state.mode, replaced: [], backups: new Map() };
  const { entries } = state;

  const replaced: string[] = [];
  // One line per offending path, however many files of the map lie below it.
  const problems = new Set<string>();
  for (const path of files.keys()) {
    const segments = path.split("/");
    let current = targetDir;
    for (let i = 0; i < segments.length; i++) {
      current = join(current, segments[i]);
      const stat = lstatOrUndefined(current);
      if (stat === undefined) break;
      const shown = segments.slice(0, i + 1).join("/");
      if (stat.isSymbolicLink()) {
        problems.add(`${shown} is a symbolic link (writing through it could leave the target)`);
        break;
      }
      const last = i === segments.length - 1;
      if (!last && !stat.isDirectory()) {
        problems.add(`${shown} is a file where the project needs a directory`);
        break;
      }
      if (last) {
        if (stat.isFile()) replaced.push(path);
        else problems.add(`${shown} exists and is not a regular file`);
      }
    }
  }
  for (const [from, to] of moveAside) {
    checkRelativePath(from);
    checkRelativePath(to);
    const [source, destination] = [lstatOrUndefined(join(targetDir, from)), lstatOrUndefined(join(targetDir, to))];
    if (!source?.isFile() || symlinkOnTheWay(targetDir, from)) problems.add(`${from} is not a regular file to move aside`);
    // The same bytes at both names: a move aside that a killed run linked but did not unlink; it is finished.
    const interrupted = destination?.isFile() && source?.isFile() && sameBytes(join(targetDir, to), join(targetDir, from));
    if ((destination !== undefined && !interrupted) || files.has(to) || symlinkOnTheWay(targetDir, to))
      problems.add(`${to} exists; ${from} cannot be moved there`);
  }
  if (problems.size > 0) {
    throw new UsageError(
      "[dir]",
      `cannot write into ${targetDir} (nothing was written):\n${[...problems].map((p) => `    ${p}`).join("\n")}`,
    );
  }
  if (!force) {
    throw notEmpty(
      targetDir,
      entries.filter((name) => !replaced.some((p) => p === name || p.startsWith(`${name}/`))),
      replaced,
    );
  }
  return { targetDir, mode: "merge", replaced, backups: planBackups(targetDir, files, replaced.filter(backup)) };
}

/** A directory on the way to `path` (inside the target) is a symbolic link or not a directory. */
function symlinkOnTheWay(targetDir: string, path: string): boolean {
  const segments = path.split("/");
  let current = targetDir;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    const stat = lstatOrUndefined(current);
    if (stat === undefined) return false;
    if (!stat.isDirectory()) return true;
  }
  return false;
}

/** `<file>.orig`, or the first free `<file>.orig.N`, for each replaced file whose contents change. */
function planBackups(targetDir: string, files: FileMap, replaced: readonly string[]): Map<string, string> {
  const backups = new Map<string, string>();
  const taken = (path: string): boolean =>
    files.has(path) || [...backups.values()].includes(path) || lstatOrUndefined(join(targetDir, path)) !== undefined;
  for (const path of replaced) {
    const contents = files.get(path)!.contents;
    const wanted = typeof contents === "string" ? Buffer.from(contents, "utf8") : contents;
    if (readFileSync(join(targetDir, path)).equals(wanted)) continue;
    let backup = `${path}.orig`;
    for (let n = 1; taken(backup) && !sameBytes(join(targetDir, backup), join(targetDir, path)); n++) backup = `${path}.orig.${n}`;
    backups.set(path, backup);
  }
  return backups;
}

/** Both are regular files with the same bytes (a backup that an interrupted run already made). */
function sameBytes(a: string, b: string): boolean {
  const [x, y] = [lstatOrUndefined(a), lstatOrUndefined(b)];
  return x?.isFile() === true && y?.isFile() === true && x.size === y.size && readFileSync(a).equals(readFileSync(b));
}

function nearestExisting(dir: string): { path: string; stat: Stats } {
  for (let current = dir; ; current = dirname(current)) {
    const stat = lstatOrUndefined(current);
    if (stat) return { path: current, stat };
    if (dirname(current) === current) throw new GeneratorError("external", `no existing parent directory above ${dir}`);
  }
}

/** Removes temp directories that earlier, killed runs left next to the target (only ours, only of dead processes). */
export function sweepStaleTemps(targetDir: string): string[] {
  const removed: string[] = [];
  for (const [dir, prefix] of [
    [dirname(targetDir), `.${basename(targetDir)}${TEMP_MARK}`],
    [targetDir, INNER_TEMP],
  ]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
      if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) continue;
      try {
        rmSync(join(dir, name), { recursive: true, force: true });
        removed.push(join(dir, name));
      } catch {
        // A folder we may no longer write (a parent made read-only since): left, it is never read.
      }
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Writes the map. Synchronous on purpose: a SIGINT or SIGTERM that the caller defers (by listening to
 * it) is handled only after the write has finished, so it cannot cut the project in half.
 */
export function writeFiles(targetDir: string, files: FileMap, options: WriteOptions): WriteResult {
  const step = options.onStep ?? (() => undefined);
  const moveAside = options.moveAside ?? new Map<string, string>();
  const plan = planWrite(targetDir, files, options.force, options.backup, moveAside);
  sweepStaleTemps(targetDir);
  const inside = plan.mode !== "new" && !besideIsUsable(targetDir);
  const parent = inside ? targetDir : dirname(targetDir);
  let temp: string;
  try {
    mkdirSync(parent, { recursive: true });
    temp = mkdtempSync(join(parent, inside ? `${INNER_TEMP}${process.pid}-` : `.${basename(targetDir)}${TEMP_MARK}${process.pid}-`));
  } catch (error) {
    throw externalFs(error, parent);
  }
  step("temp-created");
  // What has changed in the target so far: named exactly if a later step fails.
  const done = { backups: [] as string[], movedAside: [] as string[], moved: [] as string[], journal: false };
  const modes = new Map<string, string>();
  try {
    let n = 0;
    for (const [path, file] of files) {
      const full = join(temp, path);
      mkdirSync(dirname(full), { recursive: true });
      const fd = openSync(full, "wx", file.executable ? 0o755 : 0o644);
      try {
        const data = typeof file.contents === "string" ? Buffer.from(file.contents, "utf8") : file.contents;
        writeSync(fd, data, 0, data.length, 0);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (plan.mode === "merge") {
        const mode = keptMode(join(targetDir, path), file.executable === true);
        if (mode) {
          chmodSync(full, mode.mode);
          if (mode.note) modes.set(path, mode.note);
        }
      }
      step(`file-written:${++n}`);
    }
    step("files-written");
    if (plan.mode === "new" || (plan.mode === "empty" && !inside)) {
      if (tryRenameDir(temp, targetDir, plan.mode)) {
        step("moved");
        return { ...plan, written: [...files.keys()], modes };
      }
    }
    // Every directory a move writes into must take it: refused here, before the first change.
    checkWritable(targetDir, [...files.keys(), ...plan.backups.values(), ...moveAside.keys(), ...moveAside.values()], temp);
    if (options.journal) {
      const staged = join(temp, ".journal");
      writeFileSync(staged, options.journal.contents, { flag: "wx" });
      renameSync(staged, join(targetDir, options.journal.path));
      done.journal = true;
      step("journal-written");
    }
    // Every old content is kept before the first file is replaced; COPYFILE_EXCL never overwrites a backup
    // (one with the same bytes, made by an interrupted run, is kept as it is).
    for (const [path, backup] of plan.backups) {
      if (sameBytes(join(targetDir, backup), join(targetDir, path))) continue;
      copyFileSync(join(targetDir, path), join(targetDir, backup), constants.COPYFILE_EXCL);
      done.backups.push(backup);
    }
    if (plan.backups.size > 0) step("backups-made");
    // link + unlink: the new name never replaces a file, and the contents are never without a name.
    for (const [from, to] of moveAside) {
      mkdirSync(dirname(join(targetDir, to)), { recursive: true });
      if (lstatOrUndefined(join(targetDir, to))?.isFile() && sameBytes(join(targetDir, to), join(targetDir, from))) {
        // Linked by an interrupted run (planWrite checked the bytes): only the unlink is left.
        unlinkSync(join(targetDir, from));
        done.movedAside.push(`${from} -> ${to}`);
        continue;
      }
      try {
        linkSync(join(targetDir, from), join(targetDir, to));
      } catch (error) {
        // File systems without hard links: a copy that refuses to overwrite, then the unlink.
        if ((error as NodeJS.ErrnoException).code === "EEXIST") throw error;
        copyFileSync(join(targetDir, from), join(targetDir, to), constants.COPYFILE_EXCL);
      }
      unlinkSync(join(targetDir, from));
      done.movedAside.push(`${from} -> ${to}`);
    }
    if (moveAside.size > 0) step("moved-aside");
    let m = 0;
    for (const path of files.keys()) {
      const destination = join(targetDir, path);
      mkdirSync(dirname(destination), { recursive: true });
      place(join(temp, path), destination);
      done.moved.push(path);
      step(`file-moved:${++m}`);
    }
    if (options.journal) {
      unlinkSync(join(targetDir, options.journal.path));
      done.journal = false;
    }
    rmSync(temp, { recursive: true, force: true });
    step("moved");
    return { ...plan, written: [...files.keys()], modes };
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    const changed = done.journal || done.backups.length + done.movedAside.length + done.moved.length > 0;
    if (changed) {
      throw new PartialWriteError(targetDir, `cannot write ${targetDir}: ${fsReason(error)}`, {
        moved: done.moved,
        notMoved: [...files.keys()].filter((p) => !done.moved.includes(p)),
        backups: done.backups,
        movedAside: done.movedAside,
        journal: done.journal ? options.journal?.path : undefined,
      });
    }
    if (error instanceof GeneratorError) throw error;
    throw externalFs(error, targetDir);
  }
}

/**
 * Whether the temp directory may go beside the target: its parent is writable and on the target's
 * device. Otherwise (a mount point, a parent owned by someone else) it goes inside the target.
 */
function besideIsUsable(targetDir: string): boolean {
  const [target, parent] = [statOrUndefined(targetDir), statOrUndefined(dirname(targetDir))];
  if (!target || !parent || target.dev !== parent.dev) return false;
  try {
    accessSync(dirname(targetDir), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * access(2) W_OK on the directory each path is written into (its nearest existing one), as the user
 * running: catches a directory owned by another user and a read-only mount (EROFS, root included).
 */
function checkWritable(targetDir: string, paths: readonly string[], temp: string): void {
  const refused = new Map<string, string>();
  const dirs = new Set(paths.map((p) => dirname(join(targetDir, p))));
  for (const dir of dirs) {
    const existing = nearestExisting(dir).path;
    if (refused.has(existing)) continue;
    try {
      accessSync(existing, constants.W_OK);
    } catch (error) {
      refused.set(existing, `${existing}: ${FS_REASONS[(error as NodeJS.ErrnoException).code ?? ""] ?? (error as Error).message}`);
    }
  }
  if (refused.size > 0) {
    rmSync(temp, { recursive: true, force: true });
    throw new GeneratorError(
      "external",
      `cannot write into ${targetDir}; nothing was written:\n${[...refused.values()].map((m) => `    ${m}`).join("\n")}`,
    );
  }
}

/**
 * The mode a file that replaces `existing` gets: the existing file's own (a team's read-only file stays
 * read-only), plus execute where it can be read when the new version runs it. Undefined: no file there.
 */
function keptMode(existing: string, executable: boolean): { mode: number; note?: string } | undefined {
  const stat = lstatOrUndefined(existing);
  if (!stat?.isFile()) return undefined;
  const old = stat.mode & 0o7777;
  const mode = executable && (old & 0o100) === 0 ? old | ((old & 0o444) >> 2) : old;
  const fresh = executable ? 0o755 : 0o644;
  const octal = (m: number): string => m.toString(8).padStart(3, "0");
  if (mode !== old) return { mode, note: `mode ${octal(old)} -> ${octal(mode)}: the new version runs it` };
  if (mode !== fresh) return { mode, note: `mode ${octal(mode)} kept${(mode & 0o222) === 0 ? " (read-only)" : ""}` };
  return { mode };
}

/** rename(2); across devices (a mount inside the target) a copy beside the destination, then a rename. */
function place(source: string, destination: string): void {
  try {
    renameSync(source, destination);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    const beside = join(dirname(destination), `${INNER_TEMP}${process.pid}-${basename(destination)}`);
    copyFileSync(source, beside, constants.COPYFILE_EXCL);
    chmodSync(beside, statSync(source).mode & 0o7777);
    renameSync(beside, destination);
    unlinkSync(source);
  }
}

/** One rename of the whole tree; on Linux and macOS it also replaces an existing empty directory. */
function tryRenameDir(temp: string, targetDir: string, mode: "new" | "empty"): boolean {
  try {
    if (mode === "empty") {
      chmodSync(temp, lstatSync(targetDir).mode & 0o7777);
      // A directory holding only ignorable entries (.git) is not empty for rename(2): move files instead.
      if (readdirSync(targetDir).length > 0) return false;
    } else {
      chmodSync(temp, 0o777 & ~process.umask());
    }
    renameSync(temp, targetDir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (mode === "empty" && ["ENOTEMPTY", "EEXIST", "EBUSY", "EXDEV", "EPERM", "EACCES", "EISDIR"].includes(code ?? "")) return false;
    if (mode === "new" && (code === "ENOTEMPTY" || code === "EEXIST")) {
      throw new UsageError("[dir]", `${targetDir} appeared while the project was being written; nothing was written`);
    }
    throw error;
  }
}

const FS_REASONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
};

/** Why, in words, and where (the path the failing call named). */
function fsReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { dest?: string };
  const why = FS_REASONS[e.code ?? ""];
  if (!why) return e.message;
  const where = e.dest ?? e.path;
  return where ? `${why} (${where})` : why;
}

function externalFs(error: unknown, path: string, tail = "; nothing was written"): GeneratorError {
  if (error instanceof GeneratorError) return error;
  const e = error as NodeJS.ErrnoException;
  return new GeneratorError("external", `cannot write ${path}: ${FS_REASONS[e.code ?? ""] ?? e.message}${tail}`);
}
