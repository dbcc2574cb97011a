/**
 * Issue 7, property-based answers (fast-check, fixed seed, bounded runs):
 * - arbitrary valid answer sets (exotic but valid values included) -> the CLI in-process -> exit 0 ->
 *   the generated immutable.config.json resolves and synthesizes -> every value comes out literally in
 *   the config file, the Terraform JSON, the pkrvars file (read back by HashiCorp's HCL parser), README
 *   and CI workflow; for a handful, terraform init + validate, and for one a real offline plan of both
 *   the cdktf output and the export's --hcl folder, whose SSM values and tags must equal the input;
 * - arbitrary invalid sets (one mutation of a valid one) -> exit 2 naming the flag, not a byte changed.
 */
import fc from "fast-check";
import { parse } from "@cdktf/hcl2json";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../managed/config-validation";
import { escapeTfString } from "../managed/escape";
import { configParameterName } from "../managed/names";
import { runExport } from "./support/export";
import { readSynth, synthProject } from "./support/synth";
import { type PlanJson, resourcesOf, tempDir, TerraformDir, writeCliConfig } from "./support/terraform";
import { namedLine, runInWorkspace, workspace } from "./support/safety";
import { type AnswerSet, invocation, MUTATIONS, validAnswerSet } from "./support/safety-answers";

const SEED = 20_260_707;
// js-yaml comes with jest; only this test reads YAML.
const yaml: { load(text: string): any } = require("js-yaml");

/** Scaffolds `set` in a fresh workspace; returns the project directory. */
async function scaffold(set: AnswerSet): Promise<string> {
  const { argv, file } = invocation(set);
  const ws = workspace("cia-props");
  const r = await runInWorkspace({ argv, file }, ws);
  if (r.code !== 0) throw new Error(`exit ${r.code} for ${JSON.stringify(set)}:\n${r.stderr}`);
  return join(ws.cwd, set.dir);
}

/** The config values one environment's stack must carry (no per-environment overrides are generated). */
const expectedSsm = (set: AnswerSet, env: string): Record<string, string> =>
  Object.fromEntries(Object.entries(set.config).map(([k, v]) => [configParameterName(set.name, env, k), v.normalize("NFC")]));

