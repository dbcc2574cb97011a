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
const { fileURLToPath } = require("node:url");
const vm = require("node:vm");
const { dirname, isAbsolute, join, relative, resolve, sep } = require("node:path");

/** Bump when the cache layout or the meaning of a fingerprint changes. */
const CACHE_FORMAT = 1;
const ROOT = resolve(__dirname, "..");

function usage(message) {
  process.stderr.write(`run: ${message}\nUsage: node managed/run.js <entry.ts> [arguments for the entry...]\n`);
  process.exit(2);
}

function sha256(data) {
  return createHash("sha256").update(data).digest("hex");
}

function inNodeModules(file) {
  return file.split(sep).includes("node_modules");
}

/** The fingerprint of one input file (undefined when it is gone). */
function fingerprint(file) {
  try {
    if (inNodeModules(file)) {
      const s = statSync(file);
      return `${s.size}:${s.mtimeMs}`;
    }
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}

function listing(dir) {
  try {
    return sha256(readdirSync(dir).sort().join("\n"));
  } catch {
    return undefined;
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
    logLevel: "silent",
    absWorkingDir: ROOT,
    plugins,
  };
}

const LOADERS = { ts: "ts", mts: "ts", cts: "ts", tsx: "tsx", js: "js", mjs: "js", cjs: "js", jsx: "jsx", json: "json" };

/**
 * Records the fingerprint of every file as esbuild loads it, so that the manifest describes exactly
 * the bytes in the bundle (a file saved during the build makes the next run build again). The
 * project's own files are read here, once: bundled together, every module would see the bundle's
 * __dirname and __filename, and a stack that reads a file next to itself (a TerraformAsset's path)
 * needs its own, so each module that uses them gets them declared on its first line (which keeps the
 * source map's line numbers).
 */
function recordInputs(inputs, folders) {
  return {
    name: "record-inputs",
    setup(build) {
      build.onLoad({ filter: /.*/ }, (args) => {
        const rel = relative(ROOT, args.path);
        if (inNodeModules(args.path)) {
          inputs[rel] = fingerprint(args.path);
          return undefined;
        }
        const dir = dirname(args.path);
        folders[relative(ROOT, dir) || "."] = listing(dir);
        const loader = LOADERS[args.path.slice(args.path.lastIndexOf(".") + 1)];
        if (loader === undefined) {
          inputs[rel] = fingerprint(args.path);
          return undefined;
        }
        const bytes = readFileSync(args.path);
        inputs[rel] = sha256(bytes);
        let contents = bytes.toString("utf8");
        if (loader !== "json" && /\b__(dirname|filename)\b/.test(contents)) {
          contents = `var __filename = ${JSON.stringify(args.path)}, __dirname = ${JSON.stringify(dir)};${contents}`;
        }
        return { contents, loader };
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
    if (fingerprint(join(ROOT, file)) !== print) return undefined;
  }
  for (const [dir, print] of Object.entries(manifest.folders)) {
    if (listing(join(ROOT, dir)) !== print) return undefined;
  }
  const outfile = join(cacheDir, manifest.bundle);
  try {
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
  let result;
  try {
    result = await esbuild.build(buildOptions(entry, join(cacheDir, `${name}.cjs`), [recordInputs(inputs, folders)]));
  } catch (error) {
    // esbuild's own messages name the file, line and column of each error.
    const text = await esbuild.formatMessages(error.errors ?? [], { kind: "error", color: false });
    process.stderr.write(text.join("") || `${error.message}\n`);
    process.exit(1);
  }
  // The project's tsconfig.json and package.json decide how TypeScript is read (esbuild reads them).
  for (const file of ["tsconfig.json", "package.json"]) {
    if (existsSync(join(ROOT, file))) inputs[file] = fingerprint(join(ROOT, file));
  }
  const code = result.outputFiles.find((out) => out.path.endsWith(".cjs")).text;
  const map = result.outputFiles.find((out) => out.path.endsWith(".map"));
  const base = `${name}.${sha256(code).slice(0, 16)}.cjs`;
  const outfile = join(cacheDir, base);
  try {
    mkdirSync(cacheDir, { recursive: true });
    if (map) writeAtomically(`${outfile}.map`, map.contents);
    writeAtomically(outfile, code);
    writeAtomically(join(cacheDir, `${name}.json`), `${JSON.stringify({ key, bundle: base, inputs, folders })}\n`);
    // Earlier bundles of this entry go (a run still reading one just bundles again).
    for (const file of readdirSync(cacheDir)) {
      if (file.startsWith(`${name}.`) && !file.startsWith(base) && file !== `${name}.json`) rmSync(join(cacheDir, file), { force: true });
    }
  } catch (error) {
    // A read-only node_modules: run anyway, bundling again next time.
    process.stderr.write(`run: could not keep the bundle in ${cacheDir} (${error.code ?? error.message}); it is made again on every run\n`);
  }
  return { outfile, code };
}

/**
 * Runs the bundle as the CommonJS module Node would make of it, compiled with V8's code cache of an
 * earlier run when there is one (written once, at the end of the first run, so that it holds the
 * functions that run compiled; V8 refuses a cache of other code or another V8 and compiles afresh).
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
  // import() of a package left outside the bundle: Node's own loader (Node 20.? and later have it).
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
  const bundled = new Module(outfile, module);
  bundled.filename = outfile;
  bundled.paths = Module._nodeModulePaths(dirname(entry));
  const require = Module.createRequire(entry);
  script.runInThisContext().call(bundled.exports, bundled.exports, require, bundled, outfile, dirname(outfile));
}

/**
 * Rewrites the bundle's positions in an error's stack to the TypeScript files and lines they come
 * from, with the bundle's source map. Only when something is printed: Node's own source-map support
 * (--enable-source-maps) would parse the map on every run, which costs more than the synth's output.
 */
function mapStack(stack, outfile) {
  if (typeof stack !== "string" || !stack.includes(outfile)) return stack;
  let map;
  try {
    map = new Module.SourceMap(JSON.parse(readFileSync(`${outfile}.map`, "utf8")));
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
    process.stderr.write("run: esbuild is not installed: install the project's dependencies first (npm install)\n");
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
    process.stderr.write(`${mapStack(error instanceof Error ? error.stack : undefined, built.outfile) ?? String(error)}\n`);
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
