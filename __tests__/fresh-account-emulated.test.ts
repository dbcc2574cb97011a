/**
 * A fresh account, from zero, on the emulated AWS (moto server, support/emulated-aws.ts): no bucket,
 * no role, nothing. `npm run bootstrap` (managed/bootstrap.ts) with a backend in the config creates the
 * state bucket with its own state kept locally, moves that state into the bucket, and a second run
 * finds it there; then an environment's first deploy (`npm run deploy`) keeps its state in the same
 * bucket through the S3 backend, which Terraform points at the emulated S3 (AWS_ENDPOINT_URL).
 *
 * What moto does not check, so this test cannot either: no IAM policy is evaluated (the caller may do
 * everything, as an administrator may), no bucket policy is enforced (the TLS-only statement is read
 * back, not tried over plain HTTP: the emulated endpoint is plain HTTP), and S3's conditional writes
 * behind use_lockfile are moto's.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../managed/config-validation";
import { EMULATED_ACCOUNT_ID, EmulatedAws } from "./support/emulated-aws";
import { exampleConfigJson, REPO_ROOT } from "./support/synth";
import { tempDir, writeCliConfig } from "./support/terraform";

jest.setTimeout(900_000);

const TSX = require.resolve("tsx");
const BUCKET = "acme-fresh-terraform-state";

let emu: EmulatedAws;
let project: string;
let cli: string;
const configJson = { ...exampleConfigJson(), github: { repository: "acme/demo-app" }, backend: { bucket: BUCKET } };
const config = resolveConfig(configJson);
const region = config.region;

beforeAll(async () => {
  emu = await EmulatedAws.start();
  const root = tempDir("fresh-account");
  cli = writeCliConfig(root);
  project = join(root, "project");
  mkdirSync(project);
  writeFileSync(join(project, "immutable.config.json"), JSON.stringify(configJson, null, 2));
  for (const name of ["stacks", "managed", "node_modules"]) symlinkSync(join(REPO_ROOT, name), join(project, name));
});
afterAll(async () => {
  await emu?.stop();
});

/**
 * The emulated AWS for the provider and the CLI (AWS_ENDPOINT_URL), and for Terraform's S3 backend,
 * which takes its endpoints from AWS_ENDPOINT_URL_S3 and _STS but addresses buckets virtual-hosted
 * (`<bucket>.127.0.0.1`, a name no resolver here knows) unless its configuration says use_path_style,
 * which the project's does not and should not. So the backend's S3 requests go to moto as an HTTP
 * proxy: Go's client sends a proxied request without resolving its host, and moto reads the bucket
 * from the Host header (moto/s3/responses.py, subdomain_based_buckets). Requests to 127.0.0.1 itself
 * (the provider, the CLI) go direct (NO_PROXY). Test plumbing only: nothing of it is in the project.
 */
function backendEnv(): NodeJS.ProcessEnv {
  const env = emu.cliEnv(region);
  const url = env.AWS_ENDPOINT_URL!;
  return {
    ...env,
    AWS_ENDPOINT_URL_S3: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_ENDPOINT_URL_IAM: url,
    HTTP_PROXY: url,
    http_proxy: url,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
}

/** A project command as its user runs it, against the emulated AWS. */
function command(script: string, args: readonly string[]): Promise<{ status: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX, join("managed", script), ...args], {
      cwd: project,
      env: {
        ...process.env,
        ...backendEnv(),
        TF_CLI_CONFIG_FILE: cli,
        TF_IN_AUTOMATION: "1",
        CHECKPOINT_DISABLE: "1",
        GITHUB_ACTIONS: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, output }));
  });
}

/** Exit 0, or the failure with the command's output. */
function ok(result: { status: number; output: string }): void {
  if (result.status !== 0) throw new Error(`exit ${result.status}:\n${result.output.slice(-6000)}`);
}

const bootstrap = (...args: string[]) => command("bootstrap.ts", ["--auto-approve", "--account-id", EMULATED_ACCOUNT_ID, ...args]);
const objects = (): string[] => (emu.aws(region, ["s3api", "list-objects-v2", "--bucket", BUCKET])?.Contents ?? []).map((o: any) => o.Key);

