/**
 * The one path with a real `npm install` (from the npm registry, ~30-60 s): the CLI's own --install
 * step in a generated project, then the project's npm scripts with what it installed. Runs in every
 * `npm test` and CI; set CREATE_IMMUTABLE_APP_SKIP_INSTALL_TEST=1 to skip it offline.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./support/terraform";
import { ensureCliBuilt, runBin } from "./support/cli";

const skip = process.env.CREATE_IMMUTABLE_APP_SKIP_INSTALL_TEST === "1";

(skip ? describe.skip : describe)("a generated project with a real npm install", () => {
  let project: string;
  let output: string;
  beforeAll(() => {
    ensureCliBuilt();
    const root = tempDir("cia-install");
    const r = runBin(["shop", "--yes", "--install", "--no-git"], { cwd: root, timeout: 600_000 });
    output = r.stdout + r.stderr;
    if (r.status !== 0) throw new Error(`create-immutable-app --install failed (${r.status}):\n${output}`);
    project = join(root, "shop");
  }, 600_000);

  it("installs with a progress display and a lockfile", () => {
    expect(output).toMatch(/Installing dependencies \(npm install\): finished in/);
    expect(existsSync(join(project, "package-lock.json"))).toBe(true);
    const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/cdktf"].version).toBe("0.21.0");
    expect(output).not.toMatch(/^ {2}npm install/m);
  });

  it("builds, tests and synthesizes with its own node_modules", () => {
    for (const script of ["build", "test", "synth"]) {
      const r = spawnSync("npm", ["run", script], {
        cwd: project,
        encoding: "utf8",
        env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" },
      });
      if (r.status !== 0) throw new Error(`npm run ${script} failed:\n${r.stdout}\n${r.stderr}`);
    }
    expect(existsSync(join(project, "cdktf.out", "stacks", "production", "cdk.tf.json"))).toBe(true);
  }, 300_000);
});
