/**
 * The install footprint: what `npm install` puts on disk for the generated project and for a project
 * set up the way `cdktf init --template=typescript` plus `cdktf provider add aws` sets one up.
 *
 * The baseline's package.json is bench/fixtures/install-baseline/package.json, from hashicorp/terraform-cdk
 * at tag v0.21.0 (read for this bench; the template is unchanged on main since):
 * - packages/@cdktf/cli-core/templates/typescript/package.json: name, version, main, types, license,
 *   private, the scripts (get, build, synth, compile, watch, test, test:watch, upgrade, upgrade:next) and
 *   engines `node >=20.9`; no dependencies, the hook installs them:
 * - packages/@cdktf/cli-core/templates/typescript/.hooks.sscaff.js, `post`:
 *   `npm install cdktf@<cli version> constructs@10`, then
 *   `npm install -D @types/node typescript jest @types/jest ts-jest ts-node` (latest of each);
 * - packages/@cdktf/cli-core/src/lib/dependencies/package-manager.ts, `NodePackageManager.addPackage`
 *   (what `cdktf provider add aws` runs for a prebuilt provider): `npm install @cdktf/provider-aws@<v> -E`,
 *   an exact version.
 * Where the template says "latest" the fixture pins what latest gives with the same major the generated
 * project uses (cdktf 0.21.0, constructs ^10.4.2, @types/node ^20.19.0, typescript ~5.9.3: TypeScript 7
 * breaks ts-node) and what the template's test setup works with (jest ^29.7.0, @types/jest ^29.5.14,
 * ts-jest ^29.4.0, ts-node 10.9.2 as the synth baseline). cdktf-cli 0.21.0 is a dev dependency: the
 * template's scripts run `cdktf`, which the cdktf docs install globally; in the project it is counted the
 * same way as ours counts whatever its package.json lists.
 *
 * Everything here is plain file-system reading (no clock, no network), unit-tested on temporary trees.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const INSTALL_BASELINE_FIXTURE = join("bench", "fixtures", "install-baseline", "package.json");

/** `npm install` with a cold cache of its own: every tarball is downloaded, as on a new machine. */
export function installArgs(cache: string): string[] {
  return ["install", "--no-audit", "--no-fund", "--cache", cache];
}

/** What a user reads: the command without the bench's cache directory. */
export const INSTALL_COMMAND = "npm install --no-audit --no-fund --cache <fresh empty dir>";

/**
 * Sum of `st.size` of every regular file and symlink under `dir` (lstat: links are counted as links,
 * never followed); directories themselves count 0. 0 when `dir` does not exist.
 */
export function treeBytes(dir: string): number {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch {
    return 0;
  }
  if (st.isSymbolicLink() || st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  let sum = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) sum += treeBytes(full);
    else if (entry.isFile() || entry.isSymbolicLink()) sum += lstatSync(full).size;
  }
  return sum;
}

/**
 * Installed packages by npm's own count: the keys of `packages` in node_modules/.package-lock.json (the
 * hidden lockfile npm writes), without the root project's "" key should it be there.
 */
export function countPackages(hiddenLockfile: unknown): number {
  const packages = (hiddenLockfile as { packages?: unknown } | null)?.packages;
  if (packages === null || typeof packages !== "object") {
    throw new Error("node_modules/.package-lock.json has no packages object");
  }
  return Object.keys(packages).filter((key) => key !== "").length;
}

/** countPackages of `<nodeModules>/.package-lock.json`. */
export function countInstalledPackages(nodeModules: string): number {
  const file = join(nodeModules, ".package-lock.json");
  if (!existsSync(file)) throw new Error(`${file} is missing: npm did not write its hidden lockfile`);
  return countPackages(JSON.parse(readFileSync(file, "utf8")));
}

export interface PackageSize {
  /** `name` or `@scope/name`, as under node_modules. */
  readonly name: string;
  /** treeBytes of node_modules/<name>, its own nested node_modules included. */
  readonly bytes: number;
}

/**
 * The size of every top-level package directory of `nodeModules` (node_modules/<name> and
 * node_modules/@scope/<name>; .bin and the hidden lockfile are npm's, not packages), largest first,
 * ties by name.
 */
export function packageSizes(nodeModules: string): PackageSize[] {
  if (!existsSync(nodeModules)) return [];
  const out: PackageSize[] = [];
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const full = join(nodeModules, entry.name);
    if (entry.name.startsWith("@") && entry.isDirectory()) {
      for (const scoped of readdirSync(full)) {
        out.push({ name: `${entry.name}/${scoped}`, bytes: treeBytes(join(full, scoped)) });
      }
    } else {
      out.push({ name: entry.name, bytes: treeBytes(full) });
    }
  }
  return out.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/** The dependencies and devDependencies a package.json declares, each group sorted by name. */
export function declaredDependencies(manifest: Record<string, any>): {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
} {
  const sorted = (group: unknown): Record<string, string> =>
    Object.fromEntries(
      Object.entries((group ?? {}) as Record<string, string>)
        .map(([name, range]) => [name, String(range)] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  return { dependencies: sorted(manifest.dependencies), devDependencies: sorted(manifest.devDependencies) };
}
