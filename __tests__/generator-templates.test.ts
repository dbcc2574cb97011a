/**
 * What the rendered README, CI and drift workflows, Dockerfile and app say, per answer: the image source
 * of each environment (ami_id variable or resolve:ssm), a certificate, a state backend, --dockerfile.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FileMap, renderTemplate } from "../generators/render";
import { packageSources, renderShop, shopModel } from "./support/cli";
import { REPO_ROOT } from "./support/synth";
import { tempDir } from "./support/terraform";

// js-yaml comes with jest (see safety-properties.test.ts).
const yaml: { load(text: string): any } = require("js-yaml");

const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const BACKEND = { backend: { bucket: "shop-terraform-state" } };

const render = renderShop;

const text = (files: FileMap, path: string): string => {
  const file = files.get(path);
  if (!file) throw new Error(`${path} is not generated`);
  return file.contents.toString();
};

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
type Jobs = Record<string, { steps: Step[] }>;
const jobs = (files: FileMap, workflow: "ci" | "drift"): Jobs => yaml.load(text(files, `.github/workflows/${workflow}.yml`)).jobs;
const runs = (steps: Step[]): string => steps.map((s) => s.run ?? "").join("\n");
const stepIndex = (steps: Step[], pattern: RegExp): number =>
  steps.findIndex((s) => pattern.test(s.run ?? "") || pattern.test(s.uses ?? ""));

interface StepRun {
  code: number | null;
  output: string;
  calls: string[];
  dir: string;
}

/**
 * Runs one step's script with bash -e (GitHub's default shell) in a directory holding `files`, with
 * fake aws, terraform, docker and sleep first on PATH. The fake aws answers each subcommand from
 * `aws[<subcommand>]`, one line per call (the last line again when they run out), and logs its calls.
 */
function runStep(
  step: Step,
  options: {
    files?: Record<string, string>;
    aws?: Record<string, string[]>;
    env?: Record<string, string>;
    /** More commands on PATH: name -> bash body. */
    fakes?: Record<string, string>;
  } = {},
): StepRun {
  const dir = tempDir("step");
  const bin = join(dir, ".bin");
  mkdirSync(bin);
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
  for (const [sub, lines] of Object.entries(options.aws ?? {})) writeFileSync(join(bin, `aws-${sub}`), `${lines.join("\n")}\n`);
  const fake = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake(
    "aws",
    [
      `echo "aws $*" >> ${JSON.stringify(join(bin, "calls"))}`,
      `answers=${JSON.stringify(bin)}/aws-$2; [ -f "$answers" ] || exit 0`,
      'line=$(head -n 1 "$answers"); rest=$(tail -n +2 "$answers")',
      '[ -n "$rest" ] && printf "%s\\n" "$rest" > "$answers"',
      'echo "$line"',
    ].join("\n"),
  );
  fake("terraform", `echo "terraform $*" >> ${JSON.stringify(join(bin, "calls"))}; echo x-staging`);
  fake("docker", `echo "docker $*" >> ${JSON.stringify(join(bin, "calls"))}`);
  fake("sleep", "true");
  for (const [name, body] of Object.entries(options.fakes ?? {})) fake(name, body);
  const script = step.run!.replace(/\$\{\{[^}]*\}\}/g, "value");
  const r = spawnSync("bash", ["-e", "-c", script], {
    cwd: dir,
    encoding: "utf8",
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      GITHUB_OUTPUT: join(dir, "out"),
      GITHUB_STEP_SUMMARY: join(dir, "summary"),
      GITHUB_SHA: "abc123",
      ...step.env,
      ...options.env,
    },
  });
  let calls: string[] = [];
  try {
    calls = readFileSync(join(bin, "calls"), "utf8").trim().split("\n");
  } catch {
    // no call at all
  }
  return { code: r.status, output: r.stdout + r.stderr, calls, dir };
}

