import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { type PackerVars, renderPkrVars } from "../managed/hcl";
import { defaultAmiParameter } from "../managed/names";
import { copyForOldPacker, PACKER_DIR, packerHclFiles, parseHclFile, removeDir, run } from "./support/packer";

/*
 * The templates are checked three ways:
 *  - HashiCorp's HCL parser (hcl2json) reads every file; assertions on the structure below;
 *  - `packer fmt -check` (Debian's packer 1.6.6; fmt does not depend on the version's schemas);
 *  - `packer validate -syntax-only` of a copy without versions.pkr.hcl, because 1.6.6 does not know
 *    `required_plugins`.
 *
 * What packer 1.6.6 cannot check, found by feeding it broken copies:
 *  - syntax-only parses HCL and decodes `variable`, `locals` and top-level blocks, but never decodes
 *    source, provisioner or post-processor bodies: an unknown option (imds_support, say, or a typo)
 *    or an unknown provisioner type passes; references to undefined variables pass;
 *  - it reads *.auto.pkrvars.hcl (syntax errors fail, undeclared names warn) but not value types;
 *  - full `validate` on 1.6.6 evaluates every variable `validation` condition as false, so the
 *    validation blocks are checked here by parsing only; a current packer (`packer init` +
 *    `packer validate`, see packer/README.md) checks them for real, with the amazon plugin's schema.
 */

const exampleVars: PackerVars = {
  app_name: "shop",
  app_version: "1.4.2",
  aws_region: "eu-west-1",
  instance_type: "t3.small",
  base_os: "al2023",
  container_image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4.2",
  app_port: 8080,
  health_check_path: "/healthz",
  ami_ssm_parameter: defaultAmiParameter("shop"),
  tags: { team: "web", "cost-center": "42" },
};

let parsed: Record<string, any>;
let app: any;
let source: any;
let build: any;
let variables: Record<string, any>;

beforeAll(async () => {
  parsed = {};
  for (const file of packerHclFiles()) parsed[file] = await parseHclFile(file);
  app = parsed["app.pkr.hcl"];
  source = app.source["amazon-ebs"].app[0];
  build = app.build[0];
  variables = Object.fromEntries(Object.entries(parsed["variables.pkr.hcl"].variable).map(([k, v]) => [k, (v as any[])[0]]));
});

