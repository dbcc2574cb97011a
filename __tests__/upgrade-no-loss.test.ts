/**
 * Issue 23, points 1-5, 7 and 8: upgrade loses nothing and misreports nothing, on a 0.1.0 project
 * (the fixture, committed with git) with a team's changes:
 * 1. in a folder that is a mount point (tmpfs) whose parent is read-only (a read-only bind mount);
 * 2. a directory the upgrade may not write (read-only mount; owned by another user, run as a non-root
 *    user): refused before anything is written; a failure partway names what was written and the next
 *    run finishes it;
 * 3. a Windows checkout (core.autocrlf=true): the same plan as with LF, CRLF kept;
 * 4. a workflow the team deleted stays deleted, is said once, and --restore brings it back;
 * 5. SIGKILL at each write step (the real bin), then a plain re-run: the same tree and exit as a run
 *    that was never interrupted, nothing to resolve twice;
 * 7. SIGINT during the write: the message and exit 130, every time;
 * 8. package.json merged key by key; a read-only file stays read-only, and is reported.
 * Mounts and the extra user need root (as CI runs); without root these tests fail rather than pass unseen.
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT_CANCELLED, EXIT_CONFLICTS } from "../generators/errors";
import { JOURNAL_FILE, MANIFEST_FILE } from "../generators/manifest";
import { readSources } from "../generators/package-files";
import { BIN, ensureCliBuilt, packageSources, REPO, runCli, treeSnapshot } from "./support/cli";
import { tempDir } from "./support/terraform";
import { commitAll, git, project010 } from "./support/upgrade-project";

const VERSION = packageSources().packageJson.version;

/** Without the project's .git (git's own files are not the project's). */
function projectTree(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(treeSnapshot(dir)).filter(([path]) => path !== ".git" && !path.startsWith(".git/")));
}

/**
 * A copy of the built package (what `npm pack` ships, node_modules linked), so that the runs of one test
 * render the same files even while this checkout's stacks/ and managed/ are being edited.
 */
function frozenPackage(): string {
  ensureCliBuilt();
  const root = join(tempDir("cia-frozen"), "create-immutable-app");
  for (const entry of ["package.json", "bin", "dist", "stacks", "managed", "packer", "templates", "help", "main.ts", "cdktf.json"]) {
    cpSync(join(REPO, entry), join(root, entry), { recursive: true });
  }
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
  return join(root, "bin", "create-immutable-app.js");
}

