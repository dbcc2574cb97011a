/**
 * Writes exported folders safely: every folder is checked before any file is written, a file is only
 * overwritten when the manifest proves the export wrote it and nobody changed it since, and each file
 * is written to a temporary name, given its mode (0644, or 0755 for the rollout command) and renamed
 * into place.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ExportedFile, type FileMap, json } from "./layout";

export const MANIFEST_FILE = ".export-manifest.json";

export interface FolderOutput {
  /** The folder, e.g. `<cwd>/terraform/production`. */
  readonly dir: string;
  readonly files: FileMap;
}

export interface Conflict {
  readonly path: string;
  readonly reason: string;
}

export interface FolderPlan {
  readonly dir: string;
  /** Files whose contents or mode change, or that are new. */
  readonly writes: ReadonlyArray<{ readonly name: string; readonly file: ExportedFile }>;
  readonly unchanged: readonly string[];
  /** Files an earlier export wrote, unchanged since, that this export no longer writes (e.g. main.tf.json after --hcl). */
  readonly removals: readonly string[];
  /** The new manifest, or undefined when the current one is already right. */
  readonly manifest?: string;
}

export interface Manifest {
  readonly files: Readonly<Record<string, string>>;
}

export function sha256(contents: string | Buffer): string {
  return createHash("sha256").update(contents).digest("hex");
}

export function renderManifest(files: FileMap): string {
  const hashes: Record<string, string> = {};
  for (const name of [...files.keys()].sort()) hashes[name] = sha256(files.get(name)!.contents);
  return json({
    about:
      "Written by `npm run export` (create-immutable-app): the files it wrote and their sha256. " +
      "It refuses to overwrite a file that is not listed here or whose checksum differs.",
    files: hashes,
  });
}

type Entry = { kind: "missing" } | { kind: "file"; contents: Buffer; mode: number } | { kind: "other"; what: string };

/** The permission bits an exported file is written with. */
export function fileMode(file: ExportedFile): number {
  return file.executable ? 0o755 : 0o644;
}

function inspect(path: string): Entry {
  try {
    const stat = lstatSync(path);
    if (stat.isFile()) return { kind: "file", contents: readFileSync(path), mode: stat.mode & 0o777 };
    return { kind: "other", what: stat.isDirectory() ? "a directory" : stat.isSymbolicLink() ? "a symbolic link" : "not a regular file" };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw error;
  }
}

function readManifest(dir: string, conflicts: Conflict[]): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  const entry = inspect(path);
  if (entry.kind === "missing") return undefined;
  if (entry.kind === "other") {
    conflicts.push({ path, reason: `is ${entry.what}` });
    return undefined;
  }
  try {
    const parsed = JSON.parse(entry.contents.toString("utf8")) as Manifest;
    if (typeof parsed?.files !== "object" || parsed.files === null) throw new Error("no files");
    return parsed;
  } catch {
    conflicts.push({ path, reason: "is not a manifest the export can read (move it away to export again)" });
    return undefined;
  }
}

/** Decides what to write in one folder, or why not. Reads only. */
export function planFolder(output: FolderOutput, conflicts: Conflict[]): FolderPlan {
  const { dir, files } = output;
  const folder = inspect(dir);
  if (folder.kind === "file" || (folder.kind === "other" && folder.what !== "a directory")) {
    conflicts.push({ path: dir, reason: "exists and is not a directory" });
    return { dir, writes: [], unchanged: [], removals: [] };
  }
  const old = folder.kind === "missing" ? undefined : readManifest(dir, conflicts);
  const known = old?.files ?? {};
  const writes: Array<{ name: string; file: ExportedFile }> = [];
  const unchanged: string[] = [];
  for (const [name, file] of files) {
    const path = join(dir, name);
    const entry = folder.kind === "missing" ? ({ kind: "missing" } as const) : inspect(path);
    if (entry.kind === "missing") writes.push({ name, file });
    else if (entry.kind === "other") conflicts.push({ path, reason: `is ${entry.what}, not a file the export wrote` });
    else if (entry.contents.equals(Buffer.from(file.contents, "utf8"))) {
      // The same bytes are the export's own, whoever wrote them: a lost executable bit is restored.
      if (file.executable && (entry.mode & 0o100) === 0) writes.push({ name, file });
      else unchanged.push(name);
    } else if (!(name in known)) conflicts.push({ path, reason: "was not written by the export" });
    else if (known[name] !== sha256(entry.contents)) conflicts.push({ path, reason: "was edited since the last export" });
    else writes.push({ name, file });
  }
  const removals: string[] = [];
  for (const name of Object.keys(known).sort()) {
    if (files.has(name) || name === MANIFEST_FILE || name.includes("/") || name.includes("\\")) continue;
    const path = join(dir, name);
    const entry = inspect(path);
    if (entry.kind === "missing") continue;
    if (entry.kind === "file" && sha256(entry.contents) === known[name]) removals.push(name);
    else conflicts.push({ path, reason: "was written by an earlier export, is no longer exported, and was edited since (move it away)" });
  }
  const manifest = renderManifest(files);
  const current = inspect(join(dir, MANIFEST_FILE));
  const manifestUnchanged = current.kind === "file" && current.contents.equals(Buffer.from(manifest, "utf8"));
  return { dir, writes, unchanged, removals, manifest: manifestUnchanged ? undefined : manifest };
}

/** Plans every folder; the caller writes only when there is no conflict anywhere. */
export function planFolders(outputs: readonly FolderOutput[]): { plans: FolderPlan[]; conflicts: Conflict[] } {
  const conflicts: Conflict[] = [];
  const plans = outputs.map((o) => planFolder(o, conflicts));
  return { plans, conflicts };
}

/**
 * Writes `contents` to a temporary file next to `path`, sets its mode (exactly: chmod, not subject to
 * the umask) and renames it into place.
 */
export function writeAtomic(path: string, contents: string, mode = 0o644): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(temp, contents, { flag: "wx", mode: 0o600 });
    chmodSync(temp, mode);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export function applyPlan(plan: FolderPlan): void {
  mkdirSync(plan.dir, { recursive: true });
  for (const { name, file } of plan.writes) writeAtomic(join(plan.dir, name), file.contents, fileMode(file));
  for (const name of plan.removals) unlinkSync(join(plan.dir, name));
  // Last: after an interruption, re-running the export on the same input finds its files identical.
  if (plan.manifest !== undefined) writeAtomic(join(plan.dir, MANIFEST_FILE), plan.manifest);
}
