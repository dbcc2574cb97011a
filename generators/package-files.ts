/**
 * Reads this package's own files (the stacks, Packer templates, scripts, templates and help texts that
 * a new project receives), relative to the installed package root. This is the only read step before
 * rendering; render itself is pure.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

export interface SourceFile {
  readonly contents: Buffer;
  readonly executable: boolean;
}

export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

export interface Sources {
  readonly root: string;
  readonly packageJson: PackageJson;
  readonly cdktfJson: Readonly<Record<string, unknown>>;
  /** Files copied verbatim into every project, keyed by their path in the project (`/`-separated). */
  readonly copied: ReadonlyMap<string, SourceFile>;
  /** templates/**, keyed by path under templates/. */
  readonly templates: ReadonlyMap<string, string>;
  /** help/*.txt, keyed by base name without .txt. */
  readonly help: Readonly<Record<string, string>>;
}

const PACKAGE_NAME = "create-immutable-app";

/** The directory of this package's package.json, from the compiled (dist/generators) or source location. */
export function findPackageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, "utf8")) as PackageJson).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = join(dir, "..");
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${from}`);
    dir = parent;
  }
}

/** Which package files a project receives; everything the stacks and image need, nothing generated. */
export function isCopied(path: string): boolean {
  if (path === "main.ts") return true;
  // stacks/: the team's infrastructure; managed/: the machinery `upgrade` replaces.
  if (path.startsWith("stacks/") || path.startsWith("managed/")) {
    return (
      path === "managed/config.schema.json" ||
      path === "managed/README.md" ||
      path === "managed/run.js" ||
      /\.sh$/.test(path) ||
      (/\.ts$/.test(path) && !/\.(test|d)\.ts$/.test(path))
    );
  }
  if (path.startsWith("packer/")) {
    // Answers and build outputs are per project: the generator writes <app>.auto.pkrvars.hcl itself.
    return (
      !/\.auto\.pkrvars\.(hcl|json)$/.test(path) &&
      !/(^|\/)(packer-manifest\.json|manifest\.json)$/.test(path) &&
      !/(^|\/)(packer_cache|\.terraform)\//.test(path)
    );
  }
  return false;
}

export function readSources(root: string = findPackageRoot()): Sources {
  const copied = new Map<string, SourceFile>();
  const main = join(root, "main.ts");
  for (const file of [main, ...walk(join(root, "stacks")), ...walk(join(root, "managed")), ...walk(join(root, "packer"))]) {
    const path = relative(root, file).split(sep).join("/");
    if (!isCopied(path)) continue;
    copied.set(path, { contents: readFileSync(file), executable: (statSync(file).mode & 0o111) !== 0 });
  }
  const templates = new Map<string, string>();
  for (const file of walk(join(root, "templates"))) {
    templates.set(relative(join(root, "templates"), file).split(sep).join("/"), readFileSync(file, "utf8"));
  }
  const help: Record<string, string> = {};
  for (const file of walk(join(root, "help"))) {
    if (file.endsWith(".txt")) help[relative(join(root, "help"), file).replace(/\.txt$/, "")] = readFileSync(file, "utf8");
  }
  return {
    root,
    packageJson: JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson,
    cdktfJson: JSON.parse(readFileSync(join(root, "cdktf.json"), "utf8")) as Record<string, unknown>,
    copied,
    templates,
    help,
  };
}

/** Regular files under `dir`, sorted, not following symlinks; [] when `dir` does not exist. */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
