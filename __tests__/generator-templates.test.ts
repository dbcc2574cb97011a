/**
 * What the rendered README, CI and drift workflows, Dockerfile and app say, per answer: the image source
 * of each environment (ami_id variable or resolve:ssm), a certificate, a state backend, --dockerfile.
 */
import { Testing } from "cdktf";
import { parseArgs } from "../generators/args";
import { resolveAnswers } from "../generators/answers";
import { buildModel } from "../generators/model";
import { FileMap, manualRefreshPreferences, renderProject } from "../generators/render";
import { WebTierStack } from "../stacks/web-tier-stack";
import { resolveConfig } from "../stacks/config-validation";
import { packageSources } from "./support/cli";

// js-yaml comes with jest (see safety-properties.test.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): any } = require("js-yaml");

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const BACKEND = { backend: { bucket: "shop-terraform-state" } };

async function render(argv: string[], file?: Record<string, unknown>): Promise<FileMap> {
  const answers = await resolveAnswers({
    flags: parseArgs(["shop", "--yes", ...argv]), interactive: false,
    file: file ? { flag: "--config-file", path: "answers.json", value: file } : undefined,
  });
  return renderProject(buildModel(answers, "/tmp"), packageSources());
}

const text = (files: FileMap, path: string): string => {
  const file = files.get(path);
  if (!file) throw new Error(`${path} is not generated`);
  return file.contents.toString();
};

interface Step { name?: string; uses?: string; run?: string; env?: Record<string, string> }
type Jobs = Record<string, { steps: Step[] }>;
const jobs = (files: FileMap, workflow: "ci" | "drift"): Jobs => yaml.load(text(files, `.github/workflows/${workflow}.yml`)).jobs;
const runs = (steps: Step[]): string => steps.map((s) => s.run ?? "").join("\n");