function runFrozen(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8"));

/**
 * The team's changes: a dependency in package.json (the new version changes package.json too), a line
 * in install-app.sh (which the new version changes: a conflict), committed; and an uncommitted edit of
 * the README (so the upgrade keeps a backup of it).
 */
function teamProject(dir?: string): string {
  const project = project010({ git: true, dir });
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  pkg.dependencies = { ...pkg.dependencies, "left-pad": "1.3.0" };
  writeFileSync(join(project, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  const script = join(project, "packer/scripts/install-app.sh");
  writeFileSync(script, readFileSync(script, "utf8").replace(/\n(?=[a-z])/, "\n# the team's note\n"));
  commitAll(project, "team changes");
  writeFileSync(join(project, "README.md"), `${readFileSync(join(project, "README.md"), "utf8")}\nOur own notes.\n`);
  return project;
}

function mount(args: string[]): void {
  execFileSync("mount", args, { stdio: "pipe" });
}
const mounted: string[] = [];
afterAll(() => {
  for (const m of mounted.reverse()) spawnSync("umount", ["-l", m]);
});

/** A tmpfs at `dir` (a mount point, as a container's bind mount is). */
function tmpfsAt(dir: string): void {
  mkdirSync(dir, { recursive: true });
  mount(["-t", "tmpfs", "-o", "size=64m", "tmpfs", dir]);
  mounted.push(dir);
}

/** `dir` made read-only for everyone, root included (EROFS), by a read-only bind mount onto itself. */
function readOnly(dir: string): void {
  mount(["--bind", dir, dir]);
  mounted.push(dir);
  mount(["-o", "remount,bind,ro", dir]);
}

describe("1. a project folder that is a mount point, its parent read-only", () => {
  it("upgrades: every move stays on the mount's own device, nothing is written beside it", async () => {
    const parent = join(tempDir("cia-mount"), "parent");
    const dir = join(parent, "shop");
    mkdirSync(dir, { recursive: true });
    readOnly(parent);
    tmpfsAt(dir);
    teamProject(dir);
    const r = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(EXIT_CONFLICTS);
    expect(manifestOf(dir).version).toBe(VERSION);
    expect(existsSync(join(dir, "managed", "config.ts"))).toBe(true);
    expect(Object.keys(projectTree(dir)).filter((p) => p.includes(".create-immutable-app-"))).toEqual([]);
  });

  it("generates into it (empty), and with --force into it when it is not empty", async () => {
    const parent = join(tempDir("cia-mount-gen"), "parent");
    const dir = join(parent, "app");
    mkdirSync(dir, { recursive: true });
    readOnly(parent);
    tmpfsAt(dir);
    const r = await runCli([dir, "--yes", "--no-install", "--no-git", "--name", "shop"], { cwd: parent });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "immutable.config.json"))).toBe(true);

    // A writable parent on another device: the temp folder beside it would need a rename across devices.
    const other = join(tempDir("cia-mount-xdev"), "app");
    tmpfsAt(other);
    writeFileSync(join(other, "notes.txt"), "ours\n");
    const forced = await runCli([other, "--yes", "--no-install", "--no-git", "--name", "shop", "--force"], { cwd: tempDir("cia-cwd") });
    expect(forced.stderr).toBe("");
    expect(forced.code).toBe(0);
    expect(readFileSync(join(other, "notes.txt"), "utf8")).toBe("ours\n");
    expect(existsSync(join(other, "package.json"))).toBe(true);
  });
});

describe("2. a directory the upgrade may not write", () => {
  it("read-only (EROFS, even for root): refused before the first change; nothing was written, and it is true", async () => {
    const dir = teamProject();
    readOnly(join(dir, "stacks"));
    const before = projectTree(dir);
    const r = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nothing was written");
    expect(r.stderr).toContain(`${join(dir, "stacks")}: read-only file system`);
    expect(projectTree(dir)).toEqual(before);
  });

  it("owned by another user, the upgrade run as a non-root user: refused, nothing written", () => {
    ensureCliBuilt();
    const user = "cia-upgrade-test";
    if (spawnSync("id", ["-u", user]).status !== 0) execFileSync("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", user]);
    const root = tempDir("cia-other-user");
    chmodSync(root, 0o755);
    const dir = teamProject(join(root, "shop"));
    execFileSync("chown", ["-R", `${user}:${user}`, dir]);
    // managed/ belongs to someone else (root), as a folder shared in a team machine might.
    mkdirSync(join(dir, "managed"));
    execFileSync("chown", ["root:root", join(dir, "managed")]);
    chmodSync(join(dir, "managed"), 0o755);
    const before = projectTree(dir);
    const r = spawnSync("setpriv", ["--reuid", user, "--regid", user, "--clear-groups", process.execPath, BIN, "upgrade", "--yes"], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1" },
      encoding: "utf8",
    });
    expect(r.stderr).toContain(`${join(dir, "managed")}: permission denied`);
    expect(r.stderr).toContain("nothing was written");
    expect(r.status).toBe(1);
    expect(projectTree(dir)).toEqual(before);
  });

  it("a failure partway names exactly what was written; the next run finishes it, as an uninterrupted run would", async () => {
    const reference = teamProject();
    const expected = await runCli(["upgrade", "--yes"], { cwd: reference });
    const dir = teamProject();
    let moved = 0;
    const failed = await runCli(["upgrade", "--yes"], {
      cwd: dir,
      onStep: (step) => {
        if (step.startsWith("file-moved:") && ++moved === 3) {
          throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
        }
      },
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toContain("nothing was written");
    const written = /written: (\d+) of (\d+) files \(([^)]*)\)/.exec(failed.stderr);
    expect(written?.[1]).toBe("3");
    const names = written![3].split(", ");
    expect(names).toHaveLength(3);
    for (const path of names) expect(readFileSync(join(dir, path))).toEqual(readFileSync(join(reference, path)));
    expect(failed.stderr).toMatch(/not written: /);
    expect(failed.stderr).toContain(`${JOURNAL_FILE} records the unfinished write`);
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(true);
    expect(existsSync(join(dir, MANIFEST_FILE))).toBe(false); // 0.1.0 had none: the old version still

    const again = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(again.stderr).toBe("");
    expect(again.stdout).toContain("Finishing an upgrade that was interrupted");
    expect(again.code).toBe(expected.code);
    expect(projectTree(dir)).toEqual(projectTree(reference));
  });
});

