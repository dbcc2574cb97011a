#!/usr/bin/env node
/**
 * `node managed/run.js main.ts [args...]`: runs a TypeScript entry point as one esbuild bundle, the
 * entry, its imports and the packages they load (cdktf, the provider's classes) in one file. That is
 * what `npm run synth` and cdktf.json's `app` run: Node then loads one file instead of hundreds of
 * modules through a TypeScript loader, in a fraction of the time, with the same output.
 *
 * No stale build: the bundle is kept in node_modules/.cache/create-immutable-app/ together with a
 * manifest of every file esbuild loaded to make it, each with a fingerprint taken as it was loaded:
 * the SHA-256 of the contents for the project's files, size and modification time for node_modules'
 * (an install replaces those files), and the names in each project folder the bundle reads from (a
 * new file there can change what an import resolves to), plus tsconfig.json and package.json. Any
 * difference, a missing file, another esbuild, Node major version or version of this file: it is
 * bundled again before it runs. Configuration files read at run time (immutable.config.json) are not
 * part of the bundle and are read on every run. V8's code cache of the bundle is kept beside it.
 *
 * Types are not checked here (esbuild strips them): that is `npm run build` (tsc --noEmit), which
 * `npm test` and CI run.
 */

const { createHash } = require("node:crypto");
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { fileURLToPath, pathToFileURL } = require("node:url");
const vm = require("node:vm");
const { dirname, isAbsolute, join, relative, resolve, sep } = require("node:path");

/** Bump when the cache layout or the meaning of a fingerprint changes. */
const CACHE_FORMAT = 3;
const ROOT = resolve(__dirname, "..");

/**
 * The packages bundled with the project's code: cdktf, constructs and the cdktf providers (jsii's
 * generated JavaScript, which reads no file of its own). Every other package stays outside the bundle
 * and is loaded by Node as usual, so that a package that reads files next to itself (__dirname,
 * require.resolve) or loads a native addon works as it does under tsx.
 */
function isBundledPackage(specifier) {
  const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
  return name === "cdktf" || name === "constructs" || name.startsWith("@cdktf/provider-");
}

/**
 * Files an install rewrites whenever it changes what a package import resolves to (npm's, pnpm's,
 * Yarn's and Bun's lockfiles and install state), looked for in the project and every folder above it
 * (a workspace's root): their contents are part of the fingerprint, and so is their absence.
 */
const INSTALL_STATE = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "node_modules/.package-lock.json",
  "pnpm-lock.yaml",
  "node_modules/.modules.yaml",
  "node_modules/.pnpm/lock.yaml",
  "yarn.lock",
  ".pnp.cjs",
  ".yarn/install-state.gz",
  "node_modules/.yarn-state.yml",
  "bun.lock",
  "bun.lockb",
];

/** Files that decide how esbuild reads the TypeScript of the folder they are in, and below. */
const FOLDER_CONFIG = ["tsconfig.json", "jsconfig.json", "package.json"];

function usage(message) {
  process.stderr.write(`run: ${message}\nUsage: node managed/run.js <entry.ts> [arguments for the entry...]\n`);
  process.exit(2);
}

function sha256(data) {
  return createHash("sha256").update(data).digest("hex");
}

/** Inside a node_modules folder, counted from the project (the project itself may be under one). */
function inNodeModules(file) {
  return relative(ROOT, file).split(sep).includes("node_modules");
}

/**
 * The fingerprint of one file, null when it cannot be read: the SHA-256 of the contents for the
 * project's files, size and modification time for node_modules' (an install replaces those files;
 * what it resolves to differently is caught by INSTALL_STATE).
 */
function fingerprint(file) {
  try {
    if (inNodeModules(file)) {
      const s = statSync(file);
      return `${s.size}:${s.mtimeMs}`;
    }
    return sha256(readFileSync(file));
  } catch {
    return null;
  }
}

function listing(dir) {
  try {
    return sha256(readdirSync(dir).sort().join("\n"));
  } catch {
    return null;
  }
}

