/**
 * `create-immutable-app upgrade` (#14). A 0.1.0 project (the fixture, committed as 0.1.0's git step
 * did) gets a team's edits and is upgraded in-process: the edits survive, the fixes arrive, clashes are
 * marked and listed, nothing is deleted; then the upgraded project's own type-check, tests, synth and
 * an offline terraform plan pass. Also: a fresh project of this version is a no-op; a project without git and
 * without a manifest; a config this version refuses; the dry run; the flags; the merge, the 0.1.0
 * table and the move-aside rule on their own.
 *
 * "Theirs" (what this version writes) is never spelled out here: other work changes stacks/ and
 * packer/ all the time. It is what the generator itself writes for the fixture's answers.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, linkSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { UPGRADE_FLAGS } from "../generators/args";
import { EXIT_CONFLICTS } from "../generators/errors";
import { MANIFEST_FILE, sha256 } from "../generators/manifest";
import { merge2, merge3 } from "../generators/merge";
import { RELEASE_0_1_0 } from "../generators/releases";
import { conflictLabels, type GitFn, planUpgrade } from "../generators/upgrade";
import { packageSources, type PromptLog, REPO, runCli, scriptedPrompter, treeSnapshot } from "./support/cli";
import { resourcesOf, tempDir, TerraformDir, writeCliConfig } from "./support/terraform";
import { commitAll, FIXTURE, project010 } from "./support/upgrade-project";

const VERSION = packageSources().packageJson.version;
const LABELS = conflictLabels("0.1.0", VERSION);

/** What this version writes for the fixture's answers (with the team's config value): the generator's own output. */
async function generated(logLevel: string): Promise<string> {
  const argv = FIXTURE.command
    .split(" ")
    .slice(1)
    .map((a) => (a === "LOG_LEVEL=info" ? `LOG_LEVEL=${logLevel}` : a));
  const cwd = tempDir("cia-upgrade-fresh");
  const r = await runCli(argv, { cwd });
  if (r.code !== 0) throw new Error(`scaffold failed: ${r.stderr}`);
  return join(cwd, "shop");
}

const read = (dir: string, path: string): string => readFileSync(join(dir, path), "utf8");

/** One side of every conflict block (what a person resolving "take ours/theirs" gets). */
function resolved(text: string, side: "ours" | "theirs"): string {
  const out: string[] = [];
  let state: "out" | "ours" | "base" | "theirs" = "out";
  for (const line of text.split(/(?<=\n)/)) {
    if (line.startsWith("<<<<<<< ")) state = "ours";
    else if (line.startsWith("||||||| ") && state === "ours") state = "base";
    else if (line === "=======\n" && state !== "out") state = "theirs";
    else if (line.startsWith(">>>>>>> ")) state = "out";
    else if (state === "out" || state === side) out.push(line);
  }
  return out.join("");
}

/**
 * Replaces one line (which must occur once) by `replacement`; `stable` is the new version's text, in
 * which the line and its neighbours (`before` lines above it, one below) must be unchanged, so that the
 * edit is one that merges cleanly. An insertion below a line needs no stable line above it.
 */
function replaceLine(text: string, line: string, replacement: string, stable: string, before = 1): string {
  const lines = text.split("\n");
  const at = lines.indexOf(line);
  if (at < 0 || lines.lastIndexOf(line) !== at) throw new Error(`team edit: ${JSON.stringify(line)} is not once in the file`);
  const window = lines.slice(Math.max(0, at - before), at + 2).join("\n");
  if (stable.split(window).length !== 2) {
    throw new Error(`team edit: the lines around ${JSON.stringify(line)} changed in the new version; choose another place for the edit`);
  }
  return [...lines.slice(0, at), replacement, ...lines.slice(at + 1)].join("\n");
}

function insertAfter(text: string, line: string, added: string, stable: string): string {
  return replaceLine(text, line, `${line}\n${added}`, stable, 0);
}

/**
 * The team's resource: an uploads bucket in every environment's stack, where the stack's comment says
 * to add one (stacks/web-tier-stack.ts), on lines the new version left as they were.
 */