/** The Terraform JSON form hcl2json answers with: a literal `${` / `%{` is `$${` / `%%{` there. */
const asTerraformJson = (literal: string): string => literal.normalize("NFC").replace(/\$\{|%\{/g, (o) => o[0] + o);

/** Checks one generated project without terraform; returns the synthesized stack directories. */
async function checkProject(set: AnswerSet, project: string): Promise<Record<string, string>> {
  // The config file holds the answers literally (as typed: NFC normalization happens on reading).
  const configJson = JSON.parse(readFileSync(join(project, "immutable.config.json"), "utf8"));
  expect(configJson.config).toEqual(set.config);
  expect(configJson.tags ?? {}).toEqual(set.tags);
  expect(configJson.secrets).toEqual(set.secrets);
  const config = resolveConfig(configJson);
  expect(config.environments.map((e) => [e.name, e.instanceType, e.minCapacity, e.desiredCapacity, e.maxCapacity])).toEqual(
    set.environments.map((e) => [e.name, e.instanceType, e.min, e.desired, e.max]),
  );

  // Terraform JSON: every config value escaped once, every tag as given.
  const dirs = synthProject(tempDir("cia-props-synth"), config);
  expect(Object.keys(dirs).sort()).toEqual(set.environments.map((e) => e.name).sort());
  for (const env of set.environments) {
    const synth = readSynth(dirs[env.name]);
    const params = Object.values(synth.resource.aws_ssm_parameter) as Array<{ name: string; type: string; value: string }>;
    const plain = Object.fromEntries(params.filter((p) => p.type === "String").map((p) => [p.name, p.value]));
    expect(plain).toEqual(Object.fromEntries(Object.entries(expectedSsm(set, env.name)).map(([k, v]) => [k, escapeTfString(v)])));
    const tags = synth.provider.aws[0].default_tags[0].tags;
    expect(tags).toEqual({ ...set.tags, app: set.name, environment: env.name, "managed-by": "create-immutable-app" });
  }

  // pkrvars: HashiCorp's parser reads back the same literals.
  const pkrvars = await parse("vars.pkrvars.hcl", readFileSync(join(project, "packer", `${set.name}.auto.pkrvars.hcl`), "utf8"));
  expect(pkrvars).toMatchObject({
    app_name: set.name,
    aws_region: set.region,
    app_port: set.port,
    health_check_path: asTerraformJson(set.healthPath),
  });
  expect(pkrvars.tags).toEqual(Object.fromEntries(Object.entries(set.tags).map(([k, v]) => [asTerraformJson(k), asTerraformJson(v)])));

  // README and CI: values raw (Handlebars must not HTML-escape), YAML that parses back to the literals.
  const readme = readFileSync(join(project, "README.md"), "utf8");
  expect(readme).toContain(`\`${set.healthPath}\``);
  for (const key of Object.keys(set.config)) expect(readme).toContain(`\`${key}\``);
  for (const name of ["README.md", ".github/workflows/ci.yml", ".github/workflows/drift.yml"]) {
    expect(readFileSync(join(project, name), "utf8")).not.toMatch(/&(amp|lt|gt|quot|#x27|#x3D|#x60);/);
  }
  const ci = yaml.load(readFileSync(join(project, ".github", "workflows", "ci.yml"), "utf8"));
  expect(ci.env.AWS_REGION).toBe(set.region);
  expect(Object.keys(ci.jobs)).toEqual(expect.arrayContaining(set.environments.map((e) => `deploy-${e.name}`)));
  return dirs;
}

describe("valid answer sets", () => {
  it("scaffold, synthesize and come out literally in every format (40 runs, no terraform)", async () => {
    await fc.assert(
      fc.asyncProperty(validAnswerSet, async (set) => {
        await checkProject(set, await scaffold(set));
      }),
      { numRuns: 40, seed: SEED },
    );
  });

  describe("through terraform", () => {
    const samples = fc.sample(validAnswerSet, { numRuns: 4, seed: SEED + 1 });
    let cli: string;
    beforeAll(() => {
      cli = writeCliConfig(tempDir("cia-props-cli"));
    });

    it.each(samples.slice(1).map((set, i) => [i + 1, set.environments[0].name, set] as const))(
      "sample %i: the %s stack passes terraform init and validate",
      async (_i, env, set) => {
        const dirs = await checkProject(set, await scaffold(set));
        const tf = new TerraformDir(dirs[env], cli);
        tf.ok(["init", "-input=false", "-no-color"]);
        tf.ok(["validate", "-no-color"]);
      },
    );

    it("sample 0: an offline plan of the cdktf output and of the export's --hcl folder gives the input's SSM values and tags", async () => {
      // The sample, plus one value and tags holding every character class at once, so the plan always sees them.
      const set: AnswerSet = {
        ...samples[0],
        config: { ...samples[0].config, ZZ_EXOTIC: "${x} %{ if y } $ % $${z} \"q\" 'a' \\ \n\t{{w}} 日本 Zoë 😀 e\u0301 \u202e & < >" },
        tags: { ...samples[0].tags, "a//b": "Zoë Ünïcode", "team/name": "日本 @ 100 + a=b" },
      };
      const project = await scaffold(set);
      const dirs = await checkProject(set, project);
      const env = set.environments[0].name;
      const exported = runExport(project, ["--hcl", "--out", "terraform-hcl", "--stack", env]);
      expect(exported.stderr).toBe("");
      expect(exported.code).toBe(0);
      const plans: PlanJson[] = [dirs[env], join(project, "terraform-hcl", env)].map((dir) => {
        const tf = new TerraformDir(dir, cli);
        tf.makeOffline();
        return tf.plan({ ami_id: "ami-0123456789abcdef0" });
      });
      for (const plan of plans) {
        const ssm = resourcesOf(plan, "aws_ssm_parameter").filter((p) => p.values.type === "String");
        expect(Object.fromEntries(ssm.map((p) => [p.values.name, p.values.value]))).toEqual(expectedSsm(set, env));
        // tags_all is unknown until apply; terraform's reading of the provider's default_tags is what it applies.
        const tags = plan.configuration.provider_config.aws.expressions.default_tags[0].tags.constant_value;
        expect(tags).toEqual({ ...set.tags, app: set.name, environment: env, "managed-by": "create-immutable-app" });
      }
      // The HCL file itself, read by HashiCorp's parser, holds the same literals.
      const hcl = (await parse("main.tf", readFileSync(join(project, "terraform-hcl", env, "main.tf"), "utf8"))) as any;
      const values = Object.values(hcl.resource.aws_ssm_parameter)
        .map((list: any) => list[0])
        .filter((p: any) => p.type === "String");
      expect(Object.fromEntries(values.map((p: any) => [p.name, p.value]))).toEqual(
        Object.fromEntries(Object.entries(expectedSsm(set, env)).map(([k, v]) => [k, asTerraformJson(v)])),
      );
    });
  });
});

describe("invalid answer sets", () => {
  it("exit 2 naming the flag, and not one byte changed (150 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(validAnswerSet, fc.constantFrom(...MUTATIONS), async (valid, mutation) => {
        const set = mutation.apply(valid);
        const { argv, file } = invocation(set);
        const r = await runInWorkspace({ argv, file });
        const subject = mutation.subject(valid);
        if (r.code !== 2 || namedLine(r.stderr, subject) === undefined) {
          throw new Error(`${mutation.what}: expected exit 2 naming ${subject}, got ${r.code}:\n${r.stderr}`);
        }
        expect(r.stdout).toBe("");
        expect(r.after).toEqual(r.before);
      }),
      { numRuns: 150, seed: SEED },
    );
  });

  it("the catalogue covers every answer", () => {
    const covered = new Set(MUTATIONS.map((m) => m.what.split(" ")[0]));
    for (const field of [
      "name",
      "region",
      "environment",
      "instance",
      "min",
      "max",
      "port",
      "health",
      "config",
      "secret",
      "VPC",
      "subnet",
      "one",
      "tag",
      "dir",
    ]) {
      expect(covered).toContain(field);
    }
  });
});
