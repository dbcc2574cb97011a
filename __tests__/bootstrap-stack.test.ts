/**
 * The bootstrap stack (CI's roles): an offline plan, read for the trust of each role (audience, one
 * subject each, never a wildcard), the roles' policies read for what they allow, the permissions
 * boundary the environments' stacks set, and `npm run bootstrap`'s own behaviour. The emulated-AWS
 * apply is in bootstrap-emulated.test.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AppConfig } from "../managed/config";
import { ConfigError, resolveConfig } from "../managed/config-validation";
import { bootstrap, githubVariablesText, missingRepositoryMessage, parseBootstrapArgs } from "../managed/bootstrap";
import { permissionsBoundaryName } from "../managed/names";
import { bakePolicy, boundaryPolicy, deployPolicies, driftPolicy, type PolicyDocument, type Statement } from "../managed/ci-policies";
import { exampleConfigJson, readSynth, synthProject } from "./support/synth";
import { type PlanJson, resourcesOf, tempDir, TerraformDir, writeCliConfig } from "./support/terraform";

jest.setTimeout(300_000);

const ACCOUNT = "123456789012";
const EXISTING = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const withGitHub = (github: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...exampleConfigJson(),
  backend: { bucket: "acme-terraform-state" },
  github,
  ...extra,
});

function planBootstrap(
  configJson: Record<string, unknown>,
  account = ACCOUNT,
): { plan: PlanJson; tf: TerraformDir; dirs: Record<string, string> } {
  const root = tempDir("bootstrap-tf");
  const dirs = synthProject(root, resolveConfig(configJson));
  const tf = new TerraformDir(dirs.bootstrap, writeCliConfig(root));
  tf.makeOffline();
  // A plan needs no backend: the S3 one is replaced by local state for the offline test.
  writeFileSync(
    join(dirs.bootstrap, "backend_override.tf.json"),
    JSON.stringify({ terraform: { backend: { local: { path: "test.tfstate" } } } }),
  );
  return { plan: tf.plan({ account_id: account }), tf, dirs };
}

/** Every trust statement of every GitHub-facing or Packer role: its principal and conditions (not the build VPC's flow-log role). */
function trusts(plan: PlanJson): Record<string, any[]> {
  return Object.fromEntries(
    resourcesOf(plan, "aws_iam_role")
      .filter((r) => r.values.name !== undefined)
      .map((r) => [r.values.name, JSON.parse(r.values.assume_role_policy).Statement]),
  );
}