function editStack(text: string, stable: string): string {
  const importLine = 'import { AwsProvider } from "@cdktf/provider-aws/lib/provider";';
  const withImport = insertAfter(text, importLine, 'import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";', stable);
  return insertAfter(
    withImport,
    "    const app = config.appName;",
    [
      "    // Ours: an uploads bucket beside the web tier.",
      '    new S3Bucket(this, "team-uploads", { bucketPrefix: `${app}-uploads-` });',
    ].join("\n"),
    stable,
  );
}

/** The team's CI change: pull requests that only touch docs/ skip CI. */
function editCi(text: string, stable: string): string {
  return insertAfter(text, "  pull_request:", '    paths-ignore: ["docs/**"]', stable);
}

const TEAM_LINE_MARK = "# changed by the team";

/** The team changes a line of install-app.sh that the new version changed too: a clash, whatever the new version says. */
function editInstallScript(text: string, theirs: string): { text: string; line: string } {
  const theirsLines = new Set(theirs.split("\n"));
  const line = text.split("\n").find((l) => /^[a-z]/.test(l) && !theirsLines.has(l));
  if (!line) throw new Error("install-app.sh: no command line that the new version changed");
  return { text: text.replace(`${line}\n`, `${line} ${TEAM_LINE_MARK}\n`), line: `${line} ${TEAM_LINE_MARK}` };
}