describe("3. a Windows checkout (core.autocrlf=true)", () => {
  it("plans as the LF checkout does: only the files the team changed conflict, and each file keeps CRLF", async () => {
    const lf = teamProject();
    const lfPlan = await runCli(["upgrade", "--dry-run"], { cwd: lf });

    const dir = teamProject();
    git(dir, "stash", "-q"); // the checkout is rewritten below: keep the team's uncommitted edit
    git(dir, "config", "core.autocrlf", "true");
    git(dir, "rm", "-q", "-r", "--cached", ".");
    git(dir, "reset", "-q", "--hard");
    git(dir, "stash", "pop", "-q");
    expect(readFileSync(join(dir, "stacks/fleet.ts"), "latin1")).toContain("\r\n");
    const plan = await runCli(["upgrade", "--dry-run"], { cwd: dir });
    const actions = (text: string) =>
      text
        .split("\n")
        .filter((l) => /^ {2}[a-z-]+ +\S/.test(l))
        .map((l) => l.replace(/; CRLF line endings kept/, "").replace(/base from git [0-9a-f]{7}/, "base from git"));
    expect(actions(plan.stdout)).toEqual(actions(lfPlan.stdout));
    expect(plan.code).toBe(lfPlan.code);

    const r = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(r.code).toBe(EXIT_CONFLICTS);
    expect(r.stdout).toMatch(/Conflicts remain in 2 files: README\.md, packer\/scripts\/install-app\.sh\n/);
    for (const path of ["stacks/fleet.ts", "package.json", "packer/scripts/install-app.sh"]) {
      const text = readFileSync(join(dir, path), "latin1");
      expect(text.replace(/\r\n/g, "")).not.toContain("\n");
    }
    // git sees only the new version's changes, not every line of every file.
    const stat = git(dir, "diff", "--numstat", "--", "stacks/fleet.ts");
    const [added] = stat.split("\t").map(Number);
    const lfText = readFileSync(join(lf, "stacks/fleet.ts"), "utf8");
    expect(added).toBeLessThan(lfText.split("\n").length);
  });
});

describe("4. a file the team deleted", () => {
  it("stays deleted: said once, recorded, never a conflict; --restore brings it back", async () => {
    const dir = project010({ git: true });
    git(dir, "rm", "-q", ".github/workflows/drift.yml");
    commitAll(dir, "we do not want drift checks");
    const r = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, ".github/workflows/drift.yml"))).toBe(false);
    expect(r.stdout).toMatch(/^ {2}keep +\.github\/workflows\/drift\.yml \(deleted by you: stays deleted.*--restore/m);
    expect(r.stdout).not.toContain("Resolve each");
    expect(manifestOf(dir).deleted).toEqual([".github/workflows/drift.yml"]);
    expect(manifestOf(dir).files[".github/workflows/drift.yml"]).toBeUndefined();
    commitAll(dir, "upgrade");

    const again = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already up to date");
    expect(again.stdout).not.toContain("drift.yml");

    const bad = await runCli(["upgrade", "--yes", "--restore", "nope.yml"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--restore: nope.yml is not a file create-immutable-app");

    const restored = await runCli(["upgrade", "--yes", "--restore", ".github/workflows/drift.yml"], { cwd: dir });
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^ {2}add +\.github\/workflows\/drift\.yml \(restored \(--restore\)\)/m);
    expect(existsSync(join(dir, ".github/workflows/drift.yml"))).toBe(true);
    expect(manifestOf(dir).deleted).toBeUndefined();
  });
});