describe("the bootstrap stack, planned offline", () => {
  let created: PlanJson;
  let createdTf: TerraformDir;
  beforeAll(() => {
    ({ plan: created, tf: createdTf } = planBootstrap(withGitHub({ repository: "acme/demo-app" })));
  });

  it("creates GitHub's OIDC provider for the audience sts.amazonaws.com, without a thumbprint", () => {
    const [provider] = resourcesOf(created, "aws_iam_openid_connect_provider");
    expect(provider.values).toMatchObject({ url: "https://token.actions.githubusercontent.com", client_id_list: ["sts.amazonaws.com"] });
    expect(resourcesOf(created, "aws_iam_openid_connect_provider")).toHaveLength(1);
  });

  it("trusts each role for one subject and the audience, with StringEquals: the bake role the branch, each deploy and drift role its environment", () => {
    const { "demo-app-packer-build": build, ...byRole } = trusts(created);
    // Packer's build instance role: EC2 only, no GitHub subject.
    expect(build).toEqual([{ Sid: "Ec2", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    expect(Object.keys(byRole).sort()).toEqual([
      "demo-app-bake",
      "demo-app-production-deploy",
      "demo-app-production-drift",
      "demo-app-staging-deploy",
      "demo-app-staging-drift",
    ]);
    const subjects: Record<string, string> = {
      "demo-app-bake": "repo:acme/demo-app:ref:refs/heads/main",
      "demo-app-staging-deploy": "repo:acme/demo-app:environment:staging",
      "demo-app-staging-drift": "repo:acme/demo-app:environment:staging",
      "demo-app-production-deploy": "repo:acme/demo-app:environment:production",
      "demo-app-production-drift": "repo:acme/demo-app:environment:production",
    };
    for (const [role, statements] of Object.entries(byRole)) {
      expect(statements).toEqual([
        {
          Sid: "GitHubActionsOidc",
          Effect: "Allow",
          Principal: { Federated: EXISTING },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
              "token.actions.githubusercontent.com:sub": subjects[role],
            },
          },
        },
      ]);
    }
    for (const role of resourcesOf(created, "aws_iam_role")) {
      expect(role.values.path).toBe("/github-actions/");
      if (role.values.name !== "demo-app-packer-build" && role.values.name !== undefined)
        expect(role.values.max_session_duration).toBe(7200);
    }
  });

  it("gives each deploy role its four policies and each environment a boundary at /github-actions/", () => {
    const policies = resourcesOf(created, "aws_iam_policy")
      .map((p) => p.values.name)
      .sort();
    expect(policies).toEqual([
      "demo-app-production-boundary",
      "demo-app-production-deploy-data",
      "demo-app-production-deploy-network",
      "demo-app-production-deploy-platform",
      "demo-app-production-deploy-read",
      "demo-app-staging-boundary",
      "demo-app-staging-deploy-data",
      "demo-app-staging-deploy-network",
      "demo-app-staging-deploy-platform",
      "demo-app-staging-deploy-read",
    ]);
    for (const p of resourcesOf(created, "aws_iam_policy")) {
      expect(p.values.path).toBe("/github-actions/");
      // IAM User Guide, reference_iam-quotas.html: a managed policy holds at most 6,144 characters.
      expect(p.values.policy.replace(/\s/g, "").length).toBeLessThanOrEqual(6144);
    }
    expect(resourcesOf(created, "aws_iam_role_policy_attachment")).toHaveLength(8);
    // Inline policies of a role: 10,240 characters together (same page).
    // (The build VPC's flow-log policy names its log group's ARN, known only after apply.)
    for (const p of resourcesOf(created, "aws_iam_role_policy").filter((r) => r.values.name !== "write-flow-logs"))
      expect(p.values.policy.length).toBeLessThanOrEqual(10240);
    expect(Object.keys(created.planned_values.outputs ?? {}).sort()).toEqual([
      "bake_role_arn",
      "deploy_role_arns",
      "drift_role_arns",
      "image_repository",
      "oidc_provider_arn",
      "packer_instance_profile",
      "packer_subnet_id",
    ]);
  });

  it("creates the build instance's role and profile itself, at /github-actions/, with Session Manager and ECR pull only", () => {
    const [profile] = resourcesOf(created, "aws_iam_instance_profile");
    expect(profile.values).toMatchObject({ name: "demo-app-packer-build", path: "/github-actions/" });
    expect(resourcesOf(created, "aws_iam_instance_profile")).toHaveLength(1);
    const inline = resourcesOf(created, "aws_iam_role_policy").find((p) => p.values.name === "build-instance");
    const actions = JSON.parse(inline!.values.policy)
      .Statement.flatMap((st: any) => asList(st.Action))
      .sort();
    expect(actions).toEqual([
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetAuthorizationToken",
      "ecr:GetDownloadUrlForLayer",
      "ssm:UpdateInstanceInformation",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]);
    expect(created.planned_values.outputs?.packer_instance_profile).toMatchObject({ value: "demo-app-packer-build" });
  });

  it("creates the build network the bake role may launch into: tagged environment=bootstrap, no address by default, the default group emptied, flow logs", () => {
    const [vpc] = resourcesOf(created, "aws_vpc");
    expect(vpc.values).toMatchObject({ cidr_block: "10.255.255.0/24" });
    expect(vpc.values.tags_all).toMatchObject({ app: "demo-app", environment: "bootstrap" });
    const [subnet] = resourcesOf(created, "aws_subnet");
    expect(subnet.values).toMatchObject({ map_public_ip_on_launch: false });
    expect(subnet.values.tags_all).toMatchObject({ app: "demo-app", environment: "bootstrap" });
    const [group] = resourcesOf(created, "aws_default_security_group");
    expect(group.values.ingress).toEqual([]);
    expect(group.values.egress).toEqual([]);
    const [flowLog] = resourcesOf(created, "aws_flow_log");
    expect(flowLog.values).toMatchObject({ traffic_type: "ALL", log_destination_type: "cloud-watch-logs" });
    expect(resourcesOf(created, "aws_cloudwatch_log_group")[0].values.name).toBe("/demo-app/bootstrap/build-flow-logs");
    expect(created.planned_values.outputs?.packer_subnet_id).toBeDefined();
  });

  it("creates the ECR repository CI pushes the app image to: named after the app, tags immutable, scanned on push, KMS-encrypted", () => {
    const [repository] = resourcesOf(created, "aws_ecr_repository");
    expect(repository.values).toMatchObject({
      name: "demo-app",
      image_tag_mutability: "IMMUTABLE",
      image_scanning_configuration: [{ scan_on_push: true }],
      encryption_configuration: [{ encryption_type: "KMS" }],
    });
    expect(resourcesOf(created, "aws_ecr_lifecycle_policy")).toHaveLength(1);
  });

  it("uses an existing provider instead, of the same account only", () => {
    const { plan, tf } = planBootstrap(withGitHub({ repository: "acme/demo-app", oidcProviderArn: EXISTING }));
    expect(resourcesOf(plan, "aws_iam_openid_connect_provider")).toEqual([]);
    const { "demo-app-packer-build": _build, ...github } = trusts(plan);
    expect(Object.keys(github)).toHaveLength(5);
    for (const statements of Object.values(github)) expect(statements[0].Principal).toEqual({ Federated: EXISTING });
    const other = tf.run(["plan", "-input=false", "-no-color", "-lock=false", "-var", "account_id=210987654321"]);
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/github\.oidcProviderArn is a provider of account 123456789012, not of the\s+account_id given/);
  });

  it("refuses an account id that is not 12 digits", () => {
    const bad = createdTf.run(["plan", "-input=false", "-no-color", "-lock=false", "-var", "account_id=12345"]);
    expect(bad.stderr).toMatch(/The account_id value must be 12 digits/);
  });
});