describe("a fresh account, from zero", () => {
  it("starts empty: no bucket, no role", () => {
    expect(emu.aws(region, ["s3api", "list-buckets"]).Buckets).toEqual([]);
    expect(emu.aws(region, ["iam", "list-roles", "--path-prefix", "/github-actions/"]).Roles).toEqual([]);
  });

  it("npm run bootstrap creates the state bucket from local state, then moves its own state into it", async () => {
    const first = await bootstrap();
    ok(first);
    expect(first.output).toContain(`no state in s3://${BUCKET} yet`);
    expect(first.output).toContain(`the state is now s3://${BUCKET}/demo-app/bootstrap.tfstate`);
    expect(first.output).toContain("gh variable set AWS_BAKE_ROLE_ARN");
    // The override that pointed the stack at the local file is gone; the backend is the bucket again.
    expect(existsSync(join(project, "cdktf.out", "stacks", "bootstrap", "bootstrap_local_backend_override.tf.json"))).toBe(false);
    expect(objects()).toEqual(["demo-app/bootstrap.tfstate"]);
    // The bucket as the S3 backend docs ask: versioned, encrypted, no public access, TLS only.
    expect(emu.aws(region, ["s3api", "get-bucket-versioning", "--bucket", BUCKET]).Status).toBe("Enabled");
    const encryption = emu.aws(region, ["s3api", "get-bucket-encryption", "--bucket", BUCKET]);
    expect(encryption.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm).toBe("AES256");
    expect(emu.aws(region, ["s3api", "get-public-access-block", "--bucket", BUCKET]).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const policy = JSON.parse(emu.aws(region, ["s3api", "get-bucket-policy", "--bucket", BUCKET]).Policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Sid: "TlsOnly", Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
    const roles = emu.aws(region, ["iam", "list-roles", "--path-prefix", "/github-actions/"]).Roles.map((r: any) => r.RoleName);
    expect(roles).toEqual(expect.arrayContaining(["demo-app-bake", "demo-app-staging-deploy", "demo-app-staging-drift"]));
  });

  it("a second run reads its state from the bucket and plans no change", async () => {
    const again = await bootstrap("--plan");
    ok(again);
    expect(again.output).not.toContain("yet: this run keeps it");
    // terraform colours its output
    expect(again.output.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/No changes\. Your infrastructure matches the configuration\./);
  });

  it("then an environment: the first deploy creates its secret parameters and stops; with the secret set it deploys; a second deploy rolls out a new image; every state is in the bucket", async () => {
    const deploy = (ami: string) => command("deploy.ts", ["staging", "--auto-approve", "--ami", ami]);
    const first = await deploy("ami-0123456789abcdef0");
    expect([first.status, first.output.slice(-2000)]).toEqual([
      4,
      expect.stringContaining("Set the secrets, then run npm run deploy -- staging again."),
    ]);
    expect(objects().sort()).toEqual(["demo-app/bootstrap.tfstate", "demo-app/staging.tfstate"]);
    for (const name of config.secrets) {
      emu.aws(region, [
        "ssm",
        "put-parameter",
        "--overwrite",
        "--type",
        "SecureString",
        "--name",
        `/demo-app/staging/secret/${name}`,
        "--value",
        "first",
      ]);
    }
    ok(await deploy("ami-0123456789abcdef0"));
    ok(await deploy("ami-0fedcba9876543210"));
    const refreshes = (await emu.requests()).filter((r) => r.action === "StartInstanceRefresh");
    expect(refreshes).toHaveLength(1);
    // The lock file of S3 native locking is gone after each run: no run holds the state now.
    expect(objects().sort()).toEqual(["demo-app/bootstrap.tfstate", "demo-app/staging.tfstate"]);
  });

  it("--destroy removes the roles and keeps the bucket with every state in it", async () => {
    const destroyed = await bootstrap("--destroy");
    ok(destroyed);
    expect(destroyed.output).toContain(`the state bucket ${BUCKET} stays`);
    expect(emu.aws(region, ["iam", "list-roles", "--path-prefix", "/github-actions/"]).Roles).toEqual([]);
    expect(objects()).toEqual(expect.arrayContaining(["demo-app/staging.tfstate"]));
  });
});