describe("an environment that resolves its image from SSM", () => {
  // staging and production share the parameter the bake writes; the shape the issue warns about.
  const shared = { ...BACKEND, amiSource: "resolve:ssm:/shop/image/ami-id" };
  const mixed = {
    ...BACKEND,
    environments: [
      { name: "staging", amiSource: "resolve:ssm:/shop/staging/ami-id" },
      { name: "qa", amiSource: "resolve:ssm:/shop/qa/ami-id" },
      { name: "production" },
    ],
    image: { amiParameter: "/shop/staging/ami-id" },
  };

  it("deploys without TF_VAR_ami_id, then refreshes and waits before the smoke check", async () => {
    const ci = jobs(await render([], shared), "ci");
    for (const env of ["staging", "production"]) {
      const steps = ci[`deploy-${env}`].steps;
      expect(JSON.stringify(steps)).not.toContain("TF_VAR_ami_id");
      const deploy = steps.findIndex((s) => s.run === `npx cdktf deploy ${env} --auto-approve`);
      const refresh = steps.findIndex((s) => /start-instance-refresh/.test(s.run ?? ""));
      const smoke = steps.findIndex((s) => /curl --fail/.test(s.run ?? ""));
      expect(deploy).toBeGreaterThan(0);
      expect(refresh).toBeGreaterThan(deploy);
      expect(smoke).toBeGreaterThan(refresh);
      const script = steps[refresh].run!;
      expect(script).toContain(`terraform -chdir=cdktf.out/stacks/${env} output -raw asg_name`);
      const preferences = JSON.parse(/--preferences '([^']+)'/.exec(script)![1]);
      expect(preferences.SkipMatching).toBe(false);
      expect(script).toMatch(/describe-instance-refreshes .*\n?.*--instance-refresh-ids "\$1"/);
      expect(script).toMatch(/Successful\) return 0/);
      expect(script).toMatch(/Failed\|Cancelled\|RollbackSuccessful\|RollbackFailed\)\n\s+echo "::error::/);
    }
  });

  it("refreshes only where the environment's parameter is the one the bake writes; variable mode as before", async () => {
    const files = await render([], mixed);
    const ci = jobs(files, "ci");
    expect(runs(ci["deploy-staging"].steps)).toContain("start-instance-refresh");
    expect(runs(ci["deploy-qa"].steps)).not.toContain("start-instance-refresh");
    expect(text(files, ".github/workflows/ci.yml")).toMatch(/\/shop\/qa\/ami-id is not where the bake publishes/);
    const production = ci["deploy-production"].steps;
    expect(production.find((s) => s.run === "npx cdktf deploy production --auto-approve")!.env).toEqual({ TF_VAR_ami_id: "${{ needs.bake.outputs.ami_id }}" });
    expect(runs(production)).not.toContain("start-instance-refresh");
  });

  it("drift passes -var ami_id only to environments in variable mode", async () => {
    const drift = jobs(await render([], mixed), "drift");
    expect(runs(drift["drift-staging"].steps)).not.toMatch(/-var "ami_id|launch-template-versions/);
    expect(runs(drift["drift-qa"].steps)).not.toMatch(/-var "ami_id|launch-template-versions/);
    expect(runs(drift["drift-production"].steps)).toContain('-var "ami_id=$ami_id"');
    expect(runs(drift["drift-staging"].steps)).toContain("terraform plan -input=false -lock=false -detailed-exitcode");
  });

  it("README: bake publishes, instances resolve at launch, refresh to roll out, parameter to roll back, one parameter per environment", async () => {
    const readme = text(await render([], shared), "README.md");
    expect(readme).toContain("its id is then published to the SSM parameter `/shop/image/ami-id`");
    expect(readme).toMatch(/resolves it when it launches/);
    for (const env of ["staging", "production"]) {
      expect(readme).toContain(`aws autoscaling start-instance-refresh --auto-scaling-group-name shop-${env} \\`);
    }
    expect(readme).toMatch(/aws ssm put-parameter --overwrite --type String --data-type aws:ec2:image --name <parameter> --value <previous id>/);
    expect(readme).toMatch(/picks up the new image at its next\s+scale-out/);
    expect(readme).toContain("The bake publishes to `/shop/image/ami-id`, which staging, production resolve.");
    expect(readme).toContain("Here staging, production resolve the same parameter, `/shop/image/ami-id`");
    expect(readme).toContain('"amiSource": "resolve:ssm:/shop/<env>/ami-id"');
    expect(readme).not.toMatch(/TF_VAR_ami_id|deploy the previous AMI id again/);
    expect(readme).toContain("npm run plan -- staging ");
  });

  it("uses the group's own refresh settings, skip matching off", async () => {
    const config = resolveConfig({ appName: "shop", environments: [{ name: "staging", minHealthyPercentage: 75, instanceWarmupSeconds: 300 }] });
    const stack = new WebTierStack(Testing.app(), { config, environment: config.environments[0] });
    const asg = Object.values(JSON.parse(Testing.synth(stack)).resource.aws_autoscaling_group)[0] as any;
    const group = asg.instance_refresh.preferences;
    const manual = manualRefreshPreferences(config.environments[0]);
    expect(manual).toEqual({
      MinHealthyPercentage: group.min_healthy_percentage,
      MaxHealthyPercentage: group.max_healthy_percentage,
      InstanceWarmup: Number(group.instance_warmup),
      SkipMatching: false,
      ScaleInProtectedInstances: group.scale_in_protected_instances,
      StandbyInstances: group.standby_instances,
    });
    expect(manual.MinHealthyPercentage).toBe(75);
    expect(manual.InstanceWarmup).toBe(300);
  });
});

describe("a certificate", () => {
  it("smoke-checks with --insecure only where the environment has one, and says why", async () => {
    const mixed = await render([], { ...BACKEND, environments: [{ name: "staging" }, { name: "production", certificateArn: CERT }] });
    const ci = jobs(mixed, "ci");
    expect(runs(ci["deploy-staging"].steps)).not.toContain("--insecure");
    expect(runs(ci["deploy-production"].steps)).toContain("curl --fail --silent --show-error --insecure");
    expect(ci["deploy-production"].steps.find((s) => /--insecure/.test(s.run ?? ""))!.run).toMatch(/certificate names your domain/);
    expect(text(mixed, "README.md")).toMatch(/runs `curl --insecure`/);

    const all = await render(["--certificate-arn", CERT]);
    expect(text(all, ".github/workflows/ci.yml").match(/--insecure/g)).toHaveLength(2);
    const none = await render([]);
    expect(text(none, ".github/workflows/ci.yml")).not.toContain("--insecure");
    expect(text(none, "README.md")).not.toContain("--insecure");
  });
});

