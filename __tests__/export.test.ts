import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, statSync, chmodSync, symlinkSync } from "node:fs";
import { homedir, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import * as fc from "fast-check";
import { parse } from "@cdktf/hcl2json";
import { parseArgs } from "../managed/export/args";
import { ExportError } from "../managed/export/errors";
import { expressionLines, splitTemplate, templateExpression } from "../managed/export/hcl";
import { escapeHclTemplateText as escapeLiteral } from "../managed/hcl";
import { backendTf, tfvarsExample, versionsFile } from "../managed/export/layout";
import { MANIFEST_FILE, sha256 } from "../managed/export/write";
import {
  exportProject as project,
  REPO,
  readTree,
  runExport,
  ssmHttpsExistingVpc,
  terraformCopy,
  terraformOnlyPath,
} from "./support/export";
import { type PlanJson, tempDir } from "./support/terraform";

const AMI = "ami-0123456789abcdef0";
const STACKS = ["staging", "production"];
const ROLLOUT_SH = join(REPO, "managed", "rollout.sh");

function expectOk(result: { code: number; stderr: string }): void {
  if (result.code !== 0) throw new Error(`export failed (${result.code}):\n${result.stderr}`);
}

describe("parseArgs", () => {
  it("defaults to JSON into terraform/ for every stack", () => {
    expect(parseArgs([])).toEqual({ syntax: "json", out: "terraform", stacks: [], config: undefined, help: false });
  });

  it("reads --hcl, --out, repeated --stack and --config, with or without =", () => {
    expect(parseArgs(["--hcl", "--out=ops", "--stack", "production", "--stack=staging", "--config", "c.json"])).toEqual({
      syntax: "hcl",
      out: "ops",
      stacks: ["production", "staging"],
      config: "c.json",
      help: false,
    });
  });

  it.each([
    [["--bogus"], "--bogus"],
    [["--hcl=yes"], "--hcl takes no value"],
    [["--out"], "--out needs a value"],
    [["--stack", "--hcl"], "--stack needs a value"],
    [["--out="], "--out needs a non-empty value"],
    [["production"], '"production"'],
  ])("refuses %j naming the problem", (argv, message) => {
    let error: unknown;
    try {
      parseArgs(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).category).toBe("usage");
    expect((error as ExportError).exitCode).toBe(2);
    expect((error as Error).message).toContain(message);
  });
});

describe("JSON templates as HCL", () => {
  it.each([
    ["plain", '"plain"'],
    ["${aws_vpc.main.id}", "aws_vpc.main.id"],
    ["http://${aws_lb.x.dns_name}/health", '"http://${aws_lb.x.dns_name}/health"'],
    ['{"Resource":"${aws_kms_key.k.arn}"}', '"{\\"Resource\\":\\"${aws_kms_key.k.arn}\\"}"'],
    ['{"a":"${element(split(":", k.arn), 4)}"}', '"{\\"a\\":\\"${element(split(":", k.arn), 4)}\\"}"'],
    ["Hello, $${name}: 100% literal", '"Hello, $${name}: 100% literal"'],
    ["a\nb\\c\u202e", '"a\\nb\\\\c\\u202e"'],
    ["${~ var.x ~}", '"${~ var.x ~}"'],
  ])("renders %j as %s", (template, hcl) => {
    expect(templateExpression(template)).toBe(hcl);
  });

  it("keeps interpolations whole, even with braces and quotes inside", () => {
    expect(splitTemplate('x${upper("}")}y$${z}')).toEqual([
      { kind: "literal", text: "x" },
      { kind: "raw", text: '${upper("}")}' },
      { kind: "literal", text: "y" },
      { kind: "raw", text: "$${" },
      { kind: "literal", text: "z}" },
    ]);
    expect(() => splitTemplate("${unterminated")).toThrow(/unterminated/);
  });

  it("renders short scalar lists inline and objects one key per line", () => {
    expect(expressionLines(["a", 1, true, null])).toEqual(['["a", 1, true, null]']);
    expect(expressionLines({ Name: "x", "cost-center": "1" })).toEqual(["{", '  Name          = "x"', '  "cost-center" = "1"', "}"]);
  });

  // Terraform JSON string -> HCL -> hcl2json (which answers in Terraform JSON syntax) -> the same string.
  const literalPiece = fc.string({ unit: "binary", maxLength: 6 }).map((s) => s.replace(/[${}%]/g, "").normalize("NFC"));
  const piece = fc.oneof(
    literalPiece,
    fc.constantFrom(
      "${var.x}",
      '${upper("a}b")}',
      '${jsonencode({ a = "${var.y}" })}',
      "$${",
      "%%{",
      '"',
      "\\",
      "\n",
      "\t",
      "\u0000",
      "\u2028",
      "$",
      "%",
      "😀",
    ),
  );
  it("round-trips through hcl2json", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 8 }).map((p) => p.join("")),
        async (template) => {
          const parsed = (await parse("x.tf", `locals {\n  x = ${templateExpression(template)}\n}\n`)) as any;
          expect(parsed.locals[0].x).toBe(template);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("escapes every control character", () => {
    for (let code = 0; code < 0x20; code++) expect(escapeLiteral(String.fromCharCode(code))).toMatch(/^\\/);
  });
});

describe("small files", () => {
  it("pins the provider with its full source and requires Terraform >= 1.11 (write-only arguments)", () => {
    expect(versionsFile({ required_providers: { aws: { source: "aws", version: "5.100.0" } } })).toBe(
      'terraform {\n  required_version = ">= 1.11.0"\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "5.100.0"\n    }\n  }\n}\n',
    );
  });

  it("drops cdktf's local backend and keeps an S3 one", () => {
    expect(backendTf({ local: { path: "../../../terraform.staging.tfstate" } })).toBeUndefined();
    expect(backendTf(undefined)).toBeUndefined();
    expect(backendTf({ s3: { bucket: "b", encrypt: true, key: "app/staging.tfstate", region: "eu-west-1", use_lockfile: true } })).toBe(
      'terraform {\n  backend "s3" {\n    bucket       = "b"\n    encrypt      = true\n    key          = "app/staging.tfstate"\n    region       = "eu-west-1"\n    use_lockfile = true\n  }\n}\n',
    );
  });

  it("sets required variables in the tfvars example and comments out the others", () => {
    const text = tfvarsExample({ ami_id: { type: "string", description: "The image." }, size: { type: "number", default: 2 } });
    expect(text).toContain(`# The image.\nami_id = "${AMI}"`);
    expect(text).toContain("# size = 2");
  });
});

describe("export of the example configuration", () => {
  let cwd: string;
  let json: string;
  let hcl: string;

  beforeAll(() => {
    cwd = project();
    expectOk(runExport(cwd, []));
    expectOk(runExport(cwd, ["--hcl", "--out", "terraform-hcl"]));
    json = join(cwd, "terraform");
    hcl = join(cwd, "terraform-hcl");
  });

  it("writes one self-contained folder per stack", () => {
    for (const stack of STACKS) {
      expect([...readTree(join(json, stack)).keys()]).toEqual([
        MANIFEST_FILE,
        ".gitignore",
        "README.md",
        "main.tf.json",
        "outputs.tf.json",
        "rollout.sh",
        "terraform.tfvars.example",
        "variables.tf.json",
        "versions.tf",
      ]);
      expect([...readTree(join(hcl, stack)).keys()]).toEqual([
        MANIFEST_FILE,
        ".gitignore",
        "README.md",
        "main.tf",
        "outputs.tf",
        "rollout.sh",
        "terraform.tfvars.example",
        "variables.tf",
        "versions.tf",
      ]);
    }
  });

  it("records a checksum of every file it wrote", () => {
    const tree = readTree(join(json, "production"));
    const manifest = JSON.parse(tree.get(MANIFEST_FILE)!.toString("utf8"));
    const expected: Record<string, string> = {};
    for (const [name, bytes] of tree) if (name !== MANIFEST_FILE) expected[name] = sha256(bytes);
    expect(manifest.files).toEqual(expected);
  });

  it("declares ami_id first, with a description and a validation", () => {
    const variables = JSON.parse(readFileSync(join(json, "production", "variables.tf.json"), "utf8")).variable;
    expect(Object.keys(variables)[0]).toBe("ami_id");
    expect(variables.ami_id.description).toMatch(/Packer/);
    expect(variables.ami_id.validation[0].error_message).toMatch(/ami-/);
    expect(readFileSync(join(hcl, "production", "variables.tf"), "utf8")).toMatch(/^variable "ami_id" \{\n {2}description = "AMI baked/m);
  });

  it("keeps no cdktf metadata, no backend of the synthesizing project and nothing of this machine", () => {
    const forbidden = [REPO, cwd, `${tmpdir()}/`, homedir(), "cdktf.out", "../", "tfstate", '"//"', "cdktf"];
    for (const root of [json, hcl]) {
      for (const [name, bytes] of readTree(root)) {
        const text = bytes.toString("utf8");
        const isConfig = /\.tf(\.json)?$/.test(name);
        // rollout.sh is managed/rollout.sh byte for byte, whose usage names both layouts (cdktf.out/stacks/<env>).
        const needles = isConfig ? forbidden : forbidden.slice(0, name.endsWith("rollout.sh") ? 4 : 5);
        for (const needle of needles) {
          if (text.includes(needle)) throw new Error(`${name} contains ${JSON.stringify(needle)}`);
        }
        expect(text).not.toMatch(new RegExp(`\\b${hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`));
      }
    }
  });

  it("is deterministic: a second export is byte-identical, and re-running in place writes nothing", () => {
    const again = project();
    expectOk(runExport(again, []));
    expectOk(runExport(again, ["--hcl", "--out", "terraform-hcl"]));
    expect(readTree(join(again, "terraform"))).toEqual(readTree(json));
    expect(readTree(join(again, "terraform-hcl"))).toEqual(readTree(hcl));

    const before = statSync(join(json, "staging", "main.tf.json")).mtimeMs;
    const rerun = runExport(cwd, []);
    expectOk(rerun);
    expect(rerun.stdout).toContain("terraform/staging/: 0 written, 8 unchanged");
    expect(statSync(join(json, "staging", "main.tf.json")).mtimeMs).toBe(before);
  });

  it("ships the rollout command: managed/rollout.sh byte for byte, mode 0755, shellcheck clean, listed in the manifest and the README", () => {
    const source = readFileSync(ROLLOUT_SH);
    for (const root of [json, hcl]) {
      for (const stack of STACKS) {
        const file = join(root, stack, "rollout.sh");
        expect(readFileSync(file).equals(source)).toBe(true);
        expect(statSync(file).mode & 0o777).toBe(0o755);
        const manifest = JSON.parse(readFileSync(join(root, stack, MANIFEST_FILE), "utf8"));
        expect(manifest.files["rollout.sh"]).toBe(sha256(source));
        expect(readFileSync(join(root, stack, "README.md"), "utf8")).toMatch(
          /^\| `rollout\.sh` \| the rollout command: run `\.\/rollout\.sh` after every `terraform apply`/m,
        );
      }
    }
    const lint = spawnSync("shellcheck", ["--severity=style", "--shell=bash", join(json, "production", "rollout.sh")], {
      encoding: "utf8",
    });
    expect({ status: lint.status, output: lint.stdout + lint.stderr }).toEqual({ status: 0, output: "" });
  });

  it("writes a README with the stack's real names and procedures", () => {
    const readme = readFileSync(join(json, "production", "README.md"), "utf8");
    for (const expected of [
      "terraform init",
      "AMI_ID=$(grep -o 'eu-west-1:ami-[0-9a-f]*' ../../packer/packer-manifest.json | tail -n 1 | cut -d: -f2)",
      'terraform plan -var "ami_id=$AMI_ID" -out release.tfplan\nterraform apply release.tfplan\n./rollout.sh\n',
      // Terraform writes the version; the rollout moves the group.
      "Terraform never moves `demo-app-production` off the launch template version it runs (`ignore_changes` on the group's `launch_template[0].version`)",
      // The first deploy: the secret parameters first, then the check, before any instance.
      'terraform apply -var "ami_id=$AMI_ID" -target=aws_ssm_parameter.parameters_secret_DATABASE_PASSWORD\n' +
        "./rollout.sh --check-secrets /demo-app/production/secret/DATABASE_PASSWORD\n",
      "aws ssm put-parameter --region eu-west-1 --name /demo-app/production/secret/DATABASE_PASSWORD --type SecureString --key-id alias/demo-app-production-secrets --overwrite",
      "with the placeholder `SET-OUT-OF-BAND`, through the write-only argument `value_wo`",
      "`kms:Decrypt` on the key `alias/demo-app-production-secrets`",
      "hashicorp/terraform-provider-aws#42849",
      // The rollout's preferences and alarms, from the stack's instance_refresh output.
      "keeps at least 90% of the capacity in service",
      "`MaxHealthyPercentage` `190`",
      "`AutoRollback` `true`",
      "`demo-app-production-rollout-error-rate`: Rollout guard: more than 1 % of requests answered 5xx by the load balancer or the instances",
      "`demo-app-production-rollout-latency`: Rollout guard: the instances' p90 response time above 2000 ms",
      "`demo-app-production-rollout-unhealthy`: Rollout guard: an unhealthy instance",
      "`demo-app-production-rollout-boot-failures`: Rollout guard: a new instance's app did not answer its health check at boot",
      // A canary of one of production's two instances, a pause and a bake the alarms fit in.
      "`CheckpointPercentages` `[50,100]`: stops when 50% and 100% of the instances are new",
      "`CheckpointDelay` `300`: waits 300 s at each checkpoint",
      "`BakeTime` `600`: waits 600 s after the last replacement",
      "| 5 | (`--status`) the group runs another launch template version than the last apply wrote",
      "`--ignore-alarms` starts the refresh without its alarms (break-glass",
      "| 3 | the refresh was rolled back: AWS put the previous version back, and the group runs it again |",
      "| 4 | a secret still holds its placeholder |",
      "`--timeout SECONDS` bounds the wait (default 3600)",
      "`autoscaling:StartInstanceRefresh`",
      "export AWS_DEFAULT_REGION=eu-west-1",
      // Watching, stopping, rolling back.
      "aws autoscaling describe-instance-refreshes --region eu-west-1 --auto-scaling-group-name demo-app-production",
      "aws cloudwatch describe-alarms --region eu-west-1 --alarm-names demo-app-production-rollout-error-rate demo-app-production-rollout-latency demo-app-production-rollout-unhealthy demo-app-production-rollout-boot-failures",
      "aws autoscaling rollback-instance-refresh --region eu-west-1 --auto-scaling-group-name demo-app-production",
      "aws autoscaling cancel-instance-refresh --region eu-west-1 --auto-scaling-group-name demo-app-production",
      'terraform apply -var "ami_id=$PREVIOUS_AMI"\n./rollout.sh\n',
      // Deletion protection.
      "`aws_kms_key.key_key`, `aws_lb.load_balancer_alb` and `aws_s3_bucket.load_balancer_access_logs_bucket` have `prevent_destroy`",
      'set `"deletionProtection": false` on this environment in `immutable.config.json` and run `npm run export`',
      '`/demo-app/production/config/LOG_LEVEL` | ` "warn" `',
      // The literal value, not Terraform's escaped form.
      '`/demo-app/production/config/GREETING` | ` "Hello, ${name}: 100% literal" `',
      "| `ami_id` | string | yes |",
      "| `health_check_url` |",
      "terraform.tfstate",
    ]) {
      expect(readme).toContain(expected);
    }
    // Plain HTTP: no reason to skip certificate checks.
    expect(readme).toContain('curl -fsS "$(terraform output -raw health_check_url)"');
    expect(readme).not.toContain("--insecure");
    // Nothing of the provider-driven refresh, nor jq.
    for (const gone of ["returns once the refresh has *started*", "follows it and starts", "jq ", "instance_refresh block"]) {
      expect(readme).not.toContain(gone);
    }
    // Without deletion protection, destroy is one command.
    const staging = readFileSync(join(json, "staging", "README.md"), "utf8");
    expect(staging).toContain("This environment has no deletion protection");
    expect(staging).toContain('terraform destroy -var "ami_id=$AMI_ID"');
    expect(staging).not.toContain("prevent_destroy");
  });

  it("gives no app, stack or environment name that is not the stack's", () => {
    // The README of another app says nothing of demo-app: every name comes from the synthesized stack.
    const other = project((c) => {
      c.appName = "shop";
      c.environments = [{ name: "qa", instanceType: "t3.small", minCapacity: 1, maxCapacity: 2 }];
    });
    expectOk(runExport(other, []));
    const readme = readFileSync(join(other, "terraform", "qa", "README.md"), "utf8");
    expect(readme).not.toMatch(/demo-app|production|staging/);
    expect(readme).toContain("aws autoscaling describe-instance-refreshes --region eu-west-1 --auto-scaling-group-name shop-qa");
  });

  describe("run by ops with terraform and without node", () => {
    let path: string;
    const plans = new Map<string, PlanJson>();
    beforeAll(() => {
      path = terraformOnlyPath();
    });

    it.each(
      STACKS.flatMap((stack) => [
        [stack, "json"],
        [stack, "hcl"],
      ]),
    )("%s (%s): init, validate, fmt -check, plan", (stack, syntax) => {
      const tf = terraformCopy(join(syntax === "json" ? json : hcl, stack), path, true);
      const plan = tf.plan({ ami_id: AMI });
      expect(tf.run(["fmt", "-check", "-diff", "-no-color"])).toMatchObject({ status: 0 });
      plans.set(`${stack}/${syntax}`, plan);
      const template = plan.resource_changes.find((r) => r.type === "aws_launch_template")!;
      expect(template.change.after.image_id).toBe(AMI);
      expect(plan.resource_changes.every((r) => r.change.actions.join() === "create")).toBe(true);
    });

    it.each(STACKS)("%s: the JSON and HCL variants plan the same resources with the same values", (stack) => {
      const a = plans.get(`${stack}/json`);
      const b = plans.get(`${stack}/hcl`);
      if (!a || !b) throw new Error("the plans above failed");
      const valuesAfter = (p: PlanJson) => Object.fromEntries(p.resource_changes.map((r) => [r.address, r.change.after]));
      expect(Object.keys(valuesAfter(b)).sort()).toEqual(Object.keys(valuesAfter(a)).sort());
      expect(valuesAfter(b)).toEqual(valuesAfter(a));
      expect(b.planned_values.outputs).toEqual(a.planned_values.outputs);
      expect(b.configuration.root_module.variables).toEqual(a.configuration.root_module.variables);
    });

    it("rollout.sh runs there as shipped, with bash and terraform and no node", () => {
      const tf = terraformCopy(join(json, "staging"), path, true);
      const bin = terraformOnlyPath();
      for (const tool of ["bash", "sed"])
        symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool));
      const run = (...args: string[]) =>
        spawnSync(join(tf.dir, "rollout.sh"), args, { cwd: tf.dir, env: { ...tf.env, PATH: bin, GITHUB_ACTIONS: "" }, encoding: "utf8" });
      const help = run("--help");
      expect({ status: help.status, stdout: help.stdout }).toEqual({
        status: 0,
        stdout: expect.stringContaining(
          "rollout.sh [--dir DIR] [--timeout SECONDS] [--poll SECONDS] [--replace-all] [--ignore-alarms] [--probe-url URL] [--status] [--check-secrets NAME...]",
        ),
      });
      expect(run("--timeout", "soon")).toMatchObject({ status: 2, stderr: "rollout: --timeout needs a number of seconds\n" });
    });

    it("enforces the ami_id validation in HCL", () => {
      const tf = terraformCopy(join(hcl, "staging"), path, true);
      tf.ok(["init", "-input=false", "-no-color"]);
      const result = tf.run(["plan", "-input=false", "-no-color", "-lock=false", "-var", "ami_id=not-an-ami"]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("The ami_id value must look like ami-0123456789abcdef0.");
    });
  });
});

describe("overwrite refusal", () => {
  it("refuses an edited file, names it, and writes nothing anywhere", () => {
    const cwd = project();
    expectOk(runExport(cwd, []));
    const edited = join(cwd, "terraform", "staging", "main.tf.json");
    appendFileSync(edited, "\n");
    const before = readTree(join(cwd, "terraform"));
    // A change that would rewrite production: it must not happen either.
    const config = JSON.parse(readFileSync(join(cwd, "immutable.config.json"), "utf8"));
    config.environments[1].instanceType = "t3.large";
    writeFileSync(join(cwd, "immutable.config.json"), JSON.stringify(config));

    const result = runExport(cwd, []);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("terraform/staging/main.tf.json: was edited since the last export");
    expect(result.stderr).toContain("nothing was written");
    expect(readTree(join(cwd, "terraform"))).toEqual(before);
  });

  it("refuses a file it did not write, before creating any folder", () => {
    const cwd = project();
    mkdirSync(join(cwd, "terraform", "production"), { recursive: true });
    writeFileSync(join(cwd, "terraform", "production", "README.md"), "our own notes\n");
    const result = runExport(cwd, []);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("terraform/production/README.md: was not written by the export");
    expect(readFileSync(join(cwd, "terraform", "production", "README.md"), "utf8")).toBe("our own notes\n");
    expect(existsSync(join(cwd, "terraform", "staging"))).toBe(false);
    expect([...readTree(join(cwd, "terraform")).keys()]).toEqual(["production/README.md"]);
  });

  it("covers rollout.sh like every file: an edit is refused, a lost executable bit is restored", () => {
    const cwd = project();
    expectOk(runExport(cwd, ["--stack", "staging"]));
    const script = join(cwd, "terraform", "staging", "rollout.sh");
    chmodSync(script, 0o644);
    const restored = runExport(cwd, ["--stack", "staging"]);
    expectOk(restored);
    expect(restored.stdout).toContain("terraform/staging/: 1 written, 7 unchanged");
    expect(statSync(script).mode & 0o777).toBe(0o755);

    appendFileSync(script, "echo patched\n");
    const refused = runExport(cwd, ["--stack", "staging"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("terraform/staging/rollout.sh: was edited since the last export");
    expect(readFileSync(script, "utf8")).toMatch(/echo patched\n$/);
  });

  it("leaves other files alone and replaces only its own unchanged files when the syntax changes", () => {
    const cwd = project();
    expectOk(runExport(cwd, ["--stack", "staging"]));
    const dir = join(cwd, "terraform", "staging");
    writeFileSync(join(dir, "terraform.tfvars"), `ami_id = "${AMI}"\n`);
    const result = runExport(cwd, ["--stack", "staging", "--hcl"]);
    expectOk(result);
    expect(result.stdout).toContain("removed (main.tf.json, outputs.tf.json, variables.tf.json)");
    expect([...readTree(dir).keys()]).toEqual([
      MANIFEST_FILE,
      ".gitignore",
      "README.md",
      "main.tf",
      "outputs.tf",
      "rollout.sh",
      "terraform.tfvars",
      "terraform.tfvars.example",
      "variables.tf",
      "versions.tf",
    ]);
    expect(existsSync(join(cwd, "terraform", "production"))).toBe(false);
  });
});

describe("S3 backend, HTTPS, an existing VPC and the image from SSM", () => {
  it("moves the backend to backend.tf with native locking; both syntaxes validate without node", () => {
    const cwd = project((c) => {
      c.backend = { bucket: "acme-terraform-state", keyPrefix: "demo-app", region: "eu-west-1" };
      ssmHttpsExistingVpc(c);
    });
    writeFileSync(join(cwd, "custom.json"), readFileSync(join(cwd, "immutable.config.json")));
    // IMMUTABLE_CONFIG, like main.ts.
    expectOk(runExport(cwd, ["--stack", "production"], { IMMUTABLE_CONFIG: "custom.json" }));
    expectOk(runExport(cwd, ["--stack", "production", "--hcl", "--out", "terraform-hcl"], { IMMUTABLE_CONFIG: "custom.json" }));
    const path = terraformOnlyPath();
    for (const root of ["terraform", "terraform-hcl"]) {
      const dir = join(cwd, root, "production");
      expect(readFileSync(join(dir, "backend.tf"), "utf8")).toContain(
        'terraform {\n  backend "s3" {\n    bucket       = "acme-terraform-state"\n    encrypt      = true\n' +
          '    key          = "demo-app/production.tfstate"\n    region       = "eu-west-1"\n    use_lockfile = true\n  }\n}\n',
      );
      const main = readFileSync(join(dir, root === "terraform" ? "main.tf.json" : "main.tf"), "utf8");
      expect(main).not.toContain("backend");
      expect(main).toContain("resolve:ssm:/demo-app/image/production/ami-id");
      const readme = readFileSync(join(dir, "README.md"), "utf8");
      expect(readme).toContain("s3://acme-terraform-state/demo-app/production.tfstate");
      expect(readme).toContain(
        "aws ssm put-parameter --region eu-west-1 --name /demo-app/image/production/ami-id --type String --data-type aws:ec2:image",
      );
      // resolve:ssm: the rollout replaces every instance, and AWS cannot roll it back.
      expect(readme).toContain("`SkipMatching` `false`: replaces every instance");
      expect(readme).toContain("`AutoRollback` `false`: no automatic rollback");
      expect(readme).toContain("aws ssm get-parameter-history --region eu-west-1 --name /demo-app/image/production/ami-id");
      expect(readme).not.toContain("rollback-instance-refresh");
      expect(readme).toContain(
        "terraform apply -target=aws_ssm_parameter.parameters_secret_API_TOKEN -target=aws_ssm_parameter.parameters_secret_DATABASE_PASSWORD\n",
      );
      // With a certificate for the user's domain, the health check through the ALB name needs --insecure.
      expect(readme).toContain('curl -fsS --insecure "$(terraform output -raw health_check_url)"');

      const tf = terraformCopy(dir, path, false);
      tf.ok(["init", "-backend=false", "-input=false", "-no-color"]);
      tf.ok(["validate", "-no-color"]);
      tf.ok(["fmt", "-check", "-diff", "-no-color"]);
    }
  });
});

describe("the command", () => {
  it("names an unknown stack and lists the known ones", () => {
    const result = runExport(project(), ["--stack", "qa"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--stack qa: no such stack; the stacks are staging, production");
  });

  it("reports a config problem by field", () => {
    const result = runExport(
      project((c) => {
        c.region = "mars-1";
      }),
      [],
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("region");
  });

  it("prints help", () => {
    const result = runExport(tempDir("export-help"), ["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: npm run export");
  });

  it("exits 2 from the script on an unknown flag", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "managed/export.ts", "--frobnicate"], { cwd: REPO, encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown option --frobnicate");
  });
});