describe("5. SIGKILL at each write step, then a plain re-run", () => {
  // One project, committed with the team's changes; each case starts from a copy of it.
  let template: string;
  let bin: string;
  let reference: { tree: Record<string, string>; status: number | null; stdout: string };
  const steps: string[] = [];
  beforeAll(async () => {
    bin = frozenPackage();
    template = teamProject();
    const copy = join(tempDir("cia-kill-ref"), "shop");
    cpSync(template, copy, { recursive: true });
    // The step names of the frozen package's own run (the number of files is the package's).
    await runCli(["upgrade", "--yes"], { cwd: copy, onStep: (s) => steps.push(s), sources: readSources(join(bin, "..", "..")) });
    const fresh = join(tempDir("cia-kill-ref2"), "shop");
    cpSync(template, fresh, { recursive: true });
    const r = runFrozen(bin, ["upgrade", "--yes"], fresh);
    reference = { tree: projectTree(fresh), status: r.status, stdout: r.stdout };
  });

  it("has the write steps to kill at", () => {
    for (const s of ["temp-created", "file-written:1", "files-written", "journal-written", "backups-made", "file-moved:1", "moved"])
      expect(steps).toContain(s);
    expect(reference.status).toBe(EXIT_CONFLICTS);
  });

  // Every kind of step; the numbered ones at the first, second, a middle and the last file (the manifest).
  const chosen = (): string[] => {
    const numbered = (kind: string) => steps.filter((s) => s.startsWith(`${kind}:`));
    const pick = (list: string[]) => [...new Set([list[0], list[1], list[Math.floor(list.length / 2)], list[list.length - 1]])];
    return [...steps.filter((s) => !s.includes(":")), ...pick(numbered("file-written")), ...pick(numbered("file-moved"))];
  };

  it("ends, at every one of them, with the tree and the exit of a run never interrupted", () => {
    const problems: string[] = [];
    for (const step of chosen()) {
      const dir = join(tempDir("cia-kill"), "shop");
      cpSync(template, dir, { recursive: true });
      const killed = runFrozen(bin, ["upgrade", "--yes"], dir, { CREATE_IMMUTABLE_APP_CRASH_AT: step });
      if (killed.signal !== "SIGKILL") problems.push(`${step}: not killed (${killed.status}): ${killed.stderr}`);
      const again = runFrozen(bin, ["upgrade", "--yes"], dir);
      if (again.stderr.includes("conflicts of an earlier upgrade")) problems.push(`${step}: re-run refused`);
      if (again.status !== reference.status) problems.push(`${step}: re-run exit ${again.status}: ${again.stderr}`);
      const tree = projectTree(dir);
      const diff = [...new Set([...Object.keys(tree), ...Object.keys(reference.tree)])].filter((p) => tree[p] !== reference.tree[p]);
      if (diff.length > 0) problems.push(`${step}: differs in ${diff.join(", ")}`);
      const conflicts = /Conflicts remain in .*\n/.exec(again.stdout)?.[0];
      if (conflicts !== /Conflicts remain in .*\n/.exec(reference.stdout)?.[0]) problems.push(`${step}: re-run reports ${conflicts}`);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(problems).toEqual([]);
  });

  it("two interruptions in a row: the third run still finishes as an uninterrupted one, refusing nothing", () => {
    const moved = steps.filter((s) => s.startsWith("file-moved:"));
    const dir = join(tempDir("cia-kill-twice"), "shop");
    cpSync(template, dir, { recursive: true });
    const first = runFrozen(bin, ["upgrade", "--yes"], dir, { CREATE_IMMUTABLE_APP_CRASH_AT: moved[Math.floor(moved.length / 2)] });
    expect(first.signal).toBe("SIGKILL");
    // The second run's journal must keep what the first wrote.
    const second = runFrozen(bin, ["upgrade", "--yes"], dir, { CREATE_IMMUTABLE_APP_CRASH_AT: "journal-written" });
    expect(second.signal).toBe("SIGKILL");
    const third = runFrozen(bin, ["upgrade", "--yes"], dir);
    expect(third.stderr).not.toContain("conflicts of an earlier upgrade");
    expect(third.status).toBe(reference.status);
    expect(projectTree(dir)).toEqual(reference.tree);
  });
});

describe("7. SIGINT during the upgrade's write", () => {
  it("says so and exits 130, in 20 runs of 20", async () => {
    ensureCliBuilt();
    const template = teamProject();
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const dir = join(tempDir("cia-sigint"), "shop");
      cpSync(template, dir, { recursive: true });
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, "upgrade", "--yes"], {
          cwd: dir,
          env: { ...process.env, NO_COLOR: "1", CREATE_IMMUTABLE_APP_PAUSE_AT: "file-moved:2", CREATE_IMMUTABLE_APP_PAUSE_MS: "300" },
        });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes("paused at file-moved:2") && !child.killed) child.kill("SIGINT");
        });
        child.stdout.resume();
        child.on("close", (code) => resolve({ code, stderr }));
      });
      outcomes.push(
        result.code === EXIT_CANCELLED &&
          result.stderr.includes("SIGINT arrived during the write; the upgrade was written completely first.")
          ? "ok"
          : `exit ${result.code}: ${result.stderr.slice(-200)}`,
      );
      expect(manifestOf(dir).version).toBe(VERSION);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(outcomes.filter((o) => o !== "ok")).toEqual([]);
  });
});

