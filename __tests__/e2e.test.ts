/**
 * End to end, as a new user: the built CLI scaffolds into a temp dir with --yes, then the generated
 * project's own type-check and tests (npm test) and `cdktf synth` (the repository's cdktf-cli, which
 * runs cdktf.json's app: managed/run.js) run, terraform init + validate + offline plan
 * each environment against the provider mirror, and Packer checks the image folder.
 * The project borrows this repository's node_modules (a symlink) instead of installing;
 * e2e-install.test.ts covers a real `npm install`.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { resourcesOf, tempDir, TerraformDir, writeCliConfig } from "./support/terraform";
import { cdktfCommand } from "../generators/package-manager";
import { ensureCliBuilt, REPO, runBin } from "./support/cli";

function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${r.status}) in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

describe("a project generated with --yes", () => {
  let root: string;
  let project: string;
  beforeAll(() => {
    ensureCliBuilt();
    root = tempDir("cia-e2e");
    const started = process.hrtime.bigint();
    const r = runBin(
      ["demo-app", "--yes", "--no-install", "--no-git", "--config", "GREETING=Hello ${name}, 100%", "--secret", "DATABASE_PASSWORD"],
      { cwd: root },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`scaffold failed: ${r.stderr}`);
    // Reported, not asserted: the scaffold time of a whole process (node start included).
    process.stdout.write(`scaffold (process wall time, no install): ${ms.toFixed(0)} ms\n`);
    project = join(root, "demo-app");
    symlinkSync(join(REPO, "node_modules"), join(project, "node_modules"), "dir");
  });

  it("type-checks and passes its own tests (npm test: tsc --noEmit, then node:test)", () => {
    const out = sh("npm", ["test"], project);
    // node:test's summary (TAP when not on a terminal): some tests, all passed.
    expect(out).toMatch(/^# pass [1-9]\d*$/m);
    expect(out).toMatch(/^# fail 0$/m);
  });

  describe("synthesized with the real cdktf CLI, by the on-demand command the README gives", () => {
    beforeAll(() => {
      // npx --yes --package=cdktf-cli@0.21.0 cdktf synth: here the repository's cdktf-cli 0.21.0 (the
      // linked node_modules) satisfies the spec, so nothing is downloaded; e2e-install has none.
      const [command, ...args] = cdktfCommand("npm", "synth").split(" ");
      expect(command).toBe("npx");
      sh(command, args, project);
    });

    it.each(["staging", "production"])("%s: terraform init + validate + offline plan against the mirror", (env) => {
      const stackDir = join(project, "cdktf.out", "stacks", env);
      const stack = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
      expect(JSON.stringify(stack)).not.toContain(root);
      const tf = new TerraformDir(stackDir, writeCliConfig(tempDir("cia-e2e-tfrc")));
      tf.makeOffline();
      const plan = tf.plan({ ami_id: "ami-0123456789abcdef0" });
      expect(resourcesOf(plan, "aws_autoscaling_group")).toHaveLength(1);
      expect(resourcesOf(plan, "aws_lb")[0].values.name).toBe(`demo-app-${env}`);
      const params = resourcesOf(plan, "aws_ssm_parameter");
      expect(params.find((p) => p.values.name === `/demo-app/${env}/config/GREETING`)!.values.value).toBe("Hello ${name}, 100%");
      expect(params.find((p) => p.values.name === `/demo-app/${env}/secret/DATABASE_PASSWORD`)!.values.type).toBe("SecureString");
    });
  });

  it("has a packer/ folder that packer fmt accepts and validate -syntax-only parses with the answers", () => {
    const packer = join(project, "packer");
    // A generator that stopped copying packer/ must fail here, not skip.
    for (const file of ["variables.pkr.hcl", "app.pkr.hcl", "versions.pkr.hcl", "demo-app.auto.pkrvars.hcl"]) {
      expect(existsSync(join(packer, file))).toBe(true);
    }
    sh("packer", ["fmt", "-check", "-diff", "."], packer);
    // Debian's packer 1.6.6 does not know required_plugins: validate a copy without versions.pkr.hcl.
    const copy = tempDir("cia-e2e-packer");
    cpSync(packer, copy, { recursive: true });
    rmSync(join(copy, "versions.pkr.hcl"), { force: true });
    sh("packer", ["validate", "-syntax-only", "."], copy);
  });
});