describe("an environment that resolves its image from SSM", () => {
  // Each environment its own parameter, written only by its own deploy (one shared by two is refused).
  const shared = {
    ...BACKEND,
    environments: [
      { name: "staging", amiSource: "resolve:ssm:/shop/image/staging/ami-id" },
      { name: "production", amiSource: "resolve:ssm:/shop/image/production/ami-id" },
    ],
  };
  const mixed = {
    ...BACKEND,
    environments: [
      { name: "staging", amiSource: "resolve:ssm:/shop/image/staging/ami-id" },
      { name: "qa", amiSource: "resolve:ssm:/shop/image/qa/ami-id" },
      { name: "production" },
    ],
  };
  // Each environment its own parameter, none of them the bake's: every one is promoted.
  const promoted = {
    ...BACKEND,
    environments: [
      { name: "dev" },
      { name: "qa", amiSource: "resolve:ssm:/shop/image/qa/ami-id" },
      { name: "production", amiSource: "resolve:ssm:/shop/image/production/ami-id" },
    ],
    image: { amiParameter: "/shop/image/ami-id" },
  };

  it("deploys without --ami in one step that applies and rolls out (managed/deploy.ts), before the smoke check", async () => {
    const ci = jobs(await render([], shared), "ci");
    for (const env of ["staging", "production"]) {
      const steps = ci[`deploy-${env}`].steps;
      expect(JSON.stringify(steps)).not.toMatch(/TF_VAR_ami_id|--ami|cdktf deploy|start-instance-refresh/);
      const deploy = stepIndex(steps, new RegExp(`npm run deploy -- ${env} --auto-approve`));
      const smoke = stepIndex(steps, /curl --fail/);
      expect(deploy).toBeGreaterThan(0);
      expect(smoke).toBe(deploy + 1);
    }
  });

  it("promotes into a parameter the bake does not write (from the previous environment's), before the deploy", async () => {
    const ci = jobs(await render([], mixed), "ci");
    // The first environment's deploy promotes the bake's AMI id: no bake writes an environment's parameter.
    expect(runs(ci["deploy-staging"].steps)).toContain("--data-type aws:ec2:image --name /shop/image/staging/ami-id");
    expect(runs(ci.bake.steps)).not.toContain("/shop/image/staging/ami-id");
    const qa = ci["deploy-qa"].steps;
    const promote = stepIndex(qa, /put-parameter/);
    expect(promote).toBeGreaterThan(0);
    expect(promote).toBeLessThan(stepIndex(qa, /npm run deploy -- qa --auto-approve/));
    expect(qa[promote].run).toContain("aws ssm get-parameter --name /shop/image/staging/ami-id --query Parameter.Value --output text");
    expect(qa[promote].run).toContain(
      'aws ssm put-parameter --overwrite --type String --data-type aws:ec2:image --name /shop/image/qa/ami-id --value "$id"',
    );

    // Run it: copy staging's id, then wait until the asynchronous aws:ec2:image check lets qa's change.
    const ok = runStep(qa[promote], {
      aws: { "get-parameter": ["ami-0aaaaaaaaaaaaaaaa", "ami-0000000000000000f", "ami-0aaaaaaaaaaaaaaaa"] },
    });
    expect(ok.code).toBe(0);
    expect(ok.calls).toEqual([
      "aws ssm get-parameter --name /shop/image/staging/ami-id --query Parameter.Value --output text",
      "aws ssm put-parameter --overwrite --type String --data-type aws:ec2:image --name /shop/image/qa/ami-id --value ami-0aaaaaaaaaaaaaaaa",
      "aws ssm get-parameter --name /shop/image/qa/ami-id --query Parameter.Value --output text",
      "aws ssm get-parameter --name /shop/image/qa/ami-id --query Parameter.Value --output text",
    ]);
    const refused = runStep(qa[promote], { aws: { "get-parameter": ["ami-0aaaaaaaaaaaaaaaa", "ami-0000000000000000f"] } });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/::error::\/shop\/image\/qa\/ami-id did not take ami-0aaaaaaaaaaaaaaaa/);

    const production = ci["deploy-production"].steps;
    const deploy = production[stepIndex(production, /npm run deploy -- production --ami "\$AMI_ID" --auto-approve/)];
    expect(deploy.env).toEqual({ AMI_ID: "${{ needs.bake.outputs.ami_id }}", BREAK_GLASS: "${{ inputs.ignore_alarms }}" });
    expect(runs(production)).not.toMatch(/start-instance-refresh|--data-type aws:ec2:image/);
  });

  it("promotes the bake's AMI id after an environment in variable mode", async () => {
    const ci = jobs(await render([], promoted), "ci");
    const qa = ci["deploy-qa"].steps;
    const step = qa[stepIndex(qa, /put-parameter/)];
    expect(step.env).toEqual({ AMI_ID: "${{ needs.bake.outputs.ami_id }}" });
    expect(step.run).not.toContain("get-parameter --name /shop/image/ami-id");
    const run = runStep(step, { env: { AMI_ID: "ami-0bbbbbbbbbbbbbbbb" }, aws: { "get-parameter": ["ami-0bbbbbbbbbbbbbbbb"] } });
    expect(run.code).toBe(0);
    expect(run.calls[0]).toBe(
      "aws ssm put-parameter --overwrite --type String --data-type aws:ec2:image --name /shop/image/qa/ami-id --value ami-0bbbbbbbbbbbbbbbb",
    );
    expect(runs(ci["deploy-production"].steps)).toContain("aws ssm get-parameter --name /shop/image/qa/ami-id");
  });

  it("drift passes -var ami_id only to environments in variable mode", async () => {
    const drift = jobs(await render([], mixed), "drift");
    expect(runs(drift["drift-staging"].steps)).not.toMatch(/-var "ami_id|launch-template-versions/);
    expect(runs(drift["drift-qa"].steps)).not.toMatch(/-var "ami_id|launch-template-versions/);
    expect(runs(drift["drift-production"].steps)).toContain('-var "ami_id=$ami_id"');
    expect(runs(drift["drift-staging"].steps)).toContain("terraform plan -input=false -lock=false -detailed-exitcode");
  });

  it("README: each deploy promotes into its own parameter, instances resolve at launch, the deploy replaces every instance, rollback by the parameter", async () => {
    const readme = text(await render([], shared), "README.md");
    expect(readme).not.toContain("and is published to");
    expect(readme).toMatch(/Each environment has a parameter of its own, written only by\s+its own deploy job/);
    expect(readme).toMatch(/instances resolve the image parameter when they\s+start/);
    expect(readme).toMatch(/AWS cannot roll back to a template\s+whose image is an SSM parameter/);
    expect(readme).toContain(
      "aws ssm put-parameter --overwrite --type String --data-type aws:ec2:image --name <parameter> --value <previous id>",
    );
    expect(readme).toMatch(/\*\*An instance that starts for another reason/);
    expect(readme).toContain("| staging | t3.small | 2 | 4 | no | single | no | SSM parameter `/shop/image/staging/ami-id` |");
  });
});

describe("the deploy step, by the deploy's exit code", () => {
  const SECRET = "/shop/staging/secret/DATABASE_PASSWORD";
  const deployStep = async (file: Record<string, unknown>): Promise<{ steps: Step[]; step: Step }> => {
    const steps = jobs(await render(["--secret", "DATABASE_PASSWORD"], { ...BACKEND, ...file }), "ci")["deploy-staging"].steps;
    return { steps, step: steps[stepIndex(steps, /npm run deploy -- staging/)] };
  };
  const summary = (run: StepRun): string => readFileSync(join(run.dir, "summary"), "utf8");

  it("4 on the first deploy of a project with secrets: an error and a job summary with the exact commands, and nothing after it", async () => {
    const { steps, step } = await deployStep({});
    // The deploy as it ends a first run: managed/rollout.sh --check-secrets itself, against an AWS
    // whose secret parameters still hold the placeholder (the fake aws answers nothing).
    const rollout = join(REPO_ROOT, "managed", "rollout.sh");
    const run = runStep(step, {
      env: { AMI_ID: "ami-0123456789abcdef0", GITHUB_ACTIONS: "true" },
      fakes: {
        npm: `echo "staging: first deploy; creating the secret parameters first"; bash ${JSON.stringify(rollout)} --check-secrets ${SECRET}`,
      },
    });
    expect(run.code).toBe(4);
    expect(run.output).toContain(
      "::error::staging: a secret is not set yet. The first deploy created only the secret parameters; set them with the commands in the job summary, then re-run this job.",
    );
    const text = summary(run);
    expect(text).toContain("### staging: set the secrets, then re-run this job");
    expect(text).toContain(
      `\`\`\`sh\naws ssm put-parameter --overwrite --type SecureString --key-id alias/shop-staging-secrets --name ${SECRET} --value "$VALUE"\n\`\`\``,
    );
    // GitHub skips the steps after a failed one: no smoke check waits for instances that never start.
    const smoke = steps[stepIndex(steps, /curl --fail/)] as Step & { if?: string };
    expect(steps.indexOf(smoke)).toBeGreaterThan(steps.indexOf(step));
    expect(smoke.if).toBeUndefined();
    expect((step as Step & { "continue-on-error"?: boolean })["continue-on-error"]).toBeUndefined();
  });

  it("3: an error and a summary naming the version that runs again; 0 passes; anything else fails with its code", async () => {
    const { step } = await deployStep({});
    const said =
      "::error::the rollout of version 3 was rolled back (an alarm went to ALARM); shop-staging runs launch template version 2 (ami-0aaaaaaaaaaaaaaaa) again";
    const rolledBack = runStep(step, {
      env: { AMI_ID: "ami-0123456789abcdef0" },
      fakes: { npm: `echo ${JSON.stringify(said)} >&2; exit 3` },
    });
    expect(rolledBack.code).toBe(3);
    expect(rolledBack.output).toMatch(
      /::error::staging: the rollout was rolled back; the rollout of version 3 was rolled back .*runs launch template version 2 \(ami-0aaaaaaaaaaaaaaaa\) again/,
    );
    expect(summary(rolledBack)).toContain("### staging: rolled back\n\nthe rollout of version 3 was rolled back");
    const calls = join(tempDir("npm-args"), "args");
    const ok = runStep(step, {
      env: { AMI_ID: "ami-0123456789abcdef0" },
      fakes: { npm: `printf '%s\\n' "$@" > ${JSON.stringify(calls)}` },
    });
    expect(ok.code).toBe(0);
    expect(readFileSync(calls, "utf8").trim().split("\n")).toEqual([
      "run",
      "deploy",
      "--",
      "staging",
      "--ami",
      "ami-0123456789abcdef0",
      "--auto-approve",
    ]);
    const failed = runStep(step, { env: { AMI_ID: "ami-0123456789abcdef0" }, fakes: { npm: "exit 1" } });
    expect(failed.code).toBe(1);
    expect(failed.output).toContain("::error::staging: the deploy failed (exit 1); see the log above");
  });

  it("every job that assumes a role first says what is missing: github.repository and npm run bootstrap, or the role's variable", async () => {
    const files = await render(["--github-repo", "acme/shop"], BACKEND);
    for (const [workflow, job, variable] of [
      ["ci", "bake", "AWS_BAKE_ROLE_ARN"],
      ["ci", "deploy-staging", "AWS_ROLE_ARN"],
      ["drift", "drift-staging", "AWS_DRIFT_ROLE_ARN"],
    ] as const) {
      const steps = jobs(files, workflow)[job].steps;
      const guard = steps[stepIndex(steps, /github\.repository/)];
      expect(stepIndex(steps, /^aws-actions\/configure-aws-credentials@v4$/)).toBe(steps.indexOf(guard) + 1);
      const without = runStep(guard, { files: { "immutable.config.json": JSON.stringify({ appName: "shop" }) }, env: { ROLE_ARN: "" } });
      expect(without.code).toBe(1);
      expect(without.output).toMatch(
        /::error::immutable\.config\.json has no github\.repository: add "github": \{ "repository": "<owner>\/<name>" \}, run npm run bootstrap once/,
      );
      const configured = { "immutable.config.json": JSON.stringify({ appName: "shop", github: { repository: "acme/shop" } }) };
      const noRole = runStep(guard, { files: configured, env: { ROLE_ARN: "" } });
      expect(noRole.code).toBe(1);
      expect(noRole.output).toContain(
        `::error::set the ${variable === "AWS_BAKE_ROLE_ARN" ? `repository variable ${variable}` : `variable ${variable} on the GitHub environment staging`}`,
      );
      expect(runStep(guard, { files: configured, env: { ROLE_ARN: "arn:aws:iam::123456789012:role/github-actions/x" } }).code).toBe(0);
    }
  });
});

describe("the README's CI section (templates/partials/ci-bootstrap.md.hbs, {{> ci-bootstrap}})", () => {
  const partial = async (argv: string[], file?: Record<string, unknown>): Promise<string> =>
    renderTemplate(await shopModel(argv, file), packageSources(), "partials/ci-bootstrap.md.hbs");

  it("says who bootstraps with which credentials, each role with its subject and variable, reviewers, an existing provider and removal", async () => {
    const text = await partial(["--github-repo", "acme/shop", "--environments", "staging,production"]);
    expect(text).toMatch(/administrator rights in the AWS account runs it once, from a checkout, with their own\s+credentials/);
    expect(text).toContain("npm run bootstrap -- --plan\nnpm run bootstrap\n");
    for (const env of ["staging", "production"]) {
      expect(text).toContain(
        `| \`shop-${env}-deploy\` | jobs of the GitHub environment \`${env}\` (\`repo:<owner>/<repo>:environment:${env}\`) | \`AWS_ROLE_ARN\` (environment \`${env}\`) |`,
      );
    }
    expect(text).toContain(
      "| `shop-bake` | pushes to `main` (`repo:<owner>/<repo>:ref:refs/heads/main`) | `AWS_BAKE_ROLE_ARN` (repository) |",
    );
    expect(text).toMatch(/\*\*Repository variables\*\*[^\n]*\n?[^\n]*`AWS_BAKE_ROLE_ARN`/);
    expect(text).toMatch(/Required reviewers/);
    expect(text).toMatch(/`github\.oidcProviderArn`/);
    expect(text).toContain("`npm run bootstrap -- --destroy` (`terraform destroy` of the bootstrap\nstack)");
    expect(text).toMatch(/the OIDC provider only if this stack\s+created it/);
    expect(text).toMatch(/`Resource: "\*"`/);
    expect(text).not.toMatch(/&(amp|lt|gt|quot|#x27|#x3D|#x60);/);
  });

  it("requires a deployment branch policy (the environment subject names no branch), names the build profile, and says what stays open", async () => {
    const text = await partial(["--github-repo", "acme/shop", "--environments", "staging,production"]);
    expect(text).toContain("**The deployment branch policy is required, not optional.**");
    expect(text).toMatch(/without the branch[\s\S]*trusts that environment's jobs from \*any\* branch/);
    expect(text).toMatch(/AWS cannot\s+check it/);
    expect(text).toMatch(/`PACKER_INSTANCE_PROFILE` and `PACKER_SUBNET_ID`/);
    expect(text).toMatch(/`AWS_ROLE_ARN` and\s+`AWS_DRIFT_ROLE_ARN` with its own deploy and drift roles/);
    expect(text).toContain("instance profile `shop-packer-build`");
    // No promise the bake role can no longer keep, and the drift role's reach said plainly.
    expect(text).not.toMatch(/packer-\*/);
    expect(text).toMatch(/no push to `main` alone can read production's\s+secrets/);
    expect(text).toMatch(/pinned by major tag/);
    expect(text).toMatch(/"instead of specifying only a single log\s+group name"/);
  });

  it("speaks the project's package manager", async () => {
    expect(await partial(["--use-pnpm"])).toContain("pnpm run bootstrap --destroy");
  });

  it("says what each job installs, in the project's package manager's commands", async () => {
    const flat = (text: string): string => text.replace(/\s+/g, " ");
    expect(flat(await partial([]))).toContain(
      "the check job everything (`npm ci`: the type-check and the tests need the devDependencies), the bake no Node.js at all (the check job writes `packer/shop.auto.pkrvars.hcl` and hands it over as an artifact), the deploy, drift and prune jobs `npm ci --omit=dev`.",
    );
    expect(flat(await partial(["--use-pnpm"]))).toContain("the deploy, drift and prune jobs `pnpm install --frozen-lockfile --prod`.");
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
  const config = (value: unknown): Record<string, string> => ({ "immutable.config.json": JSON.stringify(value) });

  it.each([
    ["without", {}],
    ["with", BACKEND],
  ])(
    "scaffolded %s one, every deploy and drift job checks the config file when it runs, right after the checkout",
    async (_what, answers) => {
      const files = await render([], answers);
      const ci = jobs(files, "ci");
      const drift = jobs(files, "drift");
      for (const [name, job] of [...Object.entries(ci), ...Object.entries(drift)]) {
        if (!name.startsWith("deploy-") && !name.startsWith("drift-")) {
          expect(runs(job.steps)).not.toMatch(refusal);
          continue;
        }
        expect(job.steps[0].uses).toBe("actions/checkout@v4");
        const guard = job.steps[1];
        expect(guard.run).toMatch(refusal);
        const without = runStep(guard, { files: config({ appName: "shop" }) });
        expect(without.code).toBe(1);
        expect(without.output).toMatch(refusal);
        expect(runStep(guard, { files: config({ appName: "shop", ...BACKEND }) }).code).toBe(0);
      }
      expect(Object.keys(ci)).toEqual(["check", "bake", "deploy-staging", "deploy-production"]);
    },
  );

  it("the README says so only while the config has none", async () => {
    expect(text(await render([]), "README.md")).toMatch(/has no `backend` yet\*\*, so the deploy and drift jobs stop/);
    expect(text(await render([], BACKEND), "README.md")).not.toMatch(/has no `backend` yet/);
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
    // One build, in the check job, with the port the config gives.
    expect(ci.match(/port=\$\(jq -r '\.appPort \/\/ 8080' immutable\.config\.json\)/g)).toHaveLength(1);
    expect(ci).toContain('--build-arg "APP_PORT=$port"');
  });

  it("README describes app/ and IMAGE_REPOSITORY instead of the placeholder image", async () => {
    const readme = text(await render(["--dockerfile"]), "README.md");
    expect(readme).not.toMatch(/still the placeholder/);
    expect(readme).toMatch(/`Dockerfile` and `app\/`/);
    expect(readme).toMatch(/repository\s+variable `IMAGE_REPOSITORY`/);
    expect(readme).toContain("| `Dockerfile`, `app/` |");
    expect(text(await render([]), "README.md")).toMatch(/still the placeholder/);
  });

  it.each([
    ["t3.small", "linux/amd64"],
    ["t4g.small", "linux/arm64"],
  ])(
    "on %s, the check job builds the app image once for %s with buildx, runs it and checks its health path, and saves it",
    async (instanceType, platform) => {
      const check = jobs(await render(["--dockerfile", "--instance-type", instanceType]), "ci").check.steps;
      const build = stepIndex(check, /docker buildx build/);
      expect(stepIndex(check, /^docker\/setup-qemu-action@v3$/)).toBeLessThan(build);
      expect(stepIndex(check, /^docker\/setup-buildx-action@v3$/)).toBeLessThan(build);
      const run = runStep(check[build], {
        files: { "immutable.config.json": "{}" },
        fakes: { curl: `echo "curl $*" >> .bin/calls` },
      });
      expect(run.code).toBe(0);
      expect(run.calls).toEqual([
        `docker buildx build --platform ${platform} --tag shop:ci --load --build-arg APP_PORT=8080 --build-arg HEALTH_PATH=/ .`,
        "docker run --detach --name app-under-test --publish 127.0.0.1:8080:8080 shop:ci",
        "curl --fail --silent --show-error --retry 20 --retry-delay 3 --retry-all-errors --max-time 5 http://127.0.0.1:8080/",
        "docker rm --force app-under-test",
        "docker save shop:ci",
      ]);
    },
  );

  /** The bake's push step with a fake registry: `pushed` holds what the repository has. */
  function pushWith(pushed: boolean) {
    return async () => {
      const bake = jobs(await render(["--dockerfile"]), "ci").bake.steps;
      const push = bake[stepIndex(bake, /docker push/)];
      return runStep(push, {
        env: { IMAGE_REPOSITORY: "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop" },
        files: pushed ? { pushed: "" } : {},
        fakes: {
          aws: [
            'echo "aws $*" >> .bin/calls',
            'case "$2" in get-login-password) echo secret ;; describe-images) if [ -f pushed ]; then echo sha256:0123abcd; else exit 254; fi ;; esac',
          ].join("\n"),
          docker: ['echo "docker $*" >> .bin/calls', 'if [ "$1" = push ]; then touch pushed; fi'].join("\n"),
        },
      });
    };
  }

  it("the bake pushes the check job's image once under the commit's tag and bakes it by digest", async () => {
    const run = await pushWith(false)();
    expect(run.code).toBe(0);
    const repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop";
    expect(run.calls.filter((c) => c.startsWith("docker"))).toEqual([
      "docker login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com",
      `docker tag shop:ci ${repo}:abc123`,
      `docker push ${repo}:abc123`,
    ]);
    expect(readFileSync(join(run.dir, "out"), "utf8")).toContain(`ref=${repo}@sha256:0123abcd`);
    // A re-run finds the commit's tag (tags are immutable) and bakes what was pushed then.
    const again = await pushWith(true)();
    expect(again.code).toBe(0);
    expect(again.calls.filter((c) => c.startsWith("docker push"))).toEqual([]);
    expect(readFileSync(join(again.dir, "out"), "utf8")).toContain(`ref=${repo}@sha256:0123abcd`);
  });

  it("refuses to push without the IMAGE_REPOSITORY variable, before anything else", async () => {
    const bake = jobs(await render(["--dockerfile"]), "ci").bake.steps;
    const push = bake[stepIndex(bake, /docker push/)];
    expect(push.env).toEqual({ IMAGE_REPOSITORY: "${{ vars.IMAGE_REPOSITORY }}" });
    expect(push.run!.split("\n")[0]).toMatch(
      /^\[ -n "\$IMAGE_REPOSITORY" \] \|\| \{ echo "::error::set the repository variable IMAGE_REPOSITORY/,
    );
    const run = runStep(push, { env: { IMAGE_REPOSITORY: "" } });
    expect(run.code).toBe(1);
    expect(run.output).toContain("::error::set the repository variable IMAGE_REPOSITORY to the bootstrap's ECR repository");
    expect(run.calls).toEqual([]);
  });
});

describe("README commands and configuration", () => {
  it("lists every script of the generated package.json, in the project's package manager's syntax", async () => {
    for (const argv of [[], ["--use-pnpm"]]) {
      const files = await render(argv);
      const readme = text(files, "README.md");
      const scripts = Object.keys(JSON.parse(text(files, "package.json")).scripts).filter(
        (name) => !["build", "synth:cdktf", "synth:hcl"].includes(name),
      );
      const run = argv.length ? "pnpm run" : "npm run";
      for (const name of scripts) expect(readme).toMatch(new RegExp(`\`${run} ${name.replace(":", "\\:")}( |\`)`));
    }
  });

  it("names the bake's requirements and where previous image ids live, not a manifest history", async () => {
    const readme = text(await render([]), "README.md");
    expect(readme).toMatch(/Session Manager plugin for the\s+AWS CLI/);
    expect(readme).toContain("aws ec2 describe-images --owners self --filters Name=tag:app,Values=shop");
    expect(readme).toMatch(/not kept in git; the previous ids are in the launch template's versions/);
  });

  it("states the rollout as it happens: new version, group stays, alarms, AWS rolls back, exit codes; rollback is a deploy of the previous id", async () => {
    const readme = text(await render(["--secret", "DATABASE_PASSWORD"]), "README.md");
    expect(readme).toMatch(/Auto\s+Scaling group keeps running the version it has/);
    expect(readme).toMatch(/Only when the refresh succeeds does AWS move the group to the new\s+version/);
    expect(readme).toMatch(/exits 3 after a rollback/);
    expect(readme).toContain("`npm run deploy -- <env> --ami <previous id>`");
    expect(readme).not.toMatch(/TF_VAR_ami_id|start-instance-refresh|cdktf deploy/);
    // Secrets: first deploy stops until they are set; rotation replaces every instance.
    expect(readme).toMatch(/first deploy of an environment creates the secret parameters and nothing else/);
    expect(readme).toContain(
      'aws ssm put-parameter --overwrite --type SecureString --key-id alias/shop-staging-secrets --name /shop/staging/secret/DATABASE_PASSWORD --value "$VALUE"',
    );
    expect(readme).toContain("`npm run deploy -- <env> --replace-all`");
    expect(readme).toMatch(/never reaches the Terraform state/);
  });

  it("the Security section lists every checkov skip of the project with its reason", async () => {
    const files = await render([]);
    const readme = text(files, "README.md");
    const skips = text(files, ".checkov.yaml")
      .split("\n")
      .filter((l) => l.startsWith("  - "))
      .map((l) => l.slice(4).split(" # "));
    expect(skips.length).toBeGreaterThan(5);
    for (const [id, reason] of skips) expect(readme).toContain(`| \`${id}\` | ${reason} |`);
  });

  it("CI bakes with the Packer variables written from the config, as image:build does: by the check job, for the bake", async () => {
    const ci = jobs(await render([]), "ci");
    const check = ci.check.steps;
    const bake = ci.bake.steps;
    const install = stepIndex(check, /^npm ci$/);
    const write = stepIndex(check, /^node --import tsx managed\/pkrvars\.ts$/);
    expect(install).toBeGreaterThan(-1);
    expect(write).toBeGreaterThan(install);
    const upload = check[stepIndex(check, /^actions\/upload-artifact@v4$/)];
    expect(check.indexOf(upload)).toBeGreaterThan(write);
    expect(upload.with?.path).toBe("packer/shop.auto.pkrvars.hcl");
    // A re-run of the bake days later still finds it; a re-run of check may upload it again.
    expect(upload.with).toMatchObject({ "retention-days": 14, overwrite: true });
    // Into packer/, before packer init and packer build read it; the bake writes none itself.
    const download = stepIndex(bake, /^actions\/download-artifact@v4$/);
    expect(bake[download].with).toEqual({ name: upload.with?.name, path: "packer" });
    expect(download).toBeLessThan(stepIndex(bake, /^packer init packer$/));
    expect(download).toBeLessThan(stepIndex(bake, /packer build/));
    // The checkout's copy is removed before the download, so only the check job's can be there.
    const remove = stepIndex(bake, /^rm -f packer\/shop\.auto\.pkrvars\.hcl$/);
    expect(remove).toBeGreaterThan(-1);
    expect(remove).toBeLessThan(download);
    expect(runs(bake).replace("rm -f packer/shop.auto.pkrvars.hcl", "")).not.toContain("pkrvars");
  });
});
