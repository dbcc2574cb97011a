/**
 * A 0.1.0 project for the upgrade tests: the fixture (what 0.1.0 wrote for its command), on disk with
 * its modes, and with git committed as 0.1.0's git step did; git run with a fixed identity and no
 * user or system config.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { RELEASE_0_1_0 } from "../../generators/releases";
import { tempDir } from "./terraform";

export interface Fixture {
  readonly command: string;
  readonly files: Readonly<Record<string, { readonly mode: string; readonly contents: string }>>;
}
export const FIXTURE: Fixture = JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "project-0.1.0.json"), "utf8"));

export const GIT_ENV = {
  GIT_AUTHOR_NAME: "Team",
  GIT_AUTHOR_EMAIL: "team@example.com",
  GIT_COMMITTER_NAME: "Team",
  GIT_COMMITTER_EMAIL: "team@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: "utf8" });
}

export function commitAll(dir: string, message: string): void {
  git(dir, "add", "-A");
  git(dir, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message);
}

/** The fixture in `dir` (default: a new temp dir's shop/), as 0.1.0 wrote it; with git, committed as 0.1.0's git step did. */
export function project010(options: { git: boolean; dir?: string }): string {
  const dir = options.dir ?? join(tempDir("cia-upgrade"), "shop");
  for (const [path, file] of Object.entries(FIXTURE.files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), file.contents);
    chmodSync(join(dir, path), parseInt(file.mode, 8));
  }
  if (options.git) {
    git(dir, "-c", "init.defaultBranch=main", "init", "-q");
    commitAll(dir, RELEASE_0_1_0.initialCommit);
  }
  return dir;
}
