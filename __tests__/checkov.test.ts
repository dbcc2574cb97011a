/**
 * checkov, an independent scanner, judges every synthesized stack of the example and of two variants,
 * and the HCL export: 0 failed checks with the project's skips (managed/checkov.ts, rendered into
 * .checkov.yaml), and each skip is one that some stack really needs.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppConfig } from "../managed/config";
import { resolveConfig } from "../managed/config-validation";
import { checkovSkips, CHECKOV_CONFIG_FILE, renderCheckovConfig } from "../managed/checkov";
import { runExport } from "../managed/export/run";
import { failedChecks, runCheckov, scannableCopies } from "../managed/security";
import { venvTool } from "./support/emulated-aws";
import { exampleConfigJson, REPO_ROOT, synthProject } from "./support/synth";

jest.setTimeout(300_000);

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const CONFIGS: Record<string, Record<string, unknown>> = {
  example: exampleConfigJson(),
  // HTTPS, WAF and VPC endpoints everywhere, production-like defaults in both environments; CI's
  // bootstrap stack with a new OIDC provider.
  hardened: {
    ...exampleConfigJson(),
    certificateArn: CERT,
    waf: true,
    github: { repository: "acme/demo-app" },
    network: { mode: "new", cidr: "10.30.0.0/16", azCount: 3, vpcEndpoints: true },
    environments: [{ name: "production" }, { name: "prod" }],
  },
  // An existing VPC, the image from SSM, Amazon Linux, remote state; CI's bootstrap stack with the
  // account's existing OIDC provider.
  existing: {
    ...exampleConfigJson(),
    // Each environment its own image parameter (one shared by two is refused).
    environments: (exampleConfigJson().environments as Array<{ name: string }>).map((e) => ({
      ...e,
      amiSource: `resolve:ssm:/demo-app/image/${e.name}/ami-id`,
    })),
    image: { baseOs: "al2023" },
    backend: { bucket: "acme-terraform-state" },
    github: { repository: "acme/demo-app", oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" },
    network: {
      mode: "existing",
      vpcId: "vpc-0123456789abcdef0",
      publicSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      privateSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
    },
  },
};

function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cia-${prefix}-`));
}

/** Synthesizes `config` and returns a folder of scannable copies of its stacks. */
function synthesized(name: string, config: AppConfig): string {
  const root = scratch(`checkov-${name}`);
  const dirs = synthProject(root, config);
  const copies = join(root, "scan");
  scannableCopies(join(root, "cdktf.out"), Object.keys(dirs), copies);
  return copies;
}

function configFile(config: AppConfig): string {
  const file = join(scratch("checkov-config"), CHECKOV_CONFIG_FILE);
  writeFileSync(file, renderCheckovConfig(config));
  return file;
}

describe("checkov on every synthesized stack", () => {
  const checkov = venvTool("checkov");

  it.each(Object.keys(CONFIGS))("%s: 0 failed checks with the project's skips", (name) => {
    const config = resolveConfig(CONFIGS[name]);
    const result = runCheckov(checkov, synthesized(name, config), "terraform_json", configFile(config));
    expect(result.report).toBeDefined();
    expect(failedChecks(result.report)).toEqual([]);
    // It really scanned the stacks: every environment's resources.
    const summary = (Array.isArray(result.report) ? result.report : [result.report]).map((r: any) => r.summary);
    expect(summary.reduce((n: number, s: any) => n + s.passed, 0)).toBeGreaterThan(60 * config.environments.length);
    if (config.github) {
      // The bootstrap stack alone: checkov's IAM checks (policies, roles, the OIDC trust) judged it.
      const root = scratch(`checkov-${name}-bootstrap`);
      synthProject(root, config);
      scannableCopies(join(root, "cdktf.out"), ["bootstrap"], join(root, "scan"));
      const bootstrap = runCheckov(checkov, join(root, "scan"), "terraform_json", configFile(config));
      expect(failedChecks(bootstrap.report)).toEqual([]);
      const counts = (Array.isArray(bootstrap.report) ? bootstrap.report : [bootstrap.report]).map((r: any) => r.summary);
      expect(counts.reduce((n: number, s: any) => n + s.passed, 0)).toBeGreaterThan(40);
    }
  });

  it("the HCL export of the example: 0 failed checks", () => {
    const config = resolveConfig(CONFIGS.example);
    const cwd = scratch("checkov-export");
    writeFileSync(join(cwd, "immutable.config.json"), JSON.stringify(CONFIGS.example));
    runExport({ stacks: [], out: "terraform", syntax: "hcl", help: false }, { cwd, env: {}, log: () => undefined });
    const result = runCheckov(checkov, join(cwd, "terraform"), "terraform", configFile(config));
    expect(failedChecks(result.report)).toEqual([]);
  });

  it("every skip is needed: without skips, each skipped check fails somewhere, and nothing else does", () => {
    const all = scratch("checkov-all");
    for (const [name, json] of Object.entries(CONFIGS)) {
      const copies = synthesized(name, resolveConfig(json));
      for (const env of resolveConfig(json).environments) {
        mkdirSync(join(all, `${name}-${env.name}`));
        writeFileSync(join(all, `${name}-${env.name}`, "cdk.tf.json"), readFileSync(join(copies, env.name, "cdk.tf.json")));
      }
    }
    const none = join(scratch("checkov-none"), CHECKOV_CONFIG_FILE);
    writeFileSync(none, "compact: true\nquiet: true\n");
    const failed = new Set(failedChecks(runCheckov(checkov, all, "terraform_json", none).report).map((f) => f.id));
    const skipped = new Set(Object.values(CONFIGS).flatMap((json) => checkovSkips(resolveConfig(json)).map((s) => s.id)));
    expect([...failed].sort()).toEqual([...skipped].sort());
  });
});

describe(".checkov.yaml", () => {
  it("this repository's is the one its config needs", () => {
    expect(readFileSync(join(REPO_ROOT, CHECKOV_CONFIG_FILE), "utf8")).toBe(renderCheckovConfig(resolveConfig(CONFIGS.example)));
  });

  it("gives every skip a reason, and skips a check for an environment's choice only while some environment makes it", () => {
    for (const json of Object.values(CONFIGS)) {
      for (const skip of checkovSkips(resolveConfig(json))) expect(skip.reason.length).toBeGreaterThan(30);
    }
    const ids = (json: Record<string, unknown>) => checkovSkips(resolveConfig(json)).map((s) => s.id);
    expect(ids(CONFIGS.hardened)).not.toEqual(expect.arrayContaining(["CKV_AWS_2"]));
    expect(ids(CONFIGS.hardened)).not.toContain("CKV2_AWS_28");
    expect(ids(CONFIGS.hardened)).not.toContain("CKV_AWS_150");
    expect(ids(CONFIGS.example)).toEqual(expect.arrayContaining(["CKV_AWS_2", "CKV2_AWS_28", "CKV_AWS_150"]));
  });

  it("the README's security section lists every skip id of the example with its reason", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const security = readme.slice(readme.indexOf("## Security"));
    for (const skip of checkovSkips(resolveConfig(CONFIGS.example))) expect(security).toContain(`\`${skip.id}\``);
  });
});
