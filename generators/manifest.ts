/**
 * `.create-immutable-app.json`: what the generator wrote, committed with the project. For every file
 * the generator owns, the sha256 of the bytes it wrote; `upgrade` compares each file with it: equal
 * means the team never touched the file (it is replaced), different means the team changed it (it is
 * merged). Hashes only: the base contents come from the project's git history (see upgrade.ts).
 *
 * Owned = every file the generator writes except immutable.config.json, which is the input: upgrade
 * renders the new version *from* it, so it is never replaced or merged, only migrated field by field.
 */
import { createHash } from "node:crypto";
import { CONFIG_FILE } from "../managed/config";
import { UsageError } from "./errors";
import { PACKAGE_MANAGERS, type PackageManager } from "./package-manager";
import type { GeneratedFile } from "./render";

export const MANIFEST_FILE = ".create-immutable-app.json";

const GENERATOR = "create-immutable-app";

/** The answers that shape the files without being in immutable.config.json; upgrade renders with them again. */
export interface ManifestOptions {
  readonly dockerfile: boolean;
  readonly packageManager: PackageManager;
}

export interface Manifest {
  readonly generator: typeof GENERATOR;
  /** The version of create-immutable-app that wrote (or last upgraded) the project. */
  readonly version: string;
  readonly options: ManifestOptions;
  /** Owned path -> sha256 (hex) of what that version wrote. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * Files an earlier version wrote that this one no longer writes; upgrade left them in place.
   * Path -> sha256 of what was written, so that a later upgrade can still tell they are untouched.
   * @default {}
   */
  readonly obsolete?: Readonly<Record<string, string>>;
  /**
   * Files this version writes that the team deleted: upgrade leaves them deleted (and says so once),
   * until `upgrade --restore <path>` brings one back.
   * @default []
   */
  readonly deleted?: readonly string[];
}

/**
 * Written into the project while an upgrade moves its files into place, removed when it is done: what
 * that run was writing, so that a run after a kill or a failure finishes it instead of asking anything twice.
 */
export const JOURNAL_FILE = ".create-immutable-app.unfinished.json";

export interface JournalEntry {
  /** sha256 of the bytes written at this path. */
  readonly sha256: string;
  readonly action: string;
  readonly note: string;
  readonly conflicts?: number;
  readonly markers?: boolean;
}

export interface Journal {
  readonly generator: typeof GENERATOR;
  readonly from: string;
  readonly to: string;
  readonly files: Readonly<Record<string, JournalEntry>>;
}

export function buildJournal(from: string, to: string, files: Readonly<Record<string, JournalEntry>>): Journal {
  return { generator: GENERATOR, from, to, files };
}

/** Reads a journal; a malformed one is a usage error that says what to do. */
export function parseJournal(text: string): Journal {
  const bad = (): never => {
    throw new UsageError(
      JOURNAL_FILE,
      "is damaged: it records an upgrade that did not finish; restore the project from git (git status shows what that run changed), delete the file, then run upgrade again",
    );
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad();
  }
  const v = value as Partial<Journal> | null;
  if (
    typeof v !== "object" ||
    v === null ||
    v.generator !== GENERATOR ||
    typeof v.from !== "string" ||
    typeof v.to !== "string" ||
    typeof v.files !== "object" ||
    v.files === null ||
    Object.values(v.files).some((e) => typeof e?.sha256 !== "string" || typeof e.action !== "string" || typeof e.note !== "string")
  ) {
    return bad();
  }
  return v as Journal;
}

/** Whether `upgrade` replaces or merges this generated file. */
export function isOwned(path: string): boolean {
  return path !== CONFIG_FILE && path !== MANIFEST_FILE && path !== JOURNAL_FILE;
}

export function sha256(contents: string | Buffer): string {
  return createHash("sha256").update(contents).digest("hex");
}

/** The manifest of a file map (render's output): every owned file, sorted by path. */
export function buildManifest(
  files: ReadonlyMap<string, GeneratedFile>,
  version: string,
  options: ManifestOptions,
  obsolete: Readonly<Record<string, string>> = {},
  deleted: readonly string[] = [],
): Manifest {
  const hashes: Record<string, string> = {};
  for (const path of [...files.keys()].sort())
    if (isOwned(path) && !deleted.includes(path)) hashes[path] = sha256(files.get(path)!.contents);
  return {
    generator: GENERATOR,
    version,
    options: { dockerfile: options.dockerfile, packageManager: options.packageManager },
    files: hashes,
    ...(Object.keys(obsolete).length > 0
      ? { obsolete: Object.fromEntries(Object.entries(obsolete).sort(([a], [b]) => (a < b ? -1 : 1))) }
      : {}),
    ...(deleted.length > 0 ? { deleted: [...deleted].sort() } : {}),
  };
}

/** Reads a manifest; anything malformed is a usage error that names the file and the field. */
export function parseManifest(text: string): Manifest {
  const bad = (message: string): never => {
    throw new UsageError(MANIFEST_FILE, `${message}; restore it from git (it is written by create-immutable-app, not by hand)`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return bad(`is not valid JSON (${(error as Error).message})`);
  }
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isRecord(value)) return bad("must hold a JSON object");
  if (value.generator !== GENERATOR) bad(`generator: must be "${GENERATOR}"`);
  if (typeof value.version !== "string" || parseVersion(value.version) === undefined) bad("version: must be a version like 0.2.0");
  const options = value.options;
  if (
    !isRecord(options) ||
    typeof options.dockerfile !== "boolean" ||
    !(PACKAGE_MANAGERS as readonly unknown[]).includes(options.packageManager)
  ) {
    bad(`options: must be { "dockerfile": true|false, "packageManager": ${PACKAGE_MANAGERS.map((p) => `"${p}"`).join("|")} }`);
  }
  const hashes = (field: "files" | "obsolete"): Record<string, string> => {
    const v = value[field] ?? {};
    if (!isRecord(v)) return bad(`${field}: must map paths to sha256 hashes`);
    for (const [path, hash] of Object.entries(v)) {
      if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash))
        bad(`${field}[${JSON.stringify(path)}]: must be a sha256 hash (64 hex digits)`);
    }
    return v as Record<string, string>;
  };
  const deleted = value.deleted ?? [];
  if (!Array.isArray(deleted) || deleted.some((p) => typeof p !== "string")) bad("deleted: must list paths");
  return {
    generator: GENERATOR,
    version: value.version as string,
    options: options as unknown as ManifestOptions,
    files: hashes("files"),
    obsolete: hashes("obsolete"),
    deleted: deleted as string[],
  };
}

/** [major, minor, patch] of `1.2.3` (a pre-release suffix is ignored), or undefined. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** <0, 0 or >0 as a is older than, the same as or newer than b. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a) ?? [0, 0, 0];
  const y = parseVersion(b) ?? [0, 0, 0];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}
