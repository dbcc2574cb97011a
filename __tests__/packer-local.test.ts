/**
 * The local bake's template and runner, without a VM (the VM itself: local-vm-e2e.test.ts):
 *  - packer/local/local.pkr.hcl runs app.pkr.hcl's provisioners, in the same order, with the same
 *    scripts, environment (plus only the agent's URL) and execute command;
 *  - the folder the runner assembles passes Packer 1.6.6's `validate -syntax-only` and `fmt -check`;
 *  - what the runner changes for Packer 1.6.6 (the variables' validation blocks) drops nothing else;
 *  - the preview's user data read from a synthesized stack is byte for byte the stack's user data;
 *  - the stand-in agent is a package dpkg accepts, with the one command the image calls.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import fc from "fast-check";
import { resolveConfig } from "../managed/config-validation";
import { withoutValidationBlocks } from "../managed/local-vm/bake";
import { buildStandInAgentDeb } from "../managed/local-vm/stand-in-agent";
import { LocalVmError } from "../managed/local-vm/tools";
import { decodeHclString, userDataOfStack } from "../managed/local-vm/user-data-of-stack";
import { PACKER_DIR, parseHclFile, run } from "./support/packer";
import { exampleConfigJson, synthProject } from "./support/synth";
import { TerraformDir, resourcesOf, writeCliConfig } from "./support/terraform";

let app: any;
let local: any;

beforeAll(async () => {
  app = await parseHclFile("app.pkr.hcl");
  local = await parseHclFile("local/local.pkr.hcl");
});

describe("packer/local/local.pkr.hcl", () => {
  it("runs app.pkr.hcl's provisioners in the same order with the same scripts and command", () => {
    const appBuild = app.build[0];
    const localBuild = local.build[0];
    expect(localBuild.sources).toEqual(["source.qemu.local"]);
    expect(localBuild.provisioner.file).toEqual(appBuild.provisioner.file);
    const strip = (p: any) => ({ ...p, environment_vars: undefined, execute_command: undefined });
    expect(localBuild.provisioner.shell.map(strip)).toEqual(appBuild.provisioner.shell.map(strip));
    for (const [i, shell] of localBuild.provisioner.shell.entries()) {
      expect(shell.environment_vars === undefined).toBe(appBuild.provisioner.shell[i].environment_vars === undefined);
    }
    // The same command and environment, plus the agent's URL only.
    expect(local.locals[0].local_sudo_execute).toBe(app.locals[0].sudo_execute);
    expect(local.locals[0].local_script_env).toEqual([
      ...app.locals[0].script_env,
      "CLOUDWATCH_AGENT_URL=${var.local_cloudwatch_agent_url}",
    ]);
    // No post-processors: nothing is registered or published from a local bake.
    expect(localBuild["post-processors"]).toBeUndefined();
  });

  it("pins the qemu plugin for current Packer in its own versions file", async () => {
    const versions = await parseHclFile("local/versions.pkr.hcl");
    expect(versions.packer[0].required_plugins[0].qemu.source).toBe("github.com/hashicorp/qemu");
    expect(local.packer).toBeUndefined();
  });

  it("assembles a folder that Packer 1.6.6 parses (validate -syntax-only) and that is fmt clean", () => {
    const dir = mkdtempSync(join(tmpdir(), "cia-local-tpl-"));
    try {
      writeFileSync(join(dir, "variables.pkr.hcl"), withoutValidationBlocks(readFileSync(join(PACKER_DIR, "variables.pkr.hcl"), "utf8")));
      writeFileSync(join(dir, "local.pkr.hcl"), readFileSync(join(PACKER_DIR, "local", "local.pkr.hcl"), "utf8"));
      const validate = run("packer", ["validate", "-syntax-only", "."], { cwd: dir });
      expect(validate.stderr + validate.stdout).not.toMatch(/Error/);
      expect(validate.status).toBe(0);
      const fmt = run("packer", ["fmt", "-check", "-diff", "."], { cwd: dir });
      expect(fmt.stdout).toBe("");
      expect(fmt.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("drops only the validation blocks for Packer 1.6.6: every variable, type and default stays", async () => {
    const text = readFileSync(join(PACKER_DIR, "variables.pkr.hcl"), "utf8");
    const before = await parse("variables.pkr.hcl", text);
    const after = await parse("variables.pkr.hcl", withoutValidationBlocks(text));
    const withoutValidation = (vars: any) =>
      Object.fromEntries(Object.entries(vars.variable).map(([k, v]: [string, any]) => [k, v.map(({ validation, ...rest }: any) => rest)]));
    expect(Object.keys(after.variable)).toEqual(Object.keys(before.variable));
    expect(after.variable.app_name[0].validation).toBeUndefined();
    expect(withoutValidation(after)).toEqual(withoutValidation(before));
  });
});

describe("the preview's user data, read from the synthesized stack", () => {
  it("decodes HCL string escapes exactly (property: any text, escaped as the stack escapes it)", () => {
    const escapeHcl = (s: string) =>
      s
        .replace(/\\/g, "\\\\")
        .replace(/"/g, '\\"')
        .replace(/\n/g, "\\n")
        .replace(/\r/g, "\\r")
        .replace(/\t/g, "\\t")
        .replace(/\$\{/g, "$${")
        .replace(/%\{/g, "%%{");
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => decodeHclString(escapeHcl(s)) === s));
    expect(() => decodeHclString("a ${var.x}")).toThrow(/interpolation/);
  });

  it("is byte for byte what terraform plans as the launch template's user data", () => {
    const root = mkdtempSync(join(tmpdir(), "cia-local-ud-"));
    try {
      const config = resolveConfig(exampleConfigJson());
      const dirs = synthProject(root, config);
      const tf = new TerraformDir(dirs.staging, writeCliConfig(root));
      tf.makeOffline();
      const [template] = resourcesOf(tf.plan({ ami_id: "ami-0123456789abcdef0" }), "aws_launch_template");
      const planned = Buffer.from(template.values.user_data, "base64").toString("utf8");
      expect(userDataOfStack(root, "staging")).toBe(planned);
      for (const env of config.environments) {
        const userData = userDataOfStack(root, env.name);
        expect(userData).toContain(`APP_ENV=${env.name}\n`);
        expect(userData).toContain(`systemctl enable --now immutable-app@${config.appName}.service`);
      }
      expect(() => userDataOfStack(root, "nope")).toThrow(LocalVmError);
      expect(() => userDataOfStack(root, "nope")).toThrow(/run npm run synth first/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("the stand-in CloudWatch agent", () => {
  it("is a package dpkg reads, named as AWS's, with the ctl the image calls", () => {
    const dir = mkdtempSync(join(tmpdir(), "cia-agent-test-"));
    try {
      const deb = join(dir, "agent.deb");
      buildStandInAgentDeb(deb);
      const info = spawnSync("dpkg-deb", ["--field", deb, "Package"], { encoding: "utf8" });
      expect(info.stdout.trim()).toBe("amazon-cloudwatch-agent");
      const contents = spawnSync("dpkg-deb", ["--contents", deb], { encoding: "utf8" }).stdout;
      expect(contents).toMatch(/-rwxr-xr-x root\/root .* \.\/opt\/aws\/amazon-cloudwatch-agent\/bin\/amazon-cloudwatch-agent-ctl/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
