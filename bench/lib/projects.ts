/**
 * The projects the bench measures, all under .bench/ (git-ignored):
 * - project/<app>: what `create-immutable-app <app> --yes --no-install` writes, with node_modules linked
 *   to this repository's (same versions a fresh install would get, without a download per run);
 * - baseline: the same project the `cdktf init --template typescript` way: bench/fixtures/baseline
 *   (the template's tsconfig, cdktf.json with `npx ts-node main.ts`, package.json scripts) plus the
 *   project's main.ts, config, stacks/ and managed/, every deep provider import rewritten to the barrel.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseBarrelIndex, PROVIDER_PACKAGE, rewriteToBarrel } from "./barrel";

/** ts-node as `cdktf init --template typescript` installs it (latest 10.x), pinned for repeatable numbers. */
export const TS_NODE_VERSION = "10.9.2";
export const APP_NAME = "bench-app";

export interface Paths {
  readonly repo: string;
  readonly work: string;
  readonly bin: string;
}

export function paths(repo: string): Paths {
  return { repo, work: join(repo, ".bench"), bin: join(repo, "bin", "create-immutable-app.js") };
}

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return max;
}

/** The bin runs dist/ (git-ignored): compile it when missing or older than its sources. */
export function ensureCliBuilt(p: Paths, log: (line: string) => void): void {
  const compiled = join(p.repo, "dist", "generators", "cli.js");
  const sources = Math.max(newest(join(p.repo, "generators")), newest(join(p.repo, "stacks")));
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= sources) return;
  log("compiling the generator (npm run build:cli)");
  execFileSync("npm", ["run", "--silent", "build:cli"], { cwd: p.repo, stdio: ["ignore", "ignore", "inherit"] });
}

/** Arguments of a scaffold without install, git or questions. */
export function scaffoldArgs(p: Paths, dir: string): string[] {
  return [p.bin, dir, "--yes", "--no-install", "--no-git"];
}

/** Links `<project>/node_modules` to the repository's, as if `npm install` had run. */
export function linkNodeModules(p: Paths, project: string): void {
  const link = join(project, "node_modules");
  if (existsSync(link) || isSymlink(link)) rmSync(link, { recursive: true, force: true });
  symlinkSync(join(p.repo, "node_modules"), link, "dir");
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Every regular file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(relative(dir, full));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

function readJsonFile(file: string): Record<string, any> {
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, any>;
}

/**
 * The template's tsconfig with the project's `target` and `lib`: the stacks use ES2022 library calls
 * (Object.hasOwn) that the template's ES2018 does not declare. Everything else stays the template's.
 */
export function baselineTsconfig(template: Record<string, any>, project: Record<string, any>): Record<string, any> {
  const options = { ...(template.compilerOptions ?? {}) };
  for (const key of ["target", "lib"]) {
    if (project.compilerOptions?.[key] !== undefined) options[key] = project.compilerOptions[key];
  }
  return { ...template, compilerOptions: options };
}

export interface Baseline {
  readonly dir: string;
  /** Deep import declarations rewritten to the barrel. */
  readonly rewrittenImports: number;
  readonly files: readonly string[];
}

/**
 * (Re)creates .bench/baseline from the fixture and the scaffolded project. node_modules (only ts-node and
 * its dependencies; cdktf, the provider, typescript and @types resolve from the repository's node_modules
 * above it, as Node and TypeScript walk up) survives between runs so that ts-node is downloaded once.
 */
export function prepareBaseline(p: Paths, project: string, log: (line: string) => void): Baseline {
  const dir = join(p.work, "baseline");
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) {
    if (entry !== "node_modules") rmSync(join(dir, entry), { recursive: true, force: true });
  }
  cpSync(join(p.repo, "bench", "fixtures", "baseline"), dir, { recursive: true });
  writeFileSync(
    join(dir, "tsconfig.json"),
    `${JSON.stringify(
      baselineTsconfig(readJsonFile(join(dir, "tsconfig.json")), readJsonFile(join(project, "tsconfig.json"))),
      null,
      2,
    )}\n`,
  );
  const namespaces = parseBarrelIndex(readFileSync(join(p.repo, "node_modules", PROVIDER_PACKAGE, "lib", "index.d.ts"), "utf8"));
  let rewrittenImports = 0;
  // main.ts loads the config through managed/ and builds the stacks of stacks/: both come along.
  const copied = [
    "main.ts",
    "immutable.config.json",
    ...["stacks", "managed"].flatMap((sub) => listFiles(join(project, sub)).map((f) => join(sub, f))),
  ];
  for (const file of copied) {
    const target = join(dir, file);
    mkdirSync(dirname(target), { recursive: true });
    if (file.endsWith(".ts")) {
      const result = rewriteToBarrel(readFileSync(join(project, file), "utf8"), namespaces);
      rewrittenImports += result.rewritten;
      writeFileSync(target, result.source);
    } else {
      cpSync(join(project, file), target);
    }
  }
  if (rewrittenImports === 0) throw new Error("the baseline rewrote no provider import: the stacks changed shape?");
  const tsNode = join(dir, "node_modules", "ts-node", "package.json");
  const installed = existsSync(tsNode) ? (JSON.parse(readFileSync(tsNode, "utf8")) as { version: string }).version : undefined;
  if (installed !== TS_NODE_VERSION) {
    log(`installing ts-node@${TS_NODE_VERSION} into ${relative(p.repo, dir)}/node_modules (once)`);
    // --legacy-peer-deps: typescript and @types/node come from the repository, not a second copy.
    execFileSync(
      "npm",
      ["install", "--no-save", "--no-package-lock", "--legacy-peer-deps", "--no-audit", "--no-fund", `ts-node@${TS_NODE_VERSION}`],
      { cwd: dir, stdio: ["ignore", "ignore", "inherit"] },
    );
  }
  return { dir, rewrittenImports, files: copied };
}

/** Files that differ (or exist on one side only) between two synth outputs' stacks/ and manifest. */
export function diffSynthOutputs(a: string, b: string): string[] {
  const files = [...new Set([...listFiles(a), ...listFiles(b)])];
  return files.filter((f) => {
    const pa = join(a, f);
    const pb = join(b, f);
    return !existsSync(pa) || !existsSync(pb) || !readFileSync(pa).equals(readFileSync(pb));
  });
}