/** Every INSTALL_STATE file of the project and the folders above it: relative path -> fingerprint or null. */
function installState() {
  const state = {};
  for (let dir = ROOT; ; dir = dirname(dir)) {
    for (const file of INSTALL_STATE) {
      // Size and modification time: installers and git write these files whole, never in place.
      const s = statSync(join(dir, file), { throwIfNoEntry: false });
      state[relative(ROOT, join(dir, file))] = s ? `${s.size}:${s.mtimeMs}` : null;
    }
    if (dirname(dir) === dir) return state;
  }
}

/** esbuild options: the bundle runs as CommonJS on this Node, with a source map for error traces. */
function buildOptions(entry, outfile, plugins) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${process.versions.node.split(".")[0]}`,
    // No sourceMappingURL comment: mapStack reads the map only when an error is printed.
    sourcemap: "external",
    sourcesContent: false,
    write: false,
    metafile: true,
    // Warnings are printed (e.g. import.meta in code esbuild turns into CommonJS), errors by bundle().
    logLevel: "warning",
    absWorkingDir: ROOT,
    plugins,
  };
}

const LOADERS = { ts: "ts", mts: "ts", cts: "ts", tsx: "tsx", js: "js", mjs: "js", cjs: "js", jsx: "jsx", json: "json" };

/**
 * What a module of the project sees under tsx and would not in one bundle, declared at the start of
 * its first line (so that the source map's lines stay right): its own __filename and __dirname (a
 * stack that reads a file next to itself, a TerraformAsset's path) unless it declares them itself,
 * import.meta.url/dirname/filename, and, in a module other than the entry, a `module` of its own, so
 * that `require.main === module` is true only in the entry.
 */
function moduleLocals(file, contents, isEntry) {
  const dir = dirname(file);
  let out = contents.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, what) =>
    JSON.stringify(what === "url" ? pathToFileURL(file).href : what === "dirname" ? dir : file),
  );
  const locals = [];
  const declares = (name) => new RegExp(`\\b(?:const|let|var|function|class)\\s+${name}\\b`).test(out);
  if (/\b__filename\b/.test(out) && !declares("__filename")) locals.push(`__filename = ${JSON.stringify(file)}`);
  if (/\b__dirname\b/.test(out) && !declares("__dirname")) locals.push(`__dirname = ${JSON.stringify(dir)}`);
  if (!isEntry && /\brequire\.main\b/.test(out) && !/\b(?:module\.)?exports\b/.test(out) && !declares("module")) {
    locals.push("module = {}");
  }
  if (locals.length > 0) out = `var ${locals.join(", ")};${out}`;
  return out;
}

/**
 * Records the fingerprint of every file as esbuild loads it, so that the manifest describes exactly
 * the bytes in the bundle (a file saved during the build makes the next run build again), with the
 * listing of each project folder it reads from (a new file can change what an import resolves to) and
 * the tsconfig.json, jsconfig.json and package.json of that folder and those above it up to the
 * project (and what their "extends" names). Packages other than isBundledPackage's stay outside.
 */
function recordInputs(entry, inputs, folders) {
  const seenFolders = new Set();
  const recordConfig = (file) => {
    const rel = relative(ROOT, file);
    if (rel in inputs) return;
    inputs[rel] = existsSync(file) ? fingerprint(file) : "absent";
    if (inputs[rel] === "absent" || !/config\.json$/.test(file)) return;
    const extended = /"extends"\s*:\s*"([^"]+)"/.exec(readFileSync(file, "utf8"))?.[1];
    if (extended?.startsWith(".")) recordConfig(resolve(dirname(file), extended.endsWith(".json") ? extended : `${extended}.json`));
  };
  const recordFolder = (dir) => {
    for (let d = dir; !seenFolders.has(d); d = dirname(d)) {
      seenFolders.add(d);
      folders[relative(ROOT, d) || "."] = listing(d);
      for (const name of FOLDER_CONFIG) recordConfig(join(d, name));
      if (d === ROOT || relative(ROOT, d).startsWith("..")) break;
    }
  };
  return {
    name: "record-inputs",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("node:") || inNodeModules(args.importer) || isBundledPackage(args.path)) return undefined;
        return { path: args.path, external: true };
      });
      build.onLoad({ filter: /.*/ }, (args) => {
        const rel = relative(ROOT, args.path);
        if (inNodeModules(args.path)) {
          inputs[rel] = fingerprint(args.path);
          return undefined;
        }
        recordFolder(dirname(args.path));
        const loader = LOADERS[args.path.slice(args.path.lastIndexOf(".") + 1)];
        if (loader === undefined) {
          inputs[rel] = fingerprint(args.path);
          return undefined;
        }
        const bytes = readFileSync(args.path);
        inputs[rel] = sha256(bytes);
        const text = bytes.toString("utf8");
        return { contents: loader === "json" ? text : moduleLocals(args.path, text, args.path === entry), loader };
      });
    },
  };
}

function readManifest(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** The build's identity: what else than the inputs decides the bundle. */
function buildKey(esbuildVersion, entry) {
  const self = sha256(readFileSync(__filename));
  return sha256(JSON.stringify([CACHE_FORMAT, self, esbuildVersion, process.versions.node.split(".")[0], entry]));
}

/** The manifest's bundle when it is still what the inputs make, else undefined. */
function freshBundle(manifest, key, cacheDir) {
  if (!manifest || manifest.key !== key || typeof manifest.bundle !== "string") return undefined;
  for (const [file, print] of Object.entries(manifest.inputs)) {
    // null: it could not be read when it was bundled (e.g. inside a zip): never trusted.
    if (print === null) return undefined;
    const now = print === "absent" && !existsSync(join(ROOT, file)) ? "absent" : fingerprint(join(ROOT, file));
    if (now !== print) return undefined;
  }
  for (const [dir, print] of Object.entries(manifest.folders)) {
    if (listing(join(ROOT, dir)) !== print) return undefined;
  }
  const state = installState();
  const recorded = manifest.installState ?? {};
  if (Object.keys(state).length !== Object.keys(recorded).length) return undefined;
  for (const [file, print] of Object.entries(state)) if (recorded[file] !== print) return undefined;
  const outfile = join(cacheDir, manifest.bundle);
  try {
    // The bundle as it was written (size and time): one edited in place is made again, and its V8
    // cache, which V8 would accept for any code of the same length, is never used for other code.
    const s = statSync(outfile);
    if (`${s.size}:${s.mtimeMs}` !== manifest.bundleFile) return undefined;
    return { outfile, code: readFileSync(outfile, "utf8") };
  } catch {
    return undefined;
  }
}

function writeAtomically(file, contents) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

/**
 * Bundles `entry` and keeps the bundle in the cache (when it can be written). The bundle's file is
 * named after its contents (<entry>.<sha256>.cjs, its .map and V8 code cache beside it) and never
 * rewritten: whoever reads the manifest finds the bundle it names, whatever runs at the same time.
 */
async function bundle(esbuild, entry, cacheDir, name, key) {
  const inputs = {};
  const folders = {};
  const state = installState();
  let result;
  try {
    result = await esbuild.build(buildOptions(entry, join(cacheDir, `${name}.cjs`), [recordInputs(entry, inputs, folders)]));
  } catch (error) {
    // esbuild has printed each error with its file, line and column (logLevel).
    if (!Array.isArray(error.errors)) process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const code = result.outputFiles.find((out) => out.path.endsWith(".cjs")).text;
  const map = result.outputFiles.find((out) => out.path.endsWith(".map"))?.text;
  const base = `${name}.${sha256(code).slice(0, 16)}.cjs`;
  const outfile = join(cacheDir, base);
  try {
    mkdirSync(cacheDir, { recursive: true });
    if (map !== undefined) writeAtomically(`${outfile}.map`, map);
    writeAtomically(outfile, code);
    const written = statSync(outfile);
    const manifest = { key, bundle: base, bundleFile: `${written.size}:${written.mtimeMs}`, inputs, folders, installState: state };
    writeAtomically(join(cacheDir, `${name}.json`), `${JSON.stringify(manifest)}\n`);
    // Earlier bundles of this entry go; files being written by another run (.tmp) stay.
    for (const file of readdirSync(cacheDir)) {
      if (file.startsWith(`${name}.`) && !file.startsWith(base) && file !== `${name}.json` && !file.endsWith(".tmp")) {
        rmSync(join(cacheDir, file), { force: true });
      }
    }
  } catch (error) {
    // A read-only node_modules: run anyway, bundling again next time.
    process.stderr.write(`run: could not keep the bundle in ${cacheDir} (${error.code ?? error.message}); it is made again on every run\n`);
  }
  return { outfile, code, map };
}

/**
 * Runs the bundle as the CommonJS module Node would make of the entry (require.main is it), compiled
 * with V8's code cache of an earlier run when there is one (written once, at the end of the first
 * run, so that it holds the functions that run compiled; V8 refuses a cache made by another V8 or for
 * code of another length, and the bundle's content-addressed name keeps caches and code paired).
 */
function runBundle({ outfile, code }, entry) {
  const cacheFile = `${outfile}.v8`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const options = { filename: outfile, cachedData };
  // import() left in the bundle: Node's own loader (vm.constants, Node 20.12 and later; the engines field).
  if (vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER) options.importModuleDynamically = vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const script = new vm.Script(Module.wrap(code), options);
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once("exit", () => {
      try {
        writeAtomically(cacheFile, script.createCachedData());
      } catch {
        // no cache this time
      }
    });
  }
  const bundled = new Module(".", null);
  bundled.filename = entry;
  bundled.paths = Module._nodeModulePaths(dirname(entry));
  process.mainModule = bundled;
  const require = Module.createRequire(entry);
  require.main = bundled;
  script.runInThisContext().call(bundled.exports, bundled.exports, require, bundled, entry, dirname(entry));
  bundled.loaded = true;
}

/**
 * Rewrites the bundle's positions in an error's stack to the TypeScript files and lines they come
 * from, with the bundle's source map. Only when something is printed: Node's own source-map support
 * (--enable-source-maps) would parse the map on every run, which costs more than the synth's output.
 */
function mapStack(stack, outfile, mapText) {
  if (typeof stack !== "string" || !stack.includes(outfile)) return stack;
  let map;
  try {
    map = new Module.SourceMap(JSON.parse(mapText ?? readFileSync(`${outfile}.map`, "utf8")));
  } catch {
    return stack;
  }
  const escaped = outfile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return stack.replace(new RegExp(`${escaped}:(\\d+):(\\d+)`, "g"), (whole, line, column) => {
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || entry.originalSource === undefined) return whole;
    const source = entry.originalSource.startsWith("file:")
      ? fileURLToPath(entry.originalSource)
      : resolve(dirname(outfile), entry.originalSource);
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

async function main() {
  const [entryArg, ...args] = process.argv.slice(2);
  if (entryArg === undefined || entryArg.startsWith("-")) usage("name the entry point, e.g. main.ts");
  const entry = resolve(entryArg);
  if (!existsSync(entry)) usage(`${entryArg}: no such file`);
  let esbuildVersion;
  try {
    esbuildVersion = require("esbuild/package.json").version;
  } catch {
    process.stderr.write(
      "run: esbuild cannot be found: install the project's dependencies first (with Yarn: in node_modules, as .yarnrc.yml says)\n",
    );
    process.exit(1);
  }
  // One cache folder per project (node_modules may be shared, e.g. a symlink), one bundle per entry.
  const cacheDir = join(ROOT, "node_modules", ".cache", "create-immutable-app", sha256(ROOT).slice(0, 12));
  const rel = relative(ROOT, entry);
  const name = (isAbsolute(rel) || rel.startsWith("..") ? sha256(entry).slice(0, 12) : rel).replace(/[\\/]/g, "__");
  const key = buildKey(esbuildVersion, rel);
  const built =
    freshBundle(readManifest(join(cacheDir, `${name}.json`)), key, cacheDir) ??
    (await bundle(require("esbuild"), entry, cacheDir, name, key));
  const fail = (error) => {
    process.stderr.write(`${mapStack(error instanceof Error ? error.stack : undefined, built.outfile, built.map) ?? String(error)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  // The entry sees the arguments as if it had been started itself: node <entry> [args...].
  process.argv = [process.argv[0], entry, ...args];
  try {
    runBundle(built, entry);
  } catch (error) {
    fail(error);
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}

module.exports = { buildOptions, fingerprint, freshBundle, mapStack };
