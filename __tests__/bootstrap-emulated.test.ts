/**
 * The bootstrap stack applied on the emulated AWS (moto server, support/emulated-aws.ts), and the plan
 * right after it (must be empty); once creating the GitHub OIDC provider, once using one that exists.
 *
 * What moto does not check, so this test cannot either: it evaluates no trust policy (no token is
 * exchanged: the subjects are read in the plan, bootstrap-stack.test.ts), no permissions policy and no
 * permissions boundary (every call is allowed, whatever the deploy role's policies say), and it takes
 * any thumbprint list for an OIDC provider without fetching the issuer's certificate.
 */
import { resolveConfig } from "../managed/config-validation";
import { permissionsBoundaryArn } from "../managed/names";
import { EMULATED_ACCOUNT_ID, EmulatedAws } from "./support/emulated-aws";
import { exampleConfigJson, synthProject } from "./support/synth";
import { tempDir, TerraformDir, writeCliConfig } from "./support/terraform";

jest.setTimeout(600_000);

let emu: EmulatedAws;
beforeAll(async () => {
  emu = await EmulatedAws.start();
});
afterAll(async () => {
  await emu?.stop();
});

function prepare(configJson: Record<string, unknown>): TerraformDir {
  const root = tempDir("bootstrap-emu");
  const config = resolveConfig(configJson);
  const dirs = synthProject(root, config);
  // The provider reaches moto through AWS_ENDPOINT_URL, as in lifecycle-emulated.test.ts.
  return new TerraformDir(dirs.bootstrap, writeCliConfig(root), emu.cliEnv(config.region));
}

const vars = ["-var", `account_id=${EMULATED_ACCOUNT_ID}`];

/**
 * Terraform runs without blocking the test process: the moto server is its child, and its log pipes
 * must be read while terraform talks to it (as in lifecycle-emulated.test.ts).
 */
async function terraform(tf: TerraformDir, args: readonly string[], allowed: readonly number[] = [0]): Promise<string> {
  const r = await tf.runAsync(args);
  if (!allowed.includes(r.status))
    throw new Error(`terraform ${args.join(" ")} exited ${r.status}:\n${r.stdout.slice(-6000)}\n${r.stderr}`);
  return r.stdout;
}

async function applyThenPlan(tf: TerraformDir): Promise<void> {
  await terraform(tf, ["init", "-input=false", "-no-color"]);
  await terraform(tf, ["apply", "-auto-approve", "-input=false", "-no-color", "-lock=false", ...vars]);
  // -detailed-exitcode: 0 is an empty plan, 2 a plan with changes (reported as the failure it is).
  await terraform(tf, ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false", ...vars]);
}

describe("the bootstrap stack on the emulated AWS", () => {
  const config = { ...exampleConfigJson(), github: { repository: "acme/demo-app" } };

  it("applies (creating the OIDC provider), the plan right after is empty, and the boundaries are where the stacks look for them", async () => {
    const tf = prepare(config);
    await applyThenPlan(tf);
    const region = resolveConfig(config).region;
    const providers = emu.aws(region, ["iam", "list-open-id-connect-providers"]).OpenIDConnectProviderList.map((p: any) => p.Arn);
    expect(providers).toEqual([`arn:aws:iam::${EMULATED_ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com`]);
    const provider = emu.aws(region, ["iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", providers[0]]);
    expect(provider.ClientIDList).toEqual(["sts.amazonaws.com"]);
    const roles = emu.aws(region, ["iam", "list-roles", "--path-prefix", "/github-actions/"]).Roles;
    // The build VPC's flow-log role (name_prefix) at the CI path too, where no deploy role's pattern reaches.
    expect(roles.filter((r: any) => r.RoleName.startsWith("demo-app-bootstrap-build-flow-"))).toHaveLength(1);
    expect(
      roles
        .map((r: any) => r.RoleName)
        .filter((n: string) => !n.startsWith("demo-app-bootstrap-build-flow-"))
        .sort(),
    ).toEqual([
      "demo-app-bake",
      "demo-app-packer-build",
      "demo-app-production-deploy",
      "demo-app-production-drift",
      "demo-app-staging-deploy",
      "demo-app-staging-drift",
    ]);
    // Packer's build instance profile, with its role: the bake role passes it and creates none.
    const profile = emu.aws(region, ["iam", "get-instance-profile", "--instance-profile-name", "demo-app-packer-build"]).InstanceProfile;
    expect(profile.Path).toBe("/github-actions/");
    expect(profile.Roles.map((r: any) => r.RoleName)).toEqual(["demo-app-packer-build"]);
    const policies = emu
      .aws(region, ["iam", "list-policies", "--scope", "Local", "--path-prefix", "/github-actions/"])
      .Policies.map((p: any) => p.Arn);
    for (const env of ["staging", "production"])
      expect(policies).toContain(permissionsBoundaryArn("aws", EMULATED_ACCOUNT_ID, "demo-app", env));
    const outputs = JSON.parse(await terraform(tf, ["output", "-json"]));
    expect(outputs.deploy_role_arns.value).toEqual({
      staging: `arn:aws:iam::${EMULATED_ACCOUNT_ID}:role/github-actions/demo-app-staging-deploy`,
      production: `arn:aws:iam::${EMULATED_ACCOUNT_ID}:role/github-actions/demo-app-production-deploy`,
    });
    await terraform(tf, ["destroy", "-auto-approve", "-input=false", "-no-color", "-lock=false", ...vars]);
    expect(emu.aws(region, ["iam", "list-open-id-connect-providers"]).OpenIDConnectProviderList).toEqual([]);
  });

  it("with github.oidcProviderArn, uses the account's provider, creates none, and destroy leaves it", async () => {
    const region = resolveConfig(config).region;
    const arn = emu.aws(region, [
      "iam",
      "create-open-id-connect-provider",
      "--url",
      "https://token.actions.githubusercontent.com",
      "--client-id-list",
      "sts.amazonaws.com",
      "--thumbprint-list",
      "ffffffffffffffffffffffffffffffffffffffff",
    ]).OpenIDConnectProviderArn;
    const tf = prepare({ ...config, github: { repository: "acme/demo-app", oidcProviderArn: arn } });
    await applyThenPlan(tf);
    const state = await terraform(tf, ["state", "list"]);
    expect(state).not.toMatch(/aws_iam_openid_connect_provider/);
    await terraform(tf, ["destroy", "-auto-approve", "-input=false", "-no-color", "-lock=false", ...vars]);
    expect(emu.aws(region, ["iam", "list-open-id-connect-providers"]).OpenIDConnectProviderList.map((p: any) => p.Arn)).toEqual([arn]);
  });
});