describe("packer/*.pkr.hcl parsed with hcl2json", () => {
  it("has the files of the layout, each parseable", () => {
    expect(packerHclFiles()).toEqual(["app.pkr.hcl", "variables.pkr.hcl", "versions.pkr.hcl"]);
    for (const file of packerHclFiles()) expect(Object.keys(parsed[file]).length).toBeGreaterThan(0);
  });

  it("pins the amazon plugin (>= 1.3) and packer in versions.pkr.hcl, and only there", () => {
    const packerBlock = parsed["versions.pkr.hcl"].packer[0];
    expect(packerBlock.required_version).toMatch(/^>= 1\.\d+/);
    expect(packerBlock.required_plugins[0].amazon).toEqual({ source: "github.com/hashicorp/amazon", version: ">= 1.3.0, < 2.0.0" });
    expect(app.packer).toBeUndefined();
    expect(parsed["variables.pkr.hcl"].packer).toBeUndefined();
  });

  it("gives every variable a snake_case name, a description and a type", () => {
    for (const [name, variable] of Object.entries(variables)) {
      expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(typeof variable.description).toBe("string");
      expect(variable.description.length).toBeGreaterThan(10);
      expect(variable.type).toMatch(/^\$\{(string|number|bool|map\(string\)|list\(string\))\}$/);
    }
  });

  it("declares exactly the variables PackerVars sets, plus git_sha, iam_instance_profile and associate_public_ip for the command line (CI)", () => {
    const fromRenderer = Object.keys(
      Object.fromEntries(
        renderPkrVars({ ...exampleVars, architecture: "x86_64", subnet_id: "" })
          .split("\n")
          .map((line) => [line.split(/\s*=/)[0], 1]),
      ),
    ).filter((name) => /^[a-z_]+$/.test(name));
    expect(Object.keys(variables).sort()).toEqual([...fromRenderer, "git_sha", "iam_instance_profile", "associate_public_ip"].sort());
  });

  it("validates every variable that has no safe default, with an error message that is a sentence", () => {
    const validated = [
      "app_name",
      "app_version",
      "git_sha",
      "aws_region",
      "instance_type",
      "architecture",
      "base_os",
      "container_image",
      "app_port",
      "health_check_path",
      "ami_ssm_parameter",
      "subnet_id",
      "tags",
    ];
    for (const name of validated) {
      const rules = variables[name].validation;
      expect(rules).toHaveLength(1);
      expect(rules[0].condition).toContain(`var.${name}`);
      expect(rules[0].error_message).toMatch(/^The .*\.$|^Tag keys .*\.$/);
    }
    expect(variables.app_name.validation[0].condition).toContain("^[a-z][a-z0-9-]{0,19}$");
    expect(variables.base_os.validation[0].condition).toBe('${contains(["ubuntu-24.04", "al2023", "debian-12"], var.base_os)}');
    expect(variables.app_port.validation[0].condition).toContain("var.app_port != 22");
    // A project without commits has no sha; "unknown" is the one non-hex value accepted.
    expect(variables.git_sha.validation[0].condition).toBe('${var.git_sha == "unknown" || can(regex("^[0-9a-f]{7,40}$", var.git_sha))}');
    // No default for what identifies the build; an empty default means "don't publish".
    for (const name of ["app_name", "app_version", "git_sha", "container_image"]) expect(variables[name]).not.toHaveProperty("default");
    expect(variables.ami_ssm_parameter.default).toBe("");
  });

  it("starts from the newest official Ubuntu 24.04, AL2023 or Debian 12 image, chosen by base_os", () => {
    const filter = source.source_ami_filter[0];
    expect(filter.most_recent).toBe(true);
    expect(filter.owners).toEqual(["${local.base_image.owner}"]);
    expect(filter.filters).toMatchObject({
      name: "${local.base_image.name_filter}",
      architecture: "${var.architecture}",
      "root-device-type": "ebs",
    });
    const images = app.locals[0].base_images;
    expect(images["ubuntu-24.04"].owner).toBe("099720109477"); // Canonical
    expect(images["ubuntu-24.04"].name_filter).toMatch(/^ubuntu\/images\/hvm-ssd-gp3\/ubuntu-noble-24\.04-/);
    expect(images.al2023.owner).toBe("137112412989"); // Amazon
    expect(images.al2023.name_filter).toMatch(/^al2023-ami-2023\./);
    expect(images["debian-12"].owner).toBe("136693071363"); // Debian's cloud team
    // hcl2json prints the conditional as a template directive.
    expect(images["debian-12"].name_filter).toBe('debian-12-%{if var.architecture == "arm64"}arm64%{else}amd64%{endif}-*');
    expect(images["debian-12"].ssh_username).toBe("admin");
    expect(app.locals[0].base_image).toBe("${local.base_images[var.base_os]}");
  });

  it("encrypts the AMI, requires IMDSv2 on the AMI and the build instance, opens no SSH port", () => {
    // Encrypted at launch, not by an encrypt_boot copy: CreateImage then makes encrypted snapshots
    // tagged in the same call, which the bake role requires (managed/ci-policies.ts).
    expect(source).not.toHaveProperty("encrypt_boot");
    expect(source.launch_block_device_mappings).toEqual([
      { device_name: "${local.base_image.root_device}", encrypted: true, delete_on_termination: true, volume_type: "gp3" },
    ]);
    const images = app.locals[0].base_images;
    expect([images["ubuntu-24.04"].root_device, images.al2023.root_device, images["debian-12"].root_device]).toEqual([
      "/dev/sda1",
      "/dev/xvda",
      "/dev/xvda",
    ]);
    // A public address only when asked (CI, in the bootstrap's build subnet).
    expect(source.associate_public_ip_address).toBe("${var.associate_public_ip ? true : null}");
    expect(source.imds_support).toBe("v2.0");
    expect(source.metadata_options).toEqual([{ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 }]);
    expect(source.communicator).toBe("ssh");
    expect(source.ssh_interface).toBe("session_manager");
    // No CIDR for the temporary security group, no public address, no fixed key.
    for (const option of [
      "temporary_security_group_source_cidrs",
      "temporary_security_group_source_public_ip",
      "ssh_keypair_name",
      "ssh_password",
    ]) {
      expect(source).not.toHaveProperty(option);
    }
  });

  it("gives the build instance the bootstrap's profile when iam_instance_profile is set, else a temporary role with Session Manager and ECR read only", () => {
    expect(source.iam_instance_profile).toBe('${var.iam_instance_profile == "" ? null : var.iam_instance_profile}');
    const dynamic = source.dynamic.temporary_iam_instance_profile_policy_document[0];
    expect(dynamic.for_each).toBe('${var.iam_instance_profile == "" ? [1] : []}');
    const doc = dynamic.content[0];
    expect(doc.Version).toBe("2012-10-17");
    const actions = doc.Statement.flatMap((s: any) => s.Action);
    expect(doc.Statement.every((s: any) => s.Effect === "Allow")).toBe(true);
    expect(actions).toEqual(expect.arrayContaining(["ssm:UpdateInstanceInformation", "ssmmessages:OpenDataChannel", "ecr:BatchGetImage"]));
    for (const action of actions)
      expect(action).toMatch(
        /^(ssm:UpdateInstanceInformation|ssmmessages:\w+|ecr:(GetAuthorizationToken|BatchGetImage|GetDownloadUrlForLayer))$/,
      );
    expect(source).not.toHaveProperty("temporary_iam_instance_profile_policy_document");
  });

  it("names the AMI after app, version and time, and tags AMI, snapshots and build instance alike", () => {
    expect(app.locals[0].ami_name).toBe("${var.app_name}-${var.app_version}-${local.ami_timestamp}");
    const tags: string = app.locals[0].image_tags;
    expect(tags.startsWith("${merge(var.tags, {")).toBe(true); // build tags win over var.tags
    for (const [key, value] of [
      ["app", "var.app_name"],
      ["version", "var.app_version"],
      ["git_sha", "var.git_sha"],
      ["base_ami", '"{{ .SourceAMI }}"'],
      ["build_time", "local.build_time"],
    ]) {
      expect(tags).toMatch(new RegExp(`\\b${key}\\s+= ${value.replace(/[.{}]/g, "\\$&")}\\n`));
    }
    expect(source.tags).toBe("${local.image_tags}");
    expect(source.snapshot_tags).toBe("${local.image_tags}");
    expect(source.run_volume_tags).toBe("${local.image_tags}");
    expect(source.run_tags).toContain("local.image_tags");
  });

  it("runs bake -> test -> clean, then manifest -> publish, in that order", () => {
    const text = readFileSync(join(PACKER_DIR, "app.pkr.hcl"), "utf8");
    const order = [
      "scripts/install-runtime.sh",
      "scripts/install-app.sh",
      "scripts/harden.sh",
      "scripts/test-image.sh",
      "scripts/cleanup.sh",
      'post-processor "manifest"',
      'post-processor "shell-local"',
    ];
    const positions = order.map((needle) => text.indexOf(needle));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // hcl2json groups provisioners by type; the shell ones keep their order.
    const shells = build.provisioner.shell;
    expect(shells.map((p: any) => p.script ?? p.scripts ?? p.inline)).toEqual([
      ["mkdir -p /tmp/immutable-app"],
      ["${path.root}/scripts/install-runtime.sh", "${path.root}/scripts/install-app.sh", "${path.root}/scripts/harden.sh"],
      "${path.root}/scripts/test-image.sh",
      "${path.root}/scripts/cleanup.sh",
    ]);
    for (const shell of shells.slice(1)) expect(shell.execute_command).toBe("${local.sudo_execute}");
    expect(build.provisioner.file).toEqual([{ source: "${path.root}/files/", destination: "/tmp/immutable-app/" }]);
  });

  it("writes a manifest with version and git sha, and publishes to SSM only when asked", () => {
    const chain = build["post-processors"][0]["post-processor"];
    expect(chain.manifest[0].custom_data).toMatchObject({
      app_version: "${var.app_version}",
      git_sha: "${var.git_sha}",
      app_name: "${var.app_name}",
    });
    expect(chain.manifest[0].output).toBe("${local.manifest_path}");
    const publish = chain["shell-local"][0];
    expect(publish.script).toBe("${path.root}/scripts/publish-ami-id.sh");
    expect(publish.environment_vars).toEqual(
      expect.arrayContaining(["AMI_SSM_PARAMETER=${var.ami_ssm_parameter}", "MANIFEST=${local.manifest_path}"]),
    );
  });

  it("passes every answer the scripts need, and nothing as a template of the files", () => {
    const env: string[] = app.locals[0].script_env;
    for (const name of ["APP_NAME", "AWS_REGION", "BASE_OS", "CONTAINER_IMAGE", "APP_PORT", "HEALTH_CHECK_PATH", "STAGING_DIR"]) {
      expect(env.some((entry) => entry.startsWith(`${name}=`))).toBe(true);
    }
    // The repo's files are real files: no Handlebars in packer/.
    for (const file of ["app.pkr.hcl", "variables.pkr.hcl", "files/immutable-app@.service", "files/configure-app.sh"]) {
      expect(readFileSync(join(PACKER_DIR, file), "utf8")).not.toMatch(/\{\{\s*[#/]?[a-z_]+\s*\}\}/);
    }
  });
});

describe("packer 1.6.6 on the real folder", () => {
  it("finds packer/ formatted (packer fmt -check)", () => {
    const result = run("packer", ["fmt", "-check", "-diff", "."], { cwd: PACKER_DIR });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("validates the syntax of packer/ plus a rendered shop.auto.pkrvars.hcl, which is fmt clean", async () => {
    const pkrvars = renderPkrVars(exampleVars);
    expect(await parse("shop.auto.pkrvars.hcl", pkrvars)).toMatchObject({ app_name: "shop", ami_ssm_parameter: "/shop/image/ami-id" });
    const dir = copyForOldPacker({ "shop.auto.pkrvars.hcl": pkrvars });
    try {
      const validate = run("packer", ["validate", "-syntax-only", "."], { cwd: dir });
      expect(validate.stderr).toBe("");
      // It reads the var file: a syntax error fails, an undeclared variable is a warning.
      expect(validate.stdout).not.toContain("Warning");
      expect(validate.stdout).toContain("Syntax-only check passed");
      expect(validate.status).toBe(0);
      const fmt = run("packer", ["fmt", "-check", "-diff", "."], { cwd: dir });
      expect(fmt.stdout + fmt.stderr).toBe("");
      expect(fmt.status).toBe(0);
    } finally {
      removeDir(dir);
    }
  });

  it("would catch a broken folder: syntax-only rejects an unknown variable argument", () => {
    const dir = copyForOldPacker();
    try {
      const path = join(dir, "variables.pkr.hcl");
      const broken = readFileSync(path, "utf8").replace('variable "app_name" {', 'variable "app_name" {\n  sensitive_typo = true');
      writeFileSync(path, broken);
      const validate = run("packer", ["validate", "-syntax-only", "."], { cwd: dir });
      expect(validate.status).not.toBe(0);
      expect(validate.stdout + validate.stderr).toContain('An argument named "sensitive_typo" is not expected here');
    } finally {
      removeDir(dir);
    }
  });
});
