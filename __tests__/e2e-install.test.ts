/**
 * The one path with a real `npm install` (from the npm registry, ~30-60 s): the CLI's own --install
 * step in a generated project, then the project's npm scripts with what it installed. Runs in every
 * `npm test` and CI; set CREATE_IMMUTABLE_APP_SKIP_INSTALL_TEST=1 to skip it offline.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
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

  it("installs no cdktf-cli and no test framework, and runs synth and the CI scripts with the production install alone", () => {
    const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8"));
    const installed = Object.keys(lock.packages).map((path) => path.replace(/^.*node_modules\//, ""));
    for (const name of ["cdktf-cli", "jest", "ts-jest", "@swc/core", "ts-node", "@cdktf/node-pty-prebuilt-multiarch"]) {
      expect({ name, installed: installed.includes(name) }).toEqual({ name, installed: false });
    }
    // What CI's deploy, drift and prune jobs run after `npm ci --omit=dev`.
    const run = (command: string, args: string[]) => {
      const r = spawnSync(command, args, { cwd: project, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" } });
      return { status: r.status, output: r.stdout + r.stderr };
    };
    const ci = run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund"]);
    if (ci.status !== 0) throw new Error(`npm ci --omit=dev failed:\n${ci.output}`);
    expect(existsSync(join(project, "node_modules", "typescript"))).toBe(false);
    rmSync(join(project, "cdktf.out"), { recursive: true, force: true });
    const synth = run("npm", ["run", "synth"]);
    if (synth.status !== 0) throw new Error(`npm run synth failed after npm ci --omit=dev:\n${synth.output}`);
    expect(existsSync(join(project, "cdktf.out", "stacks", "staging", "cdk.tf.json"))).toBe(true);
    // The scripts load (their usage needs every import resolved): deploy, bootstrap, prune, security.
    for (const script of ["deploy", "bootstrap", "images:prune", "security"]) {
      const r = run("npm", ["run", script, "--", "--help"]);
      expect({ script, status: r.status, usage: /Usage:/.test(r.output) }).toEqual({ script, status: 0, usage: true });
    }
  }, 300_000);
});