describe("8. JSON and modes", () => {
  it("merges package.json key by key: the team's dependency and the new version's changes, no conflict", async () => {
    const dir = teamProject();
    const fresh = await runCli(["upgrade", "--dry-run"], { cwd: dir });
    expect(fresh.stdout).toMatch(/^ {2}merge +package\.json \(your changes and the new version's, merged key by key; base from git/m);
    const r = await runCli(["upgrade", "--yes"], { cwd: dir });
    // README.md (both changed its end) and install-app.sh (both changed one line); not package.json.
    expect(r.stdout).toMatch(/Conflicts remain in 2 files: README\.md, packer\/scripts\/install-app\.sh\n/);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const theirs = JSON.parse(readFileSync(join(await generatedShop(), "package.json"), "utf8"));
    expect(pkg.dependencies).toEqual({ ...theirs.dependencies, "left-pad": "1.3.0" });
    expect({ ...pkg, dependencies: undefined }).toEqual({ ...theirs, dependencies: undefined });
  });

  it("a read-only file the upgrade replaces stays read-only, and the upgrade says so", async () => {
    const dir = project010({ git: true });
    chmodSync(join(dir, "stacks/fleet.ts"), 0o444);
    const r = await runCli(["upgrade", "--yes"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(statSync(join(dir, "stacks/fleet.ts")).mode & 0o777).toBe(0o444);
    expect(r.stdout).toContain("stacks/fleet.ts: mode 444 kept (read-only).");
  });
});

/** What this version writes for the fixture's answers: the generator's own output. */
async function generatedShop(): Promise<string> {
  const cwd = tempDir("cia-no-loss-fresh");
  const r = await runCli(
    ["shop", "--yes", "--no-install", "--no-git", "--region", "eu-west-1", "--config", "LOG_LEVEL=info", "--secret", "DATABASE_PASSWORD"],
    {
      cwd,
    },
  );
  if (r.code !== 0) throw new Error(r.stderr);
  unlinkSync(join(cwd, "shop", MANIFEST_FILE));
  return join(cwd, "shop");
}