/** Every assume-role policy of every stack (the environments' and the bootstrap's) of a config. */
function assumeRolePolicies(configJson: Record<string, unknown>): Array<{ stack: string; role: string; statements: any[] }> {
  const dirs = synthProject(tempDir("bootstrap-trust"), resolveConfig(configJson));
  return Object.entries(dirs).flatMap(([stack, dir]) =>
    Object.entries<any>(readSynth(dir).resource?.aws_iam_role ?? {}).map(([role, body]) => ({
      stack,
      role,
      statements: JSON.parse(body.assume_role_policy).Statement,
    })),
  );
}

describe("no role trusts a wildcard subject", () => {
  it.each([
    ["a new provider, the default branch", withGitHub({ repository: "acme/demo-app" })],
    [
      "an existing provider, another branch, an existing VPC and WAF",
      withGitHub(
        { repository: "Acme-Org/demo.app_2", oidcProviderArn: EXISTING, branch: "release/1.x" },
        {
          waf: true,
          network: {
            mode: "existing",
            vpcId: "vpc-0123456789abcdef0",
            publicSubnetIds: ["subnet-00000001", "subnet-00000002"],
            privateSubnetIds: ["subnet-00000003", "subnet-00000004"],
          },
        },
      ),
    ],
  ])("%s: every federated trust is StringEquals on aud and sub, without * or ?; every service trust names its service", (_what, config) => {
    const all = assumeRolePolicies(config);
    expect(all.map((r) => r.stack)).toContain("bootstrap");
    expect(all.filter((r) => r.stack !== "bootstrap").length).toBeGreaterThanOrEqual(2);
    for (const { stack, role, statements } of all) {
      for (const s of statements) {
        const where = `${stack}/${role}`;
        expect([where, s.Effect]).toEqual([where, "Allow"]);
        if (s.Principal.Federated) {
          expect([where, Object.keys(s.Condition)]).toEqual([where, ["StringEquals"]]);
          const sub = s.Condition.StringEquals["token.actions.githubusercontent.com:sub"];
          expect([where, typeof sub, /[*?]/.test(sub)]).toEqual([where, "string", false]);
          expect(s.Condition.StringEquals["token.actions.githubusercontent.com:aud"]).toBe("sts.amazonaws.com");
          expect(s.Action).toBe("sts:AssumeRoleWithWebIdentity");
        } else {
          expect([where, Object.keys(s.Principal)]).toEqual([where, ["Service"]]);
          expect(JSON.stringify(s)).not.toMatch(/"\*"/);
        }
      }
    }
  });
});

