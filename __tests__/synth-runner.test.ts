/**
 * managed/run.js, what `npm run synth` and cdktf.json's app run: main.ts as one esbuild bundle, cached
 * and rebuilt whenever a file it is made of changes. In a generated project (this repository's
 * node_modules linked in): the same bytes as the TypeScript loader's way (`node --import tsx main.ts`),
 * no stale build after an edit, a new file or a config change, errors that name the .ts line, each
 * module's own __dirname, and the entry's arguments.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureCliBuilt, REPO, runBin, treeSnapshot } from "./support/cli";
import { tempDir } from "./support/terraform";

let root: string;
let project: string;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function node(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, args, { cwd: project, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `npm run synth`'s command into `outdir`; fails the test unless it exits 0. */
function synth(outdir: string): Run {
  const r = node(["managed/run.js", "main.ts"], { CDKTF_OUTDIR: outdir });
  if (r.status !== 0) throw new Error(`synth failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function stack(outdir: string, env: string): any {
  return JSON.parse(readFileSync(join(outdir, "stacks", env, "cdk.tf.json"), "utf8"));
}

/** The cached bundle of main.ts (one per project), as its manifest names it. */
function bundleFile(): string {
  const folder = createHash("sha256").update(project).digest("hex").slice(0, 12);
  const cache = join(project, "node_modules", ".cache", "create-immutable-app", folder);
  return join(cache, JSON.parse(readFileSync(join(cache, "main.ts.json"), "utf8")).bundle);
}

/** The line after which the tests add theirs: inside WebTierStack's constructor, kept by every version. */
const STACK_ANCHOR = "const app = config.appName;";

/** `body` run with `line` added to the stack's constructor (after STACK_ANCHOR), then the original back. */
function withStackLine<T>(line: string, body: () => T): T {
  return withEdit("stacks/web-tier-stack.ts", (text) => text.replace(STACK_ANCHOR, `${STACK_ANCHOR}\n    ${line}`), body);
}

/** Edits `file` with `edit` for the duration of `body`, then puts the original back. */
function withEdit<T>(file: string, edit: (text: string) => string, body: () => T): T {
  const path = join(project, file);
  const original = readFileSync(path, "utf8");
  const edited = edit(original);
  if (edited === original) throw new Error(`the edit of ${file} changed nothing`);
  writeFileSync(path, edited);
  try {
    return body();
  } finally {
    writeFileSync(path, original);
  }
}

beforeAll(() => {
  ensureCliBuilt();
  root = tempDir("cia-runner");
  const r = runBin(["runner-app", "--yes", "--no-install", "--no-git", "--secret", "DATABASE_PASSWORD"], { cwd: root });
  if (r.status !== 0) throw new Error(`scaffold failed: ${r.stderr}`);
  project = join(root, "runner-app");
  // node_modules is shared (a symlink to this repository's): the cache folder is per project.
  symlinkSync(join(REPO, "node_modules"), join(project, "node_modules"), "dir");
}, 120_000);

afterAll(() => {
  // This project's bundles live in the repository's node_modules/.cache (the shared symlink), in the
  // folder named after the project's path (managed/run.js).
  const folder = createHash("sha256").update(project).digest("hex").slice(0, 12);
  rmSync(join(REPO, "node_modules", ".cache", "create-immutable-app", folder), { recursive: true, force: true });
});

describe("managed/run.js (npm run synth)", () => {
  it("is what npm run synth and cdktf.json's app run", () => {
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    expect(pkg.scripts.synth).toBe("node managed/run.js main.ts");
    expect(JSON.parse(readFileSync(join(project, "cdktf.json"), "utf8")).app).toBe(pkg.scripts.synth);
  });

  it("writes the same bytes as the TypeScript loader's way (node --import tsx main.ts), every file of cdktf.out", () => {
    const viaTsx = join(root, "out-tsx");
    const viaBundle = join(root, "out-bundle");
    const t = node(["--import", "tsx", "main.ts"], { CDKTF_OUTDIR: viaTsx });
    expect(t.status).toBe(0);
    const b = synth(viaBundle);
    expect(b.stdout).toBe(t.stdout.replace("out-tsx", "out-bundle"));
    const expected = treeSnapshot(viaTsx);
    expect(Object.keys(expected)).toEqual(
      expect.arrayContaining(["manifest.json", "stacks/staging/cdk.tf.json", "stacks/production/cdk.tf.json"]),
    );
    expect(treeSnapshot(viaBundle)).toEqual(expected);
  }, 120_000);

  it("reuses the bundle while nothing it is made of changed, with V8's code cache from the second run on", () => {
    synth(join(root, "out-1"));
    const bundle = bundleFile();
    const before = statSync(bundle).mtimeMs;
    expect(existsSync(`${bundle}.v8`)).toBe(true);
    const cacheBefore = statSync(`${bundle}.v8`).mtimeMs;
    synth(join(root, "out-2"));
    expect(bundleFile()).toBe(bundle);
    expect(statSync(bundle).mtimeMs).toBe(before);
    // Accepted, so not written again.
    expect(statSync(`${bundle}.v8`).mtimeMs).toBe(cacheBefore);
    expect(treeSnapshot(join(root, "out-2"))).toEqual(treeSnapshot(join(root, "out-1")));
  }, 120_000);

  it("runs with a code cache that is not V8's (it is refused and made again), with the same output", () => {
    const bundle = bundleFile();
    writeFileSync(`${bundle}.v8`, "not a code cache");
    synth(join(root, "out-badcache"));
    expect(readFileSync(`${bundle}.v8`, "utf8")).not.toBe("not a code cache");
    expect(treeSnapshot(join(root, "out-badcache"))).toEqual(treeSnapshot(join(root, "out-1")));
  }, 120_000);

  it("makes the bundle again when the cached bundle itself was edited in place (its V8 cache is never used for other code)", () => {
    synth(join(root, "out-pre-tamper"));
    const bundle = bundleFile();
    writeFileSync(bundle, `${readFileSync(bundle, "utf8")}\nconsole.log("TAMPERED-MARKER");\n`);
    const r = synth(join(root, "out-tampered"));
    expect(r.stdout).not.toContain("TAMPERED-MARKER");
    expect(readFileSync(bundleFile(), "utf8")).not.toContain("TAMPERED-MARKER");
  }, 120_000);

  it("picks up an edited stack on the next run, and the original again after it is put back", () => {
    const marker = 'new TerraformOutput(this, "runner_marker", { value: "edited" });';
    const edited = withStackLine(marker, () => stack(synth(join(root, "out-edited")) && join(root, "out-edited"), "staging"));
    expect(edited.output.runner_marker.value).toBe("edited");
    expect(readdirSync(dirname(bundleFile())).filter((f) => f.endsWith(".cjs"))).toHaveLength(1);
    const restored = stack(synth(join(root, "out-restored")) && join(root, "out-restored"), "staging");
    expect(restored.output.runner_marker).toBeUndefined();
  }, 120_000);

  it("reads immutable.config.json on every run (it is not part of the bundle)", () => {
    const out = join(root, "out-config");
    withEdit(
      "immutable.config.json",
      (text) => {
        const config = JSON.parse(text);
        config.environments[0].maxCapacity = 7; // staging
        return `${JSON.stringify(config, null, 2)}\n`;
      },
      () => synth(out),
    );
    const group = Object.values(stack(out, "staging").resource.aws_autoscaling_group)[0] as any;
    expect(group.max_size).toBe(7);
  }, 120_000);

  it("rebuilds when a new file changes what an import resolves to (esbuild tries .tsx before .ts)", () => {
    const shadow = join(project, "managed", "synth.tsx");
    writeFileSync(shadow, 'export * from "./synth.ts";\nconsole.log("the new managed/synth.tsx was bundled");\n');
    try {
      expect(synth(join(root, "out-shadow")).stdout).toContain("the new managed/synth.tsx was bundled");
    } finally {
      rmSync(shadow);
    }
    expect(synth(join(root, "out-unshadowed")).stdout).not.toContain("the new managed/synth.tsx");
  }, 120_000);

  it("names the stack's TypeScript file and line when it throws, and exits 1", () => {
    const r = withStackLine('throw new Error("boom from the stack");', () =>
      node(["managed/run.js", "main.ts"], { CDKTF_OUTDIR: join(root, "out-throw") }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Error: boom from the stack");
    const line =
      readFileSync(join(project, "stacks", "web-tier-stack.ts"), "utf8")
        .split("\n")
        .indexOf(`    ${STACK_ANCHOR}`) + 2;
    expect(r.stderr).toContain(`${join(project, "stacks", "web-tier-stack.ts")}:${line}:`);
    // No position left in the bundle (main.ts.<hash>.cjs): every frame of ours is mapped to its .ts file.
    expect(r.stderr).toMatch(/main\.ts:\d+:\d+/);
    expect(r.stderr).not.toMatch(/main\.ts\.[0-9a-f]{16}\.cjs:\d+/);
  }, 120_000);

  it("reports a syntax error with esbuild's file and line, exits 1, and keeps no broken bundle", () => {
    const r = withStackLine("const = ;", () => node(["managed/run.js", "main.ts"], { CDKTF_OUTDIR: join(root, "out-syntax") }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[ERROR\][^\n]*\n\s*\n\s*stacks\/web-tier-stack\.ts:\d+:\d+:/);
    expect(existsSync(join(root, "out-syntax"))).toBe(false);
    synth(join(root, "out-after-syntax"));
  }, 120_000);

  it("gives each module its own __dirname and __filename (a stack's asset path), and the entry its arguments", () => {
    const entry = join(project, "runner-entry.ts");
    writeFileSync(join(project, "stacks", "runner-where.ts"), "export const where = { dir: __dirname, file: __filename };\n");
    writeFileSync(
      entry,
      'import { where } from "./stacks/runner-where";\nconsole.log(JSON.stringify({ where, here: __dirname, argv: process.argv.slice(1) }));\n',
    );
    try {
      const r = node(["managed/run.js", "runner-entry.ts", "a b", "--flag"]);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({
        where: { dir: join(project, "stacks"), file: join(project, "stacks", "runner-where.ts") },
        here: project,
        argv: [entry, "a b", "--flag"],
      });
    } finally {
      rmSync(entry);
      rmSync(join(project, "stacks", "runner-where.ts"));
    }
  }, 120_000);

  it("runs the entry as the main module (require.main === module there, and only there), with import.meta", () => {
    const entry = join(project, "runner-main.ts");
    writeFileSync(
      join(project, "stacks", "runner-other.ts"),
      "export const otherIsMain = require.main === module;\nexport const url = import.meta.url;\n",
    );
    writeFileSync(
      entry,
      [
        'import { otherIsMain, url } from "./stacks/runner-other";',
        "const __dirname = 'declared by the module itself';",
        "console.log(JSON.stringify({ entryIsMain: require.main === module, otherIsMain, url, dir: __dirname, meta: import.meta.dirname }));",
        "",
      ].join("\n"),
    );
    try {
      const r = node(["managed/run.js", "runner-main.ts"]);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        entryIsMain: true,
        otherIsMain: false,
        url: pathToFileURL(join(project, "stacks", "runner-other.ts")).href,
        dir: "declared by the module itself",
        meta: project,
      });
    } finally {
      rmSync(entry);
      rmSync(join(project, "stacks", "runner-other.ts"));
    }
  }, 120_000);

  it("bundles cdktf, constructs and the providers only: any other package is loaded by Node from its own folder", () => {
    const entry = join(project, "runner-external.ts");
    // js-yaml resolves through the linked node_modules; it stands for any package a team adds.
    writeFileSync(entry, 'import yaml from "js-yaml";\nconsole.log(typeof yaml.load);\n');
    try {
      const r = node(["managed/run.js", "runner-external.ts"]);
      expect(r.stdout.trim()).toBe("function");
      const folder = createHash("sha256").update(project).digest("hex").slice(0, 12);
      const cache = join(project, "node_modules", ".cache", "create-immutable-app", folder);
      const manifest = JSON.parse(readFileSync(join(cache, "runner-external.ts.json"), "utf8"));
      expect(readFileSync(join(cache, manifest.bundle), "utf8")).toContain('require("js-yaml")');
      expect(Object.keys(manifest.inputs).some((f) => f.includes("js-yaml"))).toBe(false);
    } finally {
      rmSync(entry);
    }
  }, 120_000);

  it.each([
    ["a lockfile appears (an install changed what imports resolve to)", "package-lock.json", '{"lockfileVersion": 3}\n'],
    ["a folder's tsconfig.json appears", "stacks/tsconfig.json", '{ "extends": "../tsconfig.base.json" }\n'],
  ])(
    "bundles again when %s, and when it changes",
    (_what, file, contents) => {
      const manifest = (): number => statSync(join(dirname(bundleFile()), "main.ts.json")).mtimeMs;
      synth(join(root, "out-state-0"));
      const before = manifest();
      const path = join(project, file);
      const base = join(project, "tsconfig.base.json");
      writeFileSync(base, '{ "compilerOptions": {} }\n');
      try {
        writeFileSync(path, contents);
        synth(join(root, "out-state-1"));
        const added = manifest();
        expect(added).toBeGreaterThan(before);
        synth(join(root, "out-state-2"));
        expect(manifest()).toBe(added);
        // A change of the file, or of the file its "extends" names.
        writeFileSync(path === base ? base : path, `${contents.trim()} \n`);
        synth(join(root, "out-state-3"));
        const changed = manifest();
        expect(changed).toBeGreaterThan(added);
        if (file.endsWith("tsconfig.json")) {
          writeFileSync(base, '{ "compilerOptions": { "strict": true } }\n');
          synth(join(root, "out-state-4"));
          expect(manifest()).toBeGreaterThan(changed);
        }
      } finally {
        rmSync(path, { force: true });
        rmSync(base, { force: true });
      }
    },
    120_000,
  );

  it.each([
    [[], "name the entry point"],
    [["missing.ts"], "missing.ts: no such file"],
  ])("refuses %j with exit 2 and a usage line", (args, message) => {
    const r = node(["managed/run.js", ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain("Usage: node managed/run.js <entry.ts>");
  });
});
