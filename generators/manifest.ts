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
}

/** Whether `upgrade` replaces or merges this generated file. */
export function isOwned(path: string): boolean {
  return path !== CONFIG_FILE && path !== MANIFEST_FILE;
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
): Manifest {
  const hashes: Record<string, string> = {};
  for (const path of [...files.keys()].sort()) if (isOwned(path)) hashes[path] = sha256(files.get(path)!.contents);
  return {
    generator: GENERATOR,
    version,
    options: { dockerfile: options.dockerfile, packageManager: options.packageManager },
    files: hashes,
    ...(Object.keys(obsolete).length > 0
      ? { obsolete: Object.fromEntries(Object.entries(obsolete).sort(([a], [b]) => (a < b ? -1 : 1))) }
      : {}),
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
  return {
    generator: GENERATOR,
    version: value.version as string,
    options: options as unknown as ManifestOptions,
    files: hashes("files"),
    obsolete: hashes("obsolete"),
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