describe("upgrade of a 0.1.0 project with the team's changes (git history as the base)", () => {
  let dir: string;
  let fresh: string;
  let before: Record<string, string>;
  let afterDryRun: Record<string, string>;
  let teamConfig: string;
  let teamScript: { text: string; line: string };
  let dryRun: { code: number; stdout: string; stderr: string };
  let result: { code: number; stdout: string; stderr: string };
  let afterUpgrade: Record<string, string>;

  beforeAll(async () => {
    fresh = await generated("debug");
    dir = project010({ git: true });
    writeFileSync(
      join(dir, "stacks/web-tier-stack.ts"),
      editStack(read(dir, "stacks/web-tier-stack.ts"), read(fresh, "stacks/web-tier-stack.ts")),
    );
    writeFileSync(
      join(dir, ".github/workflows/ci.yml"),
      editCi(read(dir, ".github/workflows/ci.yml"), read(fresh, ".github/workflows/ci.yml")),
    );
    teamScript = editInstallScript(read(dir, "packer/scripts/install-app.sh"), read(fresh, "packer/scripts/install-app.sh"));
    writeFileSync(join(dir, "packer/scripts/install-app.sh"), teamScript.text);
    teamConfig = read(dir, "immutable.config.json").replace('"LOG_LEVEL": "info"', '"LOG_LEVEL": "debug"');
    writeFileSync(join(dir, "immutable.config.json"), teamConfig);
    commitAll(dir, "Our changes");
    before = treeSnapshot(dir);
    dryRun = await runCli(["upgrade", "--dry-run"], { cwd: dir });
    afterDryRun = treeSnapshot(dir);
    result = await runCli(["upgrade", "--yes"], { cwd: dir });
    afterUpgrade = treeSnapshot(dir);
  });

  it("--dry-run prints the plan, writes nothing and exits as the upgrade will", () => {
    expect(dryRun.stderr).toBe("");
    expect(dryRun.code).toBe(EXIT_CONFLICTS);
    expect(dryRun.stdout).toMatch(/^Dry run \(create-immutable-app 0\.1\.0 -> \d+\.\d+\.\d+\): nothing is written\./);
    for (const action of ["replace", "merge", "conflict", "add", "migrate", "keep"])
      expect(dryRun.stdout).toMatch(new RegExp(`^  ${action} +\\S`, "m"));
    // The plan is the upgrade's own listing.
    const plan = (text: string): string[] =>
      text.split("\n").filter((l) => /^ {2}(replace|merge|conflict|add|migrate|move-aside|keep) +\S/.test(l));
    expect(afterDryRun).toEqual(before);
    expect(plan(dryRun.stdout)).toEqual(plan(result.stdout));
  });

  it("exits 3 with the clash marked and listed", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(EXIT_CONFLICTS);
    expect(result.stdout).toMatch(
      /^ {2}conflict +packer\/scripts\/install-app\.sh \(1 conflict between your changes and the new version's; base from git [0-9a-f]{7}\)$/m,
    );
    expect(result.stdout).toMatch(/Conflicts remain in 1 file: packer\/scripts\/install-app\.sh\n/);
    const script = read(dir, "packer/scripts/install-app.sh");
    expect(script).toMatch(
      new RegExp(
        `^<<<<<<< ours \\(your project\\)\\n(.*\\n)*?${escapeRegExp(teamScript.line)}\\n(.*\\n)*?\\|\\|\\|\\|\\|\\|\\| base \\(create-immutable-app 0\\.1\\.0\\)\\n(.*\\n)*?=======\\n(.*\\n)*?>>>>>>> theirs \\(create-immutable-app ${escapeRegExp(VERSION)}\\)$`,
        "m",
      ),
    );
    // Everything outside the clash is the new version's; the team's side of it is the team's line.
    expect(resolved(script, "theirs")).toBe(read(fresh, "packer/scripts/install-app.sh"));
    expect(resolved(script, "ours")).toContain(`${teamScript.line}\n`);
    expect(statSync(join(dir, "packer/scripts/install-app.sh")).mode & 0o111).not.toBe(0);
  });

  it("keeps the team's edits and brings the new version's files: merged where both changed a file", () => {
    expect(result.stdout).toMatch(
      /^ {2}merge +stacks\/web-tier-stack\.ts \(your changes and the new version's; base from git [0-9a-f]{7}\)$/m,
    );
    expect(result.stdout).toMatch(/^ {2}merge +\.github\/workflows\/ci\.yml /m);
    expect(read(dir, "stacks/web-tier-stack.ts")).toBe(
      editStack(read(fresh, "stacks/web-tier-stack.ts"), read(fresh, "stacks/web-tier-stack.ts")),
    );
    expect(read(dir, ".github/workflows/ci.yml")).toBe(
      editCi(read(fresh, ".github/workflows/ci.yml"), read(fresh, ".github/workflows/ci.yml")),
    );
    // Every other file this version writes arrives as it is (the machinery, the fixed stacks and image).
    const merged = new Set([
      "stacks/web-tier-stack.ts",
      ".github/workflows/ci.yml",
      "packer/scripts/install-app.sh",
      "immutable.config.json",
      MANIFEST_FILE,
    ]);
    for (const [path, hash] of Object.entries(treeSnapshot(fresh))) {
      if (!merged.has(path)) expect([path, afterUpgrade[path]]).toEqual([path, hash]);
    }
    expect(existsSync(join(dir, "managed/rollout.sh"))).toBe(true);
    expect(statSync(join(dir, "managed/rollout.sh")).mode & 0o111).not.toBe(0);
    expect(read(dir, "stacks/fleet.ts")).not.toMatch(/instanceRefresh\s*:/);
    expect(read(dir, "package.json")).toBe(read(fresh, "package.json"));
  });

  it("migrates $schema in immutable.config.json and leaves every other byte of it alone", () => {
    expect(result.stdout).toContain(
      `  migrate     immutable.config.json ($schema: "./stacks/config.schema.json" -> "./managed/config.schema.json"; every other byte kept)\n`,
    );
    expect(read(dir, "immutable.config.json")).toBe(
      teamConfig.replace('"$schema": "./stacks/config.schema.json"', '"$schema": "./managed/config.schema.json"'),
    );
  });

  it("deletes nothing: the files 0.1.0 wrote and this version does not are kept and listed", () => {
    for (const path of Object.keys(before)) expect([path, existsSync(join(dir, path))]).toEqual([path, true]);
    for (const path of [
      "stacks/config.ts",
      "stacks/config-validation.ts",
      "stacks/names.ts",
      "scripts/export.ts",
      "scripts/pkrvars.ts",
      "packer/files/app.service",
    ]) {
      expect(afterUpgrade[path]).toBe(before[path]);
    }
    expect(result.stdout).toMatch(
      /^ {2}keep +stacks\/config\.ts \(no longer written; kept; safe to delete: untouched since generated; its successor is managed\/config\.ts\)$/m,
    );
    expect(result.stdout).toMatch(
      /^ {2}keep +packer\/files\/app\.service \(no longer written; kept; safe to delete: untouched since generated\)$/m,
    );
    // git holds the team's versions of the merged files: no .orig copies.
    expect(Object.keys(afterUpgrade).filter((p) => /\.orig/.test(p))).toEqual([]);
  });

  it("records this version in the manifest, with what older versions wrote that is still in place", () => {
    const manifest = JSON.parse(read(dir, MANIFEST_FILE));
    const expected = JSON.parse(read(fresh, MANIFEST_FILE));
    expect({ ...manifest, obsolete: undefined }).toEqual({ ...expected, obsolete: undefined });
    expect(manifest.version).toBe(VERSION);
    expect(manifest.obsolete["stacks/config.ts"]).toBe(sha256(FIXTURE.files["stacks/config.ts"].contents));
    expect(Object.keys(manifest.obsolete)).not.toContain("stacks/fleet.ts");
    expect(manifest.files["stacks/web-tier-stack.ts"]).toBe(sha256(read(fresh, "stacks/web-tier-stack.ts")));
  });

  it("run again while the clash is unresolved, writes nothing and says what is left (exit 3); once resolved, changes nothing", async () => {
    const again = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(again.stderr).toBe("");
    expect(again.code).toBe(EXIT_CONFLICTS);
    expect(again.stdout).toContain(`create-immutable-app ${VERSION}: nothing to write`);
    expect(again.stdout).toMatch(
      /^ {2}conflict +packer\/scripts\/install-app\.sh \(the upgrade to [\d.]+ is written; the conflict markers it left are not resolved yet\)$/m,
    );
    expect(again.stdout).toContain("Conflicts remain in 1 file: packer/scripts/install-app.sh\n");
    expect(treeSnapshot(dir)).toEqual(afterUpgrade);
    writeFileSync(join(dir, "packer/scripts/install-app.sh"), resolved(read(dir, "packer/scripts/install-app.sh"), "ours"));
    commitAll(dir, "Upgrade, the clash resolved");
    const resolvedTree = treeSnapshot(dir);
    const third = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(third.stderr).toBe("");
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/already up to date \(\d+ files checked; your changes in 3 of them kept\)/);
    expect(treeSnapshot(dir)).toEqual(resolvedTree);
  });

  describe("the upgraded project", () => {
    beforeAll(() => {
      symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
    });

    it("type-checks (tsc --noEmit), the kept 0.1.0 files included", () => {
      sh(process.execPath, [join(dir, "node_modules", "typescript", "bin", "tsc"), "--noEmit"], dir);
    }, 300_000);

    it("passes its own tests (npm test)", () => {
      const out = sh("npm", ["test"], dir);
      expect(out).toMatch(/^# pass [1-9]\d*$/m);
      expect(out).toMatch(/^# fail 0$/m);
    }, 300_000);

    it("synthesizes (npm run synth) with the team's resource, and terraform plans one stack offline", () => {
      sh("npm", ["run", "synth"], dir);
      const stackDir = join(dir, "cdktf.out", "stacks", "staging");
      const stack = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
      expect(Object.values(stack.resource.aws_autoscaling_group)[0]).not.toHaveProperty("instance_refresh");
      const tf = new TerraformDir(stackDir, writeCliConfig(tempDir("cia-upgrade-tfrc")));
      tf.makeOffline();
      const plan = tf.plan({ ami_id: "ami-0123456789abcdef0" });
      expect(resourcesOf(plan, "aws_s3_bucket").map((b) => b.values.bucket_prefix)).toContain("shop-uploads-");
      expect(resourcesOf(plan, "aws_autoscaling_group")).toHaveLength(1);
      expect(resourcesOf(plan, "aws_autoscaling_group")[0].values.instance_refresh).toEqual([]);
      const logLevel = resourcesOf(plan, "aws_ssm_parameter").find((p) => p.values.name === "/shop/staging/config/LOG_LEVEL");
      expect(logLevel?.values.value).toBe("debug");
    }, 600_000);
  });
});

describe("upgrade of a project this version generated", () => {
  let fresh: string;
  beforeAll(async () => {
    fresh = await generated("info");
  });

  it("has a manifest: the version, the options, and the sha256 of every file but the config and itself", () => {
    const manifest = JSON.parse(read(fresh, MANIFEST_FILE));
    expect(read(fresh, MANIFEST_FILE)).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
    expect(manifest).toMatchObject({
      generator: "create-immutable-app",
      version: VERSION,
      options: { dockerfile: false, packageManager: "npm" },
    });
    const files = Object.keys(treeSnapshot(fresh)).filter((p) => statSync(join(fresh, p)).isFile());
    expect(Object.keys(manifest.files).sort()).toEqual(files.filter((p) => p !== "immutable.config.json" && p !== MANIFEST_FILE).sort());
    for (const [path, hash] of Object.entries(manifest.files))
      expect([path, sha256(readFileSync(join(fresh, path)))]).toEqual([path, hash]);
  });

  it("is a no-op: exit 0, nothing written", async () => {
    const tree = treeSnapshot(fresh);
    const r = await runCli(["upgrade"], { cwd: fresh });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^create-immutable-app ${escapeRegExp(VERSION)}: already up to date \\(\\d+ files checked\\)\\.\\n$`),
    );
    expect(treeSnapshot(fresh)).toEqual(tree);
  });

  /** Files an older version (0.1.9) wrote that this one no longer does. */
  const OBSOLETE_FILES: Record<string, string> = {
    "stacks/fleet.ts": "// the fleet an older version wrote\nexport const OLD_FLEET = true;\n",
    "stacks/legacy.ts": 'import { OLD_FLEET } from "./fleet";\nexport const legacy = OLD_FLEET;\n',
  };

  /** A copy of the fresh project as 0.1.9 left it: with `files`, recorded in its manifest. */
  function projectOf09(prefix: string, files: Record<string, string>): string {
    const dir = join(tempDir(prefix), "shop");
    cpSync(fresh, dir, { recursive: true });
    for (const [path, contents] of Object.entries(files)) writeFileSync(join(dir, path), contents);
    const manifest = JSON.parse(read(dir, MANIFEST_FILE));
    manifest.version = "0.1.9";
    for (const [path, contents] of Object.entries(files)) manifest.files[path] = sha256(contents);
    writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return dir;
  }

  it("moves aside only an untouched obsolete file that jest would run or that imports a rewritten file", async () => {
    const files: Record<string, string> = {
      ...OBSOLETE_FILES,
      "__tests__/legacy.test.ts": 'it("an older version\'s test", () => undefined);\n',
      "stacks/notes.md": "an older version's notes\n",
    };
    const dir = projectOf09("cia-upgrade-aside", files);
    const r = await runCli(["upgrade", "--yes"], { cwd: dir, git: notInstalled });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}replace +stacks\/fleet\.ts \(untouched since generated\)$/m);
    expect(r.stdout).toContain(
      "  move-aside  stacks/legacy.ts (no longer written; untouched since generated; moved aside to stacks/legacy.ts.orig-0.1.9: it imports stacks/fleet.ts, which the new version rewrote; safe to delete)\n",
    );
    expect(r.stdout).toContain(
      "  move-aside  __tests__/legacy.test.ts (no longer written; untouched since generated; moved aside to __tests__/legacy.test.ts.orig-0.1.9: a tool still loads it by its name; safe to delete)\n",
    );
    expect(r.stdout).toContain("  keep        stacks/notes.md (no longer written; kept; safe to delete: untouched since generated)\n");
    expect(existsSync(join(dir, "stacks/legacy.ts"))).toBe(false);
    expect(read(dir, "stacks/legacy.ts.orig-0.1.9")).toBe(files["stacks/legacy.ts"]);
    expect(read(dir, "__tests__/legacy.test.ts.orig-0.1.9")).toBe(files["__tests__/legacy.test.ts"]);
    expect(read(dir, "stacks/fleet.ts")).toBe(read(fresh, "stacks/fleet.ts"));
    expect(JSON.parse(read(dir, MANIFEST_FILE))).toEqual({
      ...JSON.parse(read(fresh, MANIFEST_FILE)),
      obsolete: { "stacks/notes.md": sha256(files["stacks/notes.md"]) },
    });
  });

  it("finishes a move aside that a killed run linked but did not unlink (both names, the same bytes)", async () => {
    const files = OBSOLETE_FILES;
    const dir = projectOf09("cia-upgrade-aside-killed", files);
    // The killed run's link(2), without its unlink(2).
    linkSync(join(dir, "stacks/legacy.ts"), join(dir, "stacks/legacy.ts.orig-0.1.9"));
    const r = await runCli(["upgrade", "--yes"], { cwd: dir, git: notInstalled });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "stacks/legacy.ts"))).toBe(false);
    expect(read(dir, "stacks/legacy.ts.orig-0.1.9")).toBe(files["stacks/legacy.ts"]);
  });
});

const notInstalled: GitFn = async () => ({ code: null, stdout: Buffer.alloc(0), stderr: "spawn git ENOENT" });

describe("upgrade of a 0.1.0 project without git (and so without a base)", () => {
  let dir: string;
  let fresh: string;
  let before: Record<string, string>;
  let teamStack: string;
  let result: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    fresh = await generated("info");
    dir = project010({ git: false });
    teamStack = editStack(read(dir, "stacks/web-tier-stack.ts"), read(fresh, "stacks/web-tier-stack.ts"));
    writeFileSync(join(dir, "stacks/web-tier-stack.ts"), teamStack);
    before = treeSnapshot(dir);
  });

  it("a read-only project: exit 1, nothing written", async () => {
    chmodSync(dir, 0o555);
    try {
      const r = await runCli(["upgrade", "--yes"], { cwd: dir, git: notInstalled });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/is read-only .*nothing was written/);
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it("replaces what the 0.1.0 table proves untouched, marks every differing hunk elsewhere, keeps backups", async () => {
    result = await runCli(["upgrade", "--yes"], { cwd: dir, git: notInstalled });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(EXIT_CONFLICTS);
    expect(result.stdout).toContain(
      "No base for the files you changed (git is not installed): where both sides changed a file, every differing hunk is marked.\n",
    );
    expect(result.stdout).toMatch(/^ {2}replace +stacks\/fleet\.ts \(untouched since generated\)$/m);
    expect(read(dir, "stacks/fleet.ts")).toBe(read(fresh, "stacks/fleet.ts"));
    // The team's stack file and the files 0.1.0 rendered from the answers: no base, so both sides, marked.
    for (const path of ["stacks/web-tier-stack.ts", "README.md", "package.json"]) {
      const why = path === "stacks/web-tier-stack.ts" ? "changed, and no base to merge with" : "no record of what 0.1.0 wrote here";
      expect(result.stdout).toMatch(
        new RegExp(
          `^  conflict +${escapeRegExp(path)} \\(${why} \\(no git history of what was generated\\): every differing hunk marked\\)$`,
          "m",
        ),
      );
      const text = read(dir, path);
      expect(text).toMatch(/^<<<<<<< ours \(your project\)$/m);
      expect(text).not.toMatch(/^\|\|\|\|\|\|\| /m);
      const ours = path === "stacks/web-tier-stack.ts" ? teamStack : FIXTURE.files[path].contents;
      expect(resolved(text, "ours")).toBe(ours);
      expect(resolved(text, "theirs")).toBe(read(fresh, path));
      expect(read(dir, `${path}.orig`)).toBe(ours);
    }
    expect(result.stdout).toContain(
      "Your version of stacks/web-tier-stack.ts is kept as stacks/web-tier-stack.ts.orig (it is not in git HEAD).\n",
    );
    for (const path of Object.keys(before)) expect([path, existsSync(join(dir, path))]).toEqual([path, true]);
  });
});

describe("upgrade with a config this version refuses", () => {
  it("exits 2 naming each field, with the generator's messages, and writes nothing", async () => {
    const dir = project010({ git: true });
    const config = JSON.parse(read(dir, "immutable.config.json"));
    config.appName = "ssmshop";
    config.environments[1].name = "bootstrap";
    writeFileSync(join(dir, "immutable.config.json"), `${JSON.stringify(config, null, 2)}\n`);
    const tree = treeSnapshot(dir);
    const r = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`immutable\\.config\\.json is not valid for create-immutable-app ${escapeRegExp(VERSION)}; nothing was written`),
    );
    expect(r.stderr).toMatch(/^ {2}- immutable\.config\.json: appName: "ssmshop" starts with aws or ssm/m);
    expect(r.stderr).toMatch(/^ {2}- immutable\.config\.json: environments\[1\]\.name: /m);
    expect(treeSnapshot(dir)).toEqual(tree);
    // The generator says the same of the same file given as answers.
    const gen = await runCli(["--yes", "--no-install", "--no-git", "--config-file", join(dir, "immutable.config.json")], {
      cwd: tempDir("cia-upgrade-gen"),
    });
    expect(gen.code).toBe(2);
    const messages = (text: string, subject: string): string[] =>
      text
        .split("\n")
        .filter((l) => l.startsWith(`  - ${subject}: `))
        .map((l) => l.slice(`  - ${subject}: `.length))
        .sort();
    expect(messages(r.stderr, "immutable.config.json")).toEqual(
      messages(gen.stderr, `--config-file ${join(dir, "immutable.config.json")}`),
    );
  });
});

describe("upgrade's command line", () => {
  it("--help prints the help, which documents exactly the upgrade flags", async () => {
    const r = await runCli(["upgrade", "--help"], { cwd: tempDir("cia-upgrade-help") });
    expect(r.code).toBe(0);
    const usage = packageSources().help.usage;
    expect(r.stdout).toBe(usage);
    const section = usage.slice(usage.indexOf("Upgrade ("), usage.indexOf("\n\n", usage.indexOf("Upgrade (")));
    const documented = new Set([...section.matchAll(/(?:^|\s)--([a-z][a-z-]*)/g)].map((m) => m[1]));
    expect([...documented].sort()).toEqual([...UPGRADE_FLAGS].sort());
  });

  it.each([
    [["--name", "x"], "--name: is not an option of upgrade, which takes only --dry-run, --yes, --restore and --help"],
    [["--dryrun"], "--dryrun: is not an option of upgrade (did you mean --dry-run?)"],
    [["somewhere"], "somewhere: upgrade takes no directory"],
    [["--yes", "-y"], "--yes: is given more than once"],
  ])("refuses %j (exit 2, the flag named)", async (args, message) => {
    const r = await runCli(["upgrade", ...args], { cwd: tempDir("cia-upgrade-args") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("outside a project: exit 2, it says what is missing", async () => {
    const r = await runCli(["upgrade"], { cwd: tempDir("cia-upgrade-empty") });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no immutable\.config\.json: run upgrade in the root directory of a project/);
  });

  it("refuses a project whose manifest is gone (exit 2): without it only a 0.1.0 project is recognized", async () => {
    const dir = await generated("info");
    rmSync(join(dir, MANIFEST_FILE));
    const tree = treeSnapshot(dir);
    const r = await runCli(["upgrade"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${MANIFEST_FILE}: is missing, and this is not a project create-immutable-app 0.1.0 generated`);
    expect(treeSnapshot(dir)).toEqual(tree);
  });

  it("on a terminal asks before writing (no: exit 130, nothing written); --yes does not ask", async () => {
    const dir = project010({ git: true });
    const tree = treeSnapshot(dir);
    const log: PromptLog[] = [];
    const no = await runCli(["upgrade"], { cwd: dir, prompter: scriptedPrompter([false], log) });
    expect(log.map((q) => q.message)).toEqual(["Apply the upgrade?"]);
    expect(no.code).toBe(130);
    expect(treeSnapshot(dir)).toEqual(tree);
    const yes = await runCli(["upgrade", "--yes"], { cwd: dir, prompter: scriptedPrompter([]) });
    expect(yes.code).toBe(0);
    expect(treeSnapshot(dir)).not.toEqual(tree);
  });
});

describe("the pieces", () => {
  it("0.1.0's table matches what 0.1.0 generated (the fixture)", () => {
    for (const [path, hash] of Object.entries(RELEASE_0_1_0.fixed)) {
      if (RELEASE_0_1_0.dockerfileOnly.includes(path)) continue;
      expect([path, sha256(FIXTURE.files[path].contents)]).toEqual([path, hash]);
    }
    const rendered = RELEASE_0_1_0.rendered.filter((p) => !RELEASE_0_1_0.dockerfileOnly.includes(p)).map((p) => p.replace("{app}", "shop"));
    expect(
      [
        ...Object.keys(RELEASE_0_1_0.fixed).filter((p) => !RELEASE_0_1_0.dockerfileOnly.includes(p)),
        ...rendered,
        "immutable.config.json",
      ].sort(),
    ).toEqual(Object.keys(FIXTURE.files).sort());
    expect(JSON.parse(FIXTURE.files["immutable.config.json"].contents).$schema).toBe(RELEASE_0_1_0.schemaRef);
  });

  it("the files 0.1.0 no longer has written import only each other (so keeping them keeps tsc green)", () => {
    const obsolete = Object.keys(FIXTURE.files).filter(
      (p) => p.startsWith("stacks/") && p.endsWith(".ts") && !packageSources().copied.has(p),
    );
    expect(obsolete.length).toBeGreaterThan(5);
    for (const path of obsolete) {
      for (const m of FIXTURE.files[path].contents.matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
        expect([path, obsolete.includes(join(dirname(path), `${m[1]}.ts`))]).toEqual([path, true]);
      }
    }
  });

  it("merge3: changes on different lines merge; identical changes once; a clash as git merge-file --diff3 writes it", () => {
    expect(merge3("a\nb\nc\nd\ne\n", "a\nB\nc\nd\ne\n", "a\nb\nc\nD\ne\n", LABELS)).toEqual({ text: "a\nB\nc\nD\ne\n", conflicts: 0 });
    expect(merge3("a\nb\nc\n", "a\nX\nc\n", "a\nX\nc\n", LABELS)).toEqual({ text: "a\nX\nc\n", conflicts: 0 });
    expect(merge3("a\nb\n", "a\nb\nours\n", "a\nb\n", LABELS)).toEqual({ text: "a\nb\nours\n", conflicts: 0 });
    const cases: Array<[string, string, string]> = [
      ["1\n2\n3\n", "1\nX\n3\n", "1\nY\n3\n"],
      ["a\nb\nc\nd\n", "a\nb\nmine\nc\nd\n", "a\nb\ntheirs\nc\nd\n"],
      ["keep\nold\nkeep\n", "keep\nkeep\n", "keep\nnew\nkeep\n"],
      ["x\n", "x\ny", "x\nz"],
    ];
    const tmp = tempDir("cia-merge");
    for (const [base, ours, theirs] of cases) {
      writeFileSync(join(tmp, "ours"), ours);
      writeFileSync(join(tmp, "base"), base);
      writeFileSync(join(tmp, "theirs"), theirs);
      const r = spawnSync(
        "git",
        ["merge-file", "-p", "--diff3", "-L", LABELS.ours, "-L", LABELS.base, "-L", LABELS.theirs, "ours", "base", "theirs"],
        { cwd: tmp, encoding: "utf8" },
      );
      const ourMerge = merge3(base, ours, theirs, LABELS);
      expect(ourMerge.conflicts).toBe(r.status);
      expect(ourMerge.text).toBe(r.stdout);
    }
  });

  it("merge2 and merge3 lose nothing: resolving every block to one side gives that side back", () => {
    const lines = fc.array(fc.constantFrom("a\n", "b\n", "c\n", "d\n", "<x>\n"), { maxLength: 12 }).map((l) => l.join(""));
    fc.assert(
      fc.property(lines, lines, (ours, theirs) => {
        const r = merge2(ours, theirs, LABELS);
        return resolved(r.text, "ours") === ours && resolved(r.text, "theirs") === theirs && (r.conflicts === 0) === (ours === theirs);
      }),
    );
    fc.assert(
      fc.property(
        lines,
        lines,
        (base, ours) => merge3(base, ours, base, LABELS).text === ours && merge3(base, base, ours, LABELS).text === ours,
      ),
    );
    fc.assert(
      fc.property(lines, lines, lines, (base, ours, theirs) => {
        const r = merge3(base, ours, theirs, LABELS);
        return r.conflicts > 0 || !r.text.includes("<<<<<<< ");
      }),
    );
  });

  it("planUpgrade: a team's own file at a path the new version now writes is marked, never replaced", () => {
    const planned = planUpgrade({
      from: "0.1.0",
      to: VERSION,
      theirs: new Map([["stacks/waf.ts", { contents: "new\n" }]]),
      previous: new Map(),
      current: new Map([["stacks/waf.ts", Buffer.from("ours\n")]]),
      bases: new Map(),
      recoverable: () => false,
    });
    expect(planned).toEqual([expect.objectContaining({ path: "stacks/waf.ts", action: "conflict", backup: true })]);
    expect(resolved(planned[0].file!.contents.toString(), "ours")).toBe("ours\n");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function sh(command: string, args: string[], cwd: string): string {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${r.status}) in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}
