/**
 * Issue 23, point 11: the steps after the write, with the real programs, on a machine that lacks what
 * they need. No git identity: no false failure and no suggested command that fails the same way; a
 * package manager that is not installed: no "finished in 0.0s", the one step that gets it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INITIAL_COMMIT } from "../generators/post-steps";
import { RELEASE_0_1_0 } from "../generators/releases";
import { ensureCliBuilt, runBin } from "./support/cli";
import { tempDir } from "./support/terraform";

beforeAll(() => ensureCliBuilt());

/** git with no identity anywhere: no global or system config, and no guessing from the machine's names. */
function noIdentityEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: join(home, ".gitconfig") };
  for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"]) delete env[k];
  return { ...env, GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "user.useConfigOnly", GIT_CONFIG_VALUE_0: "true" };
}

describe("no git identity", () => {
  it("makes the repository, stages the files, says why there is no commit, exits 0; the suggested commands then work", () => {
    const cwd = tempDir("cia-no-ident");
    const home = tempDir("cia-no-ident-home");
    writeFileSync(join(home, ".gitconfig"), "");
    const env = noIdentityEnv(home);
    const r = runBin(["shop", "--yes", "--no-install", "--git"], { cwd, env });
    expect(r.stderr).toContain(
      "No initial commit: git does not know who you are (user.name and user.email are not set), so no commit was made; the files are staged.",
    );
    expect(r.stderr).not.toContain("failed");
    expect(r.status).toBe(0);
    const project = join(cwd, "shop");
    expect(spawnSync("git", ["rev-parse", "-q", "--verify", "HEAD"], { cwd: project, env }).status).not.toBe(0);
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: project, env, encoding: "utf8" })).toMatch(/^A {2}package\.json$/m);
    const steps = /To finish by hand:\n((?: {2}.*\n)+)/
      .exec(r.stdout)?.[1]
      .split("\n")
      .filter(Boolean)
      .map((l) => l.trim());
    expect(steps).toEqual([
      "cd shop",
      `git config --global user.name "Your Name" && git config --global user.email you@example.com && git commit -q -m "${INITIAL_COMMIT}"`,
    ]);
    expect(r.stdout).toContain("Next steps:");
    // The user runs what was suggested (the global config is this test's own file): the commit upgrade looks for.
    execFileSync("sh", ["-c", steps!.join(" && ")], { cwd, env });
    expect(execFileSync("git", ["log", "--format=%s"], { cwd: project, env, encoding: "utf8" }).trim()).toBe(RELEASE_0_1_0.initialCommit);
  });
});

describe("a package manager that is not installed", () => {
  it("--use-pnpm without pnpm: the install failed, not finished; pnpm is named missing with the command that gets it", () => {
    const cwd = tempDir("cia-no-pnpm");
    const bin = join(tempDir("cia-no-pnpm-path"), "bin");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    const r = runBin(["shop", "--yes", "--install", "--no-git", "--use-pnpm"], { cwd, env: { PATH: bin } });
    expect(r.stdout).not.toContain("finished in");
    expect(r.stdout).toMatch(/Installing dependencies \(pnpm install\): failed after/);
    expect(r.stderr).toContain("pnpm is not installed (not found on the PATH); get it with: corepack enable pnpm");
    expect(r.stdout).toMatch(/To finish by hand:\n {2}cd shop\n {2}corepack enable pnpm && pnpm install\n/);
    expect(r.status).toBe(1);
  });
});