describe("the state backend", () => {
  const refusal = /::error::add backend \(S3 bucket\) to immutable\.config\.json; local state does not survive CI runs/;

  it("without one, every deploy and drift job fails at its first step; build and bake run", async () => {
    const files = await render([]);
    const ci = jobs(files, "ci");
    const drift = jobs(files, "drift");
    for (const [name, job] of [...Object.entries(ci), ...Object.entries(drift)]) {
      const first = job.steps[0].run ?? "";
      if (name.startsWith("deploy-") || name.startsWith("drift-")) {
        expect(first).toMatch(refusal);
        expect(first).toMatch(/exit 1$/m);
      } else {
        expect(runs(job.steps)).not.toMatch(refusal);
      }
    }
    expect(Object.keys(ci)).toEqual(["build", "bake", "deploy-staging", "deploy-production"]);
    expect(text(files, "README.md")).toMatch(/has no `backend` yet\*\*, so the deploy and drift jobs stop/);
  });

  it("with one, no job refuses", async () => {
    const files = await render([], BACKEND);
    for (const workflow of [".github/workflows/ci.yml", ".github/workflows/drift.yml", "README.md"]) {
      expect(text(files, workflow)).not.toMatch(/::error::add backend|has no `backend` yet/);
    }
  });
});

describe("--dockerfile", () => {
  it("listens on APP_PORT (PORT as fallback) and never hard-codes another port", async () => {
    const files = await render(["--dockerfile", "--port", "3000", "--health-path", "/healthz"]);
    expect(text(files, "app/server.js")).toMatch(/process\.env\.APP_PORT \|\| process\.env\.PORT/);
    const dockerfile = text(files, "Dockerfile");
    expect(dockerfile).toMatch(/^ARG APP_PORT=3000$/m);
    expect(dockerfile).toMatch(/APP_PORT=\$\{APP_PORT\}/);
    expect(dockerfile).toMatch(/^EXPOSE \$\{APP_PORT\}$/m);
    expect(dockerfile).not.toMatch(/\bPORT=(?!\$)/);
    expect(dockerfile.match(/\b\d{4}\b/g)).toEqual(["3000"]);
    expect(dockerfile).toContain("process.env.APP_PORT");
    const ci = text(files, ".github/workflows/ci.yml");
    expect(ci.match(/--build-arg "APP_PORT=\$\(jq -r '\.appPort \/\/ 8080' immutable\.config\.json\)"/g)).toHaveLength(2);
  });

  it("README describes app/ and IMAGE_REPOSITORY instead of the placeholder image", async () => {
    const readme = text(await render(["--dockerfile"]), "README.md");
    expect(readme).not.toMatch(/still the placeholder/);
    expect(readme).toMatch(/`Dockerfile` and `app\/`/);
    expect(readme).toMatch(/repository\s+variable `IMAGE_REPOSITORY`/);
    expect(text(await render([]), "README.md")).toMatch(/still the placeholder/);
  });
});

describe("README commands and configuration", () => {
  it("passes ami_id to plan and deploy in variable mode, and says how config and secret changes roll out", async () => {
    const readme = text(await render(["--secret", "DATABASE_PASSWORD"]), "README.md");
    expect(readme).toContain("TF_VAR_ami_id=ami-0123456789abcdef0 npm run plan -- staging");
    expect(readme).toContain("TF_VAR_ami_id=ami-0123456789abcdef0 npm run deploy -- staging");
    expect(readme).not.toMatch(/asks for the ami_id/);
    expect(readme).toMatch(/After editing values in `immutable\.config\.json`, `npm run deploy -- <env>` rolls them out/);
    expect(readme).toMatch(/Deploy first, then set every real value/);
    expect(readme).toMatch(/after changing a secret's value[\s\S]*aws autoscaling start-instance-refresh --auto-scaling-group-name shop-staging/);
    expect(readme).toMatch(/npm run synth:hcl +# the same as HCL, in terraform\/<env>\//);
    expect(readme).not.toMatch(/and `packer\/shop\.auto\.pkrvars\.hcl`\)/);
    expect(readme).toMatch(/written from `immutable\.config\.json` by `npm run image:build`/);
  });

  it("CI bakes with the Packer variables written from the config, as image:build does", async () => {
    const bake = jobs(await render([]), "ci").bake.steps;
    const script = runs(bake);
    expect(script.indexOf("node --import tsx scripts/pkrvars.ts")).toBeGreaterThan(-1);
    expect(script.indexOf("node --import tsx scripts/pkrvars.ts")).toBeLessThan(script.indexOf("packer build"));
    expect(bake.map((s) => s.run)).toContain("npm ci");
  });
});
