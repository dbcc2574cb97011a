/** model -> file map: what a project receives, the JSON Schema, and values coming out literally. */
import Ajv from "ajv";
import { parse } from "@cdktf/hcl2json";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../generators/args";
import { resolveAnswers } from "../generators/answers";
import { MANIFEST_FILE } from "../generators/manifest";
import { buildModel } from "../generators/model";
import { type FileMap, renderProject } from "../generators/render";
import { checkConfig } from "../managed/config-validation";
import { packageSources, REPO, sha } from "./support/cli";

async function render(argv: string[]): Promise<FileMap> {
  const answers = await resolveAnswers({ flags: parseArgs(argv), interactive: false });
  return renderProject(buildModel(answers, "/tmp"), packageSources());
}

const text = (files: FileMap, path: string): string => {
  const file = files.get(path);
  if (!file) throw new Error(`${path} is not generated`);
  return file.contents.toString();
};

describe("renderProject", () => {
  it("renders the default project (copied files by hash, generated files in full)", async () => {
    const files = await render(["demo-app", "--yes"]);
    const sources = packageSources();
    const copied = [...sources.copied.keys()];
    for (const path of copied) expect(files.get(path)!.contents).toEqual(sources.copied.get(path)!.contents);
    // The manifest holds the hash of every file, copied ones too: checked in upgrade.test.ts, not snapshotted.
    const generated = Object.fromEntries(
      [...files].filter(([path]) => !sources.copied.has(path) && path !== MANIFEST_FILE).map(([path, f]) => [path, f.contents.toString()]),
    );
    expect(Object.keys(generated)).toEqual([
      ".checkov.yaml",
      ".github/workflows/ci.yml",
      ".github/workflows/drift.yml",
      ".github/workflows/images-prune.yml",
      ".gitignore",
      "README.md",
      "__tests__/config.test.ts",
      "__tests__/stacks.test.ts",
      "cdktf.json",
      "immutable.config.json",
      "package.json",
      "packer/demo-app.auto.pkrvars.hcl",
      "tsconfig.json",
    ]);
    // Copied files change whenever stacks/ or packer/ do; the snapshot records only which are copied.
    expect(copied.filter((p) => !p.startsWith("packer/") && !p.startsWith("managed/export/"))).toMatchSnapshot("copied stacks");
    expect(generated).toMatchSnapshot("generated files");
  });

  it("copies the stacks, the schema, main.ts and whatever packer/ and scripts/ hold, but no build output", async () => {
    const files = await render(["demo-app", "--yes"]);
    expect(files.has("main.ts")).toBe(true);
    expect(files.has("managed/config.schema.json")).toBe(true);
    expect(files.has("stacks/web-tier-stack.ts")).toBe(true);
    for (const path of files.keys()) {
      if (!path.startsWith("__tests__/")) expect(path).not.toMatch(/\.test\.ts$|packer-manifest\.json$/);
      expect(path).not.toMatch(/(^|\/)(node_modules|dist|cdktf\.out)\//);
    }
    expect([...files.keys()].filter((p) => p.endsWith(".auto.pkrvars.hcl"))).toEqual(["packer/demo-app.auto.pkrvars.hcl"]);
  });

  it("is pure: the same answers give the same bytes, in sorted order", async () => {
    const a = await render(["x", "--yes"]);
    const b = await render(["x", "--yes"]);
    expect([...a.keys()]).toEqual([...b.keys()].sort());
    expect([...a].map(([p, f]) => [p, sha(f.contents)])).toEqual([...b].map(([p, f]) => [p, sha(f.contents)]));
  });

  it("pins the project's dependencies exactly as this package does", async () => {
    const pkg = JSON.parse(text(await render(["x", "--yes"]), "package.json"));
    const ours = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
    const pinned = { ...ours.dependencies, ...ours.devDependencies };
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) expect(version).toBe(pinned[name]);
    expect(pkg.dependencies).toMatchObject({ cdktf: "0.21.0", "@cdktf/provider-aws": "20.1.0" });
    expect(pkg.devDependencies).toMatchObject({ typescript: "~5.9.3" });
    // What the scripts load at run time is a dependency (CI's deploy jobs install only those); tsx's
    // esbuild is the one managed/run.js bundles with, so the two stay one copy.
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@cdktf/provider-aws", "cdktf", "constructs", "esbuild", "tsx"]);
    expect(pkg.dependencies.esbuild).toBe(require("tsx/package.json").dependencies.esbuild);
    // Nothing that `npm run synth`, deploy or the tests never load: no cdktf-cli, no test framework.
    for (const name of ["cdktf-cli", "jest", "@swc/jest", "@swc/core", "@types/jest", "ts-node"]) {
      expect({ name, dependency: name in { ...pkg.dependencies, ...pkg.devDependencies } }).toEqual({ name, dependency: false });
    }
    expect(pkg.jest).toBeUndefined();
    expect(pkg.scripts.synth).toBe("node managed/run.js main.ts");
    expect(JSON.parse(text(await render(["x", "--yes"]), "cdktf.json")).app).toBe(pkg.scripts.synth);
    expect(Object.keys(pkg.scripts).sort()).toEqual([
      "bootstrap",
      "build",
      "deploy",
      "export",
      "image:build",
      "image:local",
      "images:prune",
      "plan",
      "preview",
      "security",
      "synth",
      "synth:hcl",
      "test",
    ]);
    expect(pkg.name).toBe("x");
  });

  it("gives a Yarn project node_modules (.yarnrc.yml nodeLinker), which plain node, managed/run.js and cdktf-cli need; others no .yarnrc.yml", async () => {
    const yarn = await render(["x", "--yes", "--use-yarn"]);
    expect(text(yarn, ".yarnrc.yml")).toMatch(/^nodeLinker: node-modules$/m);
    for (const pm of ["--use-npm", "--use-pnpm", "--use-bun"]) expect((await render(["x", "--yes", pm])).has(".yarnrc.yml")).toBe(false);
  });

  it("writes a Dockerfile and a minimal app only for --dockerfile: multi-stage, non-root, production", async () => {
    expect((await render(["x", "--yes"])).has("Dockerfile")).toBe(false);
    const files = await render(["x", "--yes", "--dockerfile", "--port", "3000", "--health-path", "/healthz"]);
    const dockerfile = text(files, "Dockerfile");
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/NODE_ENV=production/);
    expect(dockerfile).toMatch(/PORT=3000/);
    expect(dockerfile).toMatch(/HEALTH_PATH=\/healthz/);
    expect(files.has("app/server.js")).toBe(true);
    expect(JSON.parse(text(files, "app/package.json")).scripts.start).toBe("node server.js");
    expect(text(files, ".github/workflows/ci.yml")).toMatch(/docker build/);
  });

  it("chains deployments environment after environment and smoke-checks each", async () => {
    const ci = text(await render(["x", "--yes", "--environments", "dev,staging,production"]), ".github/workflows/ci.yml");
    expect(ci).toMatch(/deploy-dev:\n\s+needs: \[bake\]/);
    expect(ci).toMatch(/deploy-staging:\n\s+needs: \[bake, deploy-dev\]/);
    expect(ci).toMatch(/deploy-production:\n\s+needs: \[bake, deploy-staging\]/);
    expect(ci.match(/curl --fail/g)).toHaveLength(3);
    // No stored credential: each deploy job assumes its GitHub environment's role.
    expect(ci).not.toMatch(/secrets\./);
    expect(ci.match(/role-to-assume: \$\{\{ vars\.AWS_ROLE_ARN \}\}/g)).toHaveLength(3);
    expect(ci).not.toMatch(/\{\{(?!\s)/);
  });

  it("brings exotic but valid values out literally in every format", async () => {
    const value = "Hi ${name} %{x} 100% $5 \"q\" 'a' \\ \u00e9\u6f22\ud83d\ude00";
    const files = await render(["x", "--yes", "--config", `GREETING=${value}`]);
    const config = JSON.parse(text(files, "immutable.config.json"));
    expect(config.config.GREETING).toBe(value);
  });

  it("emits tags with unicode into the pkrvars file so that HCL reads them back literally", async () => {
    const answers = await resolveAnswers({
      flags: parseArgs(["x", "--yes"]),
      interactive: false,
      file: {
        flag: "--config-file",
        path: "a.json",
        value: { tags: { "cost center": "caf\u00e9 + 100 @ \u00e9quipe", "team/name": "\u6f22\u5b57" } },
      },
    });
    const files = renderProject(buildModel(answers, "/tmp"), packageSources());
    const hcl = await parse("x.pkrvars.hcl", text(files, "packer/x.auto.pkrvars.hcl"));
    expect(hcl.tags).toEqual({ "cost center": "caf\u00e9 + 100 @ \u00e9quipe", "team/name": "\u6f22\u5b57" });
    expect(hcl.app_port).toBe(8080);
  });
});

describe("managed/config.schema.json", () => {
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(join(REPO, "managed", "config.schema.json"), "utf8")));

  it("accepts the example config and every generated config", async () => {
    expect(validate(JSON.parse(readFileSync(join(REPO, "immutable.config.json"), "utf8")))).toBe(true);
    for (const argv of [
      ["x", "--yes"],
      [
        "x",
        "--yes",
        "--vpc-id",
        "vpc-01234567",
        "--public-subnets",
        "subnet-00000001,subnet-00000002",
        "--private-subnets",
        "subnet-00000003,subnet-00000004",
        "--config",
        "A=1",
        "--secret",
        "B_TOKEN",
        "--certificate-arn",
        "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
      ],
    ]) {
      const config = JSON.parse(text(await render(argv), "immutable.config.json"));
      expect(validate(config) ? [] : validate.errors).toEqual([]);
    }
  });

  const base = { appName: "shop" };
  it.each([
    ["a bad app name", { appName: "Shop" }],
    ["a reserved name", { appName: "con" }],
    ["a long app name", { appName: "a".repeat(21) }],
    ["an unknown field", { ...base, colour: "blue" }],
    ["an unknown region", { ...base, region: "us-east-7" }],
    ["port 0", { ...base, appPort: 0 }],
    ["port 65536", { ...base, appPort: 65536 }],
    ["port 22", { ...base, appPort: 22 }],
    ["a health path without /", { ...base, healthCheckPath: "health" }],
    ["a bad CIDR", { ...base, network: { mode: "new", cidr: "10.0.0.0/33" } }],
    ["an existing VPC without subnets", { ...base, network: { mode: "existing", vpcId: "vpc-01234567" } }],
    [
      "a malformed VPC id",
      {
        ...base,
        network: {
          mode: "existing",
          vpcId: "vpc-1",
          publicSubnetIds: ["subnet-00000001", "subnet-00000002"],
          privateSubnetIds: ["subnet-00000003", "subnet-00000004"],
        },
      },
    ],
    ["a secret-looking config key", { ...base, config: { DB_PASSWORD: "x" } }],
    ["an empty config value", { ...base, config: { A: "" } }],
    ["a control character in config", { ...base, config: { A: "\u0007" } }],
    ["a __proto__ key", { ...base, config: JSON.parse('{"__proto__": "x"}') }],
    ["a managed tag", { ...base, tags: { app: "x" } }],
    ["a malformed instance type", { ...base, environments: [{ name: "staging", instanceType: "t3" }] }],
    ["no environments", { ...base, environments: [] }],
    ["a bad retention", { ...base, environments: [{ name: "staging", logRetentionDays: 2 }] }],
    ["a bad image", { ...base, image: { containerImage: "UPPER" } }],
    ["a secret's value in secrets", { ...base, secrets: [{ value: "x" }] }],
  ])("rejects %s, as resolveConfig does", (_what, config) => {
    expect(checkConfig(config).length).toBeGreaterThan(0);
    expect(validate(config)).toBe(false);
  });
});
