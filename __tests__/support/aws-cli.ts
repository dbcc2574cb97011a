/**
 * The AWS CLI's own parser as a judge of the commands the project prints (READMEs, workflows): the
 * lines that run `aws`, run in bash with `aws` recorded, then checked by the AWS CLI v1 of .venv in one
 * Python process (support/aws_cli_check.py). How and why: export-aws-cli.test.ts's header.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { marked, type Token } from "marked";
import type { RefreshPreferences } from "../../managed/aws-rules";
import { venvTool } from "./emulated-aws";
import { tempDir } from "./terraform";

const CHECKER = join(__dirname, "aws_cli_check.py");

export interface CheckResult {
  readonly argv: string[];
  readonly exit: number;
  readonly service: string | null;
  readonly operation: string | null;
  readonly params: Record<string, any> | null;
  readonly problems: string[];
  readonly stderr: string;
}

export function checkWithCli(vectors: readonly string[][]): CheckResult[] {
  // A region, as a reader's configuration (or the workflow's AWS_REGION) gives one, and fake
  // credentials: nothing is sent, and the CLI must not go looking for real ones (the instance
  // metadata service, config files).
  const result = spawnSync(venvTool("python"), [CHECKER], {
    input: JSON.stringify(vectors),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
    env: {
      ...process.env,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    },
  });
  if (result.status !== 0) throw new Error(`aws_cli_check.py failed (${result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Lines of the README that run `aws`: code block lines (continuations joined) and code spans. */
export function awsCommandLines(markdown: string): string[] {
  const lines: string[] = [];
  const runsAws = (line: string) => /(^|[\s;&|(])aws\s/.test(line) && !/^\s*#/.test(line);
  marked.walkTokens(marked.lexer(markdown), (token: Token) => {
    if (token.type === "code") {
      for (const line of token.text.replace(/\\\n\s*/g, "").split("\n")) if (runsAws(line)) lines.push(line.trim());
    } else if (token.type === "codespan" && /^aws\s/.test(token.text)) {
      lines.push(token.text);
    }
  });
  return lines;
}

export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runs each line in bash with `aws` recording its arguments; returns the vectors per line. */
export function runLines(lines: readonly string[], outputs: Record<string, string>): { vectors: string[][][]; stderr: string } {
  const dir = tempDir("aws-lines");
  const cases = Object.entries(outputs).map(([name, value]) => `    ${name}) printf '%s' ${shQuote(value)} ;;`);
  const script = [
    "set -u",
    `out=${shQuote(dir)}`,
    // The arguments of one call, NUL-separated, in a file of its own: calls in $(...) run in subshells.
    'aws() { printf \'%s\\0\' "$@" > "$(mktemp "$out/$LINE.XXXXXX")"; }',
    "terraform() {",
    '  if [ "$#" -ne 3 ] || [ "$1 $2" != "output -raw" ]; then echo "unexpected: terraform $*" >&2; return 1; fi',
    '  case "$3" in',
    ...cases,
    '    *) echo "no output $3" >&2; return 1 ;;',
    "  esac",
    "}",
    // The README's placeholders, each set where the README says how to set it.
    "AMI_ID=ami-0123456789abcdef0 PREVIOUS_AMI=ami-0fedcba9876543210 VERSION=1 VALUE=example-secret INSTANCE_ID=i-0123456789abcdef0",
    ...lines.map((line, i) => `( LINE=${i}; ${line} ) || echo "line ${i} exited $?" >&2`),
  ].join("\n");
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`bash failed (${result.status}): ${result.stderr}`);
  const files = readdirSync(dir).sort();
  const vectors = lines.map((_, i) =>
    files.filter((f) => f.startsWith(`${i}.`)).map((f) => readFileSync(join(dir, f), "utf8").split("\0").slice(0, -1)),
  );
  return { vectors, stderr: result.stderr };
}

export function preferencesOf(params: Record<string, any>): RefreshPreferences {
  return params.Preferences ?? {};
}