const statements = (d: PolicyDocument): Statement[] => [...d.Statement];
const asList = (x: string | readonly string[]): string[] => (typeof x === "string" ? [x] : [...x]);

describe("what the roles may do", () => {
  const config = resolveConfig(withGitHub({ repository: "acme/demo-app" }, { waf: true }));
  const ctx = { config, partition: "aws", accountId: ACCOUNT };
  const staging = config.environments[0];
  const deploy = Object.values(deployPolicies(ctx, staging)).flatMap(statements);
  const all: Array<[string, Statement[]]> = [
    ["deploy", deploy],
    ["bake", statements(bakePolicy(ctx))],
    ["drift", statements(driftPolicy(ctx, staging))],
    ["boundary", statements(boundaryPolicy(ctx, staging))],
  ];

  it("names every statement on Resource * after it (…Anywhere) and puts no condition-less write there but Packer's documented set", () => {
    const anywhere = all.flatMap(([role, list]) => list.filter((s) => asList(s.Resource).includes("*")).map((s) => `${role}:${s.Sid}`));
    expect(anywhere.sort()).toEqual([
      "bake:EcrLoginAnywhere",
      "bake:PackerDescribeAnywhere",
      "boundary:BootFailuresAnywhere",
      "boundary:SessionManagerAnywhere",
      "deploy:Ec2ChangeOwn",
      "deploy:KmsCreateTaggedKeyAnywhere",
      "deploy:ReadAnywhere",
      "deploy:WafLogDeliveryAnywhere",
      "deploy:WafLogResourcePolicyAnywhere",
      "drift:ReadAnywhere",
    ]);
    // The one * that is no list or describe call and has no condition is Packer's (its docs give * too)
    // and WAF's log delivery; Ec2ChangeOwn and CreateKey are held to the environment's tags.
    const byId = Object.fromEntries(deploy.map((s) => [s.Sid, s]));
    expect(byId.Ec2ChangeOwn.Condition).toEqual({
      StringEquals: { "aws:ResourceTag/app": "demo-app", "aws:ResourceTag/environment": "staging" },
    });
    expect(byId.KmsCreateTaggedKeyAnywhere.Condition).toEqual({
      StringEquals: { "aws:RequestTag/app": "demo-app", "aws:RequestTag/environment": "staging" },
    });
    for (const action of asList(byId.ReadAnywhere.Action)) expect(action).toMatch(/:(Describe|List)/);
    for (const s of statements(driftPolicy(ctx, staging)))
      for (const action of asList(s.Action)) expect(action).toMatch(/:(Describe|List|Get)|^kms:Decrypt$/);
  });

  it("lets a deploy role create and change roles only with its environment's boundary, and pass them only to EC2 and VPC Flow Logs", () => {
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/github-actions/${permissionsBoundaryName("demo-app", "staging")}`;
    const iam = deploy.filter((s) => asList(s.Action).some((a) => a.startsWith("iam:")));
    for (const s of iam) {
      const actions = asList(s.Action);
      if (
        actions.some((a) => ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"].includes(a))
      ) {
        expect(s.Condition).toEqual({ StringEquals: { "iam:PermissionsBoundary": boundary } });
      }
      if (actions.includes("iam:PassRole")) {
        expect(s.Condition).toEqual({ StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"] } });
      }
      expect(actions).not.toContain("iam:*");
      expect(actions).not.toContain("iam:AttachRolePolicy");
      expect(actions).not.toContain("iam:DeleteRolePermissionsBoundary");
      for (const resource of asList(s.Resource)) {
        expect(resource).toMatch(/^arn:aws:iam::123456789012:(role|instance-profile)\/(demo-app-staging-\*|aws-service-role\/\*)$/);
      }
    }
    // The CI roles live at /github-actions/: role/demo-app-staging-* cannot name them.
    expect(JSON.stringify(deploy)).not.toContain("role/github-actions");
  });

  it("scopes names and paths to the environment: nothing of production in staging's policies", () => {
    const text = JSON.stringify(deploy);
    expect(text).not.toMatch(/production/);
    expect(text).toContain("parameter/demo-app/staging/*");
    expect(text).toContain("arn:aws:s3:::acme-terraform-state/demo-app/staging.tfstate");
    expect(text).toContain("arn:aws:s3:::acme-terraform-state/demo-app/staging.tfstate.tflock");
    expect(text).not.toContain("bootstrap.tfstate");
  });

  it("keeps the boundary to what the instance role and the flow-log role are given", () => {
    const actions = statements(boundaryPolicy(ctx, staging))
      .flatMap((s) => asList(s.Action))
      .sort();
    expect(actions).toEqual([
      "autoscaling:CompleteLifecycleAction",
      "cloudwatch:PutMetricData",
      "kms:Decrypt",
      "logs:CreateLogStream",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
      "ssm:UpdateInstanceInformation",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]);
  });

  it("lets the bake role pass only the bootstrap's build role, to EC2, create or change no IAM role, publish only the image parameter", () => {
    const withParameter = resolveConfig(withGitHub({ repository: "acme/demo-app" }, { image: { amiParameter: "/demo-app/image/ami-id" } }));
    const bake = statements(bakePolicy({ ...ctx, config: withParameter }));
    const byId = Object.fromEntries(bake.map((s) => [s.Sid, s]));
    expect(byId.PackerPassBuildRole).toEqual({
      Sid: "PackerPassBuildRole",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: "arn:aws:iam::123456789012:role/github-actions/demo-app-packer-build",
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    });
    const iam = bake
      .flatMap((s) => asList(s.Action))
      .filter((a) => a.startsWith("iam:"))
      .sort();
    expect(iam).toEqual(["iam:GetInstanceProfile", "iam:GetRole", "iam:PassRole"]);
    for (const action of bake.flatMap((s) => asList(s.Action)))
      expect(action).not.toMatch(/^ec2:Modify(Image|Snapshot)Attribute$|GetPasswordData/);
    expect(byId.PublishImage).toMatchObject({
      Action: "ssm:PutParameter",
      Resource: "arn:aws:ssm:eu-west-1:123456789012:parameter/demo-app/image/ami-id",
    });
    expect(statements(bakePolicy(ctx)).find((s) => s.Sid === "PublishImage")).toBeUndefined();
  });
});

describe("the environments' roles with CI", () => {
  const roles = (config: AppConfig, env: string): any[] => {
    const dirs = synthProject(tempDir("bootstrap-boundary"), config);
    return Object.values(readSynth(dirs[env]).resource.aws_iam_role);
  };

  it("carry the bootstrap stack's boundary of their environment when config.github is set, and none without", () => {
    const withCi = roles(resolveConfig(withGitHub({ repository: "acme/demo-app" })), "staging");
    expect(withCi).toHaveLength(2);
    for (const role of withCi) {
      expect(role.permissions_boundary).toMatch(/^arn:aws:iam::\$\{local\.[a-z_]+\}:policy\/github-actions\/demo-app-staging-boundary$/);
      expect(role.name_prefix).toMatch(/^demo-app-staging-/);
    }
    for (const role of roles(resolveConfig(exampleConfigJson()), "staging")) expect(role.permissions_boundary).toBeUndefined();
  });

  it("refuses environment names that are another's prefix plus '-' when CI scopes by that prefix", () => {
    const overlapping = withGitHub({ repository: "acme/demo-app" }, { environments: [{ name: "staging" }, { name: "staging-eu" }] });
    expect(() => resolveConfig(overlapping)).toThrow(ConfigError);
    expect(() => resolveConfig(overlapping)).toThrow(/environments\[1\]\.name: "staging-eu" starts with "staging-": staging's deploy role/);
    const { github: _github, ...withoutCi } = overlapping;
    expect(resolveConfig(withoutCi).environments.map((e) => e.name)).toEqual(["staging", "staging-eu"]);
  });
});

describe("npm run bootstrap", () => {
  it("stops with exit 2 and names github.repository when the config has none", () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, "error").mockImplementation((m: string) => {
      errors.push(m);
    });
    try {
      expect(bootstrap({ mode: "apply", autoApprove: false }, resolveConfig(exampleConfigJson()))).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors).toEqual([missingRepositoryMessage()]);
    expect(errors[0]).toMatch(/immutable\.config\.json has no github\.repository/);
    expect(errors[0]).toContain('"github": { "repository": "<owner>/<name>" }');
  });

  it("takes --plan, --destroy, --auto-approve and --account-id, and refuses anything else", () => {
    expect(parseBootstrapArgs([])).toEqual({ mode: "apply", autoApprove: false, accountId: undefined });
    expect(parseBootstrapArgs(["--plan", "--account-id", ACCOUNT])).toEqual({ mode: "plan", autoApprove: false, accountId: ACCOUNT });
    expect(parseBootstrapArgs(["--destroy", "--auto-approve"])).toEqual({ mode: "destroy", autoApprove: true, accountId: undefined });
    expect(() => parseBootstrapArgs(["--plan", "--destroy"])).toThrow(/exclusive/);
    expect(() => parseBootstrapArgs(["--account-id", "12"])).toThrow(/12-digit/);
    expect(() => parseBootstrapArgs(["--yes"])).toThrow(/unknown option --yes/);
  });

  it("prints the roles and exactly which variable to set where", () => {
    const config = resolveConfig(withGitHub({ repository: "acme/demo-app" }));
    const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/github-actions/${name}`;
    const text = githubVariablesText(config, {
      oidc_provider_arn: EXISTING,
      bake_role_arn: arn("demo-app-bake"),
      drift_role_arns: { staging: arn("demo-app-staging-drift"), production: arn("demo-app-production-drift") },
      packer_instance_profile: "demo-app-packer-build",
      packer_subnet_id: "subnet-0123456789abcdef0",
      image_repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo-app",
      deploy_role_arns: { staging: arn("demo-app-staging-deploy"), production: arn("demo-app-production-deploy") },
    });
    expect(text).toContain(`gh variable set AWS_BAKE_ROLE_ARN --repo acme/demo-app --body ${arn("demo-app-bake")}`);
    expect(text).toContain("gh variable set PACKER_INSTANCE_PROFILE --repo acme/demo-app --body demo-app-packer-build");
    expect(text).toContain("gh variable set PACKER_SUBNET_ID --repo acme/demo-app --body subnet-0123456789abcdef0");
    expect(text).toContain(
      "gh variable set IMAGE_REPOSITORY --repo acme/demo-app --body 123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo-app",
    );
    // The drift roles are the environments' own: no repository-wide drift variable any more.
    expect(text).not.toMatch(/AWS_DRIFT_ROLE_ARN --repo/);
    for (const env of ["staging", "production"])
      expect(text).toContain(`gh variable set AWS_DRIFT_ROLE_ARN --env ${env} --repo acme/demo-app --body ${arn(`demo-app-${env}-drift`)}`);
    expect(text).toContain(`gh variable set AWS_ROLE_ARN --env staging --repo acme/demo-app --body ${arn("demo-app-staging-deploy")}`);
    expect(text).toContain(
      `gh variable set AWS_ROLE_ARN --env production --repo acme/demo-app --body ${arn("demo-app-production-deploy")}`,
    );
    expect(text).toMatch(/Required reviewers/);
    // The environment subject names no branch: each environment gets a deployment branch policy of main.
    for (const env of ["staging", "production"]) {
      expect(text).toContain(
        `gh api -X PUT repos/acme/demo-app/environments/${env} -F 'deployment_branch_policy[protected_branches]=false' -F 'deployment_branch_policy[custom_branch_policies]=true'`,
      );
      expect(text).toContain(
        `gh api -X POST repos/acme/demo-app/environments/${env}/deployment-branch-policies -f name=main -f type=branch`,
      );
    }
    expect(text).toMatch(/names no branch/);
  });
});
