#!/usr/bin/env node
/**
 * `node managed/run.js main.ts [args...]`: runs a TypeScript entry point as one esbuild bundle, the
 * entry, its imports and the packages they load (cdktf, the provider's classes) in one file. That is
 * what `npm run synth` and cdktf.json's `app` run: Node then loads one file instead of hundreds of
 * modules through a TypeScript loader, in a fraction of the time, with the same output.
 *
 * No stale build: the bundle is kept in node_modules/.cache/create-immutable-app/ together with the
 * list of every file esbuild read to make it (its metafile) and, per file, a fingerprint: the SHA-256
 * of the contents for the project's files, size and modification time for node_modules' (an install
 * replaces those files), and the names in each project folder the bundle reads from (a new file there
 * can change what an import resolves to). Any difference, a missing file, another esbuild or Node
 * major version, or other build options: it is bundled again before it runs. Configuration files read
 * at run time (immutable.config.json) are not part of the bundle and are read on every run.
 *
 * Types are not checked here (esbuild strips them): that is `npm run build` (tsc --noEmit), which
 * `npm test` and CI run.
 */

const { createHash } = require("node:crypto");
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { fileURLToPath } = require("node:url");
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
    sourcemap: "linked",
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
  return sha256(JSON.stringify([CACHE_FORMAT, esbuildVersion, process.versions.node.split(".")[0], entry]));
}

function isFresh(manifest, key, bundle) {
  if (!manifest || manifest.key !== key || !existsSync(bundle)) return false;
  for (const [file, print] of Object.entries(manifest.inputs)) {
    if (fingerprint(join(ROOT, file)) !== print) return false;
  }
  for (const [dir, print] of Object.entries(manifest.folders)) {
    if (listing(join(ROOT, dir)) !== print) return false;
  }
  return true;
}

function writeAtomically(file, contents) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

/** Bundles `entry`, then keeps the bundle in the cache (when it can be written); returns its code. */
async function bundle(esbuild, entry, cacheDir, name, key) {
  const outfile = join(cacheDir, `${name}.cjs`);
  const inputs = {};
  const folders = {};
  let result;
  try {
    result = await esbuild.build(buildOptions(entry, outfile, [recordInputs(inputs, folders)]));
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
  const code = result.outputFiles.find((out) => out.path === outfile).text;
  try {
    mkdirSync(cacheDir, { recursive: true });
    for (const out of result.outputFiles) writeAtomically(out.path, out.contents);
    writeAtomically(join(cacheDir, `${name}.json`), `${JSON.stringify({ key, inputs, folders })}\n`);
  } catch (error) {
    // A read-only node_modules: run anyway, bundling again next time.
    process.stderr.write(`run: could not keep the bundle in ${cacheDir} (${error.code ?? error.message}); it is made again on every run\n`);
  }
  return code;
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
  const outfile = join(cacheDir, `${name}.cjs`);
  const code = isFresh(readManifest(join(cacheDir, `${name}.json`)), key, outfile)
    ? readFileSync(outfile, "utf8")
    : await bundle(require("esbuild"), entry, cacheDir, name, key);
  const fail = (error) => {
    process.stderr.write(`${mapStack(error instanceof Error ? error.stack : undefined, outfile) ?? String(error)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  // The entry sees the arguments as if it had been started itself: node <entry> [args...].
  process.argv = [process.argv[0], entry, ...args];
  const bundled = new Module(outfile, module);
  bundled.filename = outfile;
  bundled.paths = Module._nodeModulePaths(dirname(entry));
  try {
    bundled._compile(code, outfile);
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

module.exports = { buildOptions, fingerprint, isFresh, mapStack };
