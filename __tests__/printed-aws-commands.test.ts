/**
 * Every AWS CLI command a generated project prints, in its README and in its workflows' run steps, is
 * one the AWS CLI accepts (service, operation, every option and value: support/aws-cli.ts), and every
 * refresh preference AWS's rules (managed/aws-rules.ts). The export's READMEs: export-aws-cli.test.ts.
 */
import { marked, type Token } from "marked";
import { refreshPreferenceProblems } from "../managed/aws-rules";
import type { FileMap } from "../generators/render";
import { awsCommandLines, checkWithCli, preferencesOf, runLines } from "./support/aws-cli";
import { renderShop } from "./support/cli";

jest.setTimeout(120_000);

const render = renderShop;

/** The README's <placeholders> (prose for a reader), as values a reader would type. */
const PLACEHOLDERS: Record<string, string> = {
  "<instance-id>": "i-0123456789abcdef0",
  "<previous id>": "ami-0fedcba9876543210",
  "<parameter>": "/shop/image/ami-id",
  "<env>": "staging",
};

/** Variables the workflows' steps set before their aws lines (from earlier commands or outputs). */
const STEP_VARIABLES =
  "template=lt-0123456789abcdef0 asg=shop-staging image=123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:abc id=ami-0123456789abcdef0 AMI_ID=ami-0123456789abcdef0 " +
  "IMAGE_REPOSITORY=123456789012.dkr.ecr.us-east-1.amazonaws.com/shop repository=shop GITHUB_SHA=0123456789abcdef0123456789abcdef01234567";

/** The lines of the workflows' run steps that call aws (continuations joined), with stubs for the rest. */
function workflowLines(files: FileMap): string[] {
  const lines: string[] = [];
  for (const [path, file] of files) {
    if (!path.startsWith(".github/workflows/")) continue;
    const text = file.contents.toString().replace(/\$\{\{[^}]*\}\}/g, "value");
    for (const line of text.replace(/\\\n\s*/g, "").split("\n")) {
      // Lines that run aws, not ones that search a log for aws commands.
      if (/(^|[\s;&|(])aws\s/.test(line) && !/^\s*(#|grep|echo)/.test(line.trim()) && !/grep -E/.test(line)) {
        // The condition of an if/until/while line runs on its own (its body's lines are lines of their own).
        const command = line
          .trim()
          .replace(/^- run: /, "")
          .replace(/^(if|until|while) (.*); (then|do)$/, "$2 || true");
        lines.push(`${STEP_VARIABLES}; docker() { :; }; ${command}`);
      }
    }
  }
  return lines;
}

function readmeLines(files: FileMap): string[] {
  let readme = files.get("README.md")!.contents.toString();
  for (const [placeholder, value] of Object.entries(PLACEHOLDERS)) readme = readme.split(placeholder).join(value);
  // `aws sso login` is the CLI's own sign-in, not an API operation: it is named, not checked.
  return awsCommandLines(readme).filter((line) => !/^aws sso login$/.test(line));
}

describe("every aws command a generated project prints", () => {
  // Every row has all three values: jest-each takes a test function declaring more parameters than
  // its row has values for a callback test, and waits for `done`.
  const projects: Array<[string, string[], Record<string, unknown> | undefined]> = [
    ["default", [], undefined],
    ["secrets, GitHub, a Dockerfile", ["--secret", "API_TOKEN", "--github-repo", "acme/shop", "--dockerfile"], undefined],
    [
      "resolve:ssm with a backend and a certificate",
      [],
      {
        environments: [
          { name: "staging", amiSource: "resolve:ssm:/shop/image/staging/ami-id" },
          { name: "production", amiSource: "resolve:ssm:/shop/image/production/ami-id" },
        ],
        backend: { bucket: "shop-terraform-state" },
        certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
      },
    ],
  ];

  it.each(projects)("%s: README and workflows", async (_name, argv, file) => {
    const files = await render(argv, file);
    const lines = [...readmeLines(files), ...workflowLines(files)];
    expect(lines.length).toBeGreaterThan(2);
    const { vectors, stderr } = runLines(lines, {});
    expect(stderr).toBe("");
    const calls = vectors.flat();
    expect(calls.length).toBeGreaterThanOrEqual(lines.length);
    const failures: string[] = [];
    for (const r of checkWithCli(calls)) {
      if (r.exit !== 0 || r.problems.length > 0)
        failures.push(`aws ${r.argv.join(" ")}: ${[...r.problems, r.stderr.trim().split("\n").pop()].filter(Boolean).join("; ")}`);
      if (r.operation === "StartInstanceRefresh" && r.params) {
        const problems = refreshPreferenceProblems(preferencesOf(r.params));
        if (problems.length > 0) failures.push(`aws ${r.argv.join(" ")}: ${problems.join("; ")}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("finds the README's commands inside code blocks and code spans (not a vacuous pass)", async () => {
    const files = await render(["--secret", "API_TOKEN"]);
    const lines = readmeLines(files);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws ec2 describe-images --owners self/),
        expect.stringMatching(/^aws ssm put-parameter --overwrite --type SecureString/),
        expect.stringMatching(/^aws ssm start-session --target i-0123456789abcdef0( |$)/),
      ]),
    );
    // marked is what reads them, as a reader's renderer would.
    expect(marked.lexer("`aws s3 ls`").some((t: Token) => t.type === "paragraph")).toBe(true);
  });
});
