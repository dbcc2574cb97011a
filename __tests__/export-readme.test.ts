/**
 * The ops README: config values shown exactly (rendered by a real Markdown parser and read back), every
 * table whole, and what it says about rollout.sh read from the script itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { marked, type Tokens } from "marked";
import { literalCell, rolloutFacts } from "../managed/export/readme";
import { exportProject, REPO, runExport, ssmHttpsExistingVpc } from "./support/export";

const ENTITIES: Record<string, string> = { "&quot;": '"', "&amp;": "&", "&lt;": "<", "&gt;": ">", "&#39;": "'" };

/** Renders one table row holding the cell and returns the text of its code span. */
function readBack(cell: string): string {
  const html = marked.parse(`| Parameter | Value |\n| --- | --- |\n| p | ${cell} |\n`, { async: false }) as string;
  const match = /<td><code>([\s\S]*)<\/code><\/td>/.exec(html);
  if (!match) throw new Error(`no code span in ${html}`);
  return match[1].replace(/&(quot|amp|lt|gt|#39);/g, (entity) => ENTITIES[entity]);
}

describe("literalCell", () => {
  it.each([
    ["plain", "warn"],
    ["interpolation-like", "Hello, ${name}: 100% literal"],
    ["pipes and backticks", "a | b `c` ``d``"],
    ["backslashes and quotes", 'C:\\path "quoted" \\n'],
    ["newlines", "line 1\nline 2\r\n"],
    ["leading backtick", "`x"],
  ])("%s", (_what, value) => {
    expect(JSON.parse(readBack(literalCell(value)))).toBe(value);
  });

  it("round-trips arbitrary strings through a Markdown renderer", () => {
    const text = fc.string({
      unit: fc.oneof(
        fc.constantFrom("`", "|", "\\", '"', "\n", "$", "{", "<", "&", " ", "*", "_"),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
      ),
      maxLength: 30,
    });
    fc.assert(
      fc.property(text, (value) => {
        expect(JSON.parse(readBack(literalCell(value)))).toBe(value);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe("rolloutFacts of managed/rollout.sh", () => {
  const script = readFileSync(join(REPO, "managed", "rollout.sh"), "utf8");

  it("reads its usage, its defaults, the outputs it reads and the AWS operations it calls", () => {
    expect(rolloutFacts(script)).toEqual({
      usage:
        "rollout.sh [--dir DIR] [--timeout SECONDS] [--poll SECONDS] [--replace-all] [--ignore-alarms] [--probe-url URL] [--status] [--check-secrets NAME...]",
      timeoutSeconds: 3600,
      pollSeconds: 15,
      outputs: [
        "asg_name",
        "launch_template_id",
        "launch_template_version",
        "instance_refresh",
        "rollout_alarms",
        "image_parameter",
        "secret_parameters",
        "canary",
        "checkpoint_delay_seconds",
        "probe_requests_per_second",
        "health_check_url",
      ],
      calls: [
        "autoscaling describe-auto-scaling-groups",
        "autoscaling describe-instance-refreshes",
        "autoscaling start-instance-refresh",
        "cloudwatch describe-alarms",
        "ec2 describe-instances",
        "ec2 describe-launch-template-versions",
        "ssm describe-parameters",
        "ssm get-parameter",
      ],
    });
  });

  it("counts calls, not the commands it prints or names in messages", () => {
    const facts = rolloutFacts(
      [
        "#!/usr/bin/env bash",
        "# x.sh",
        "# aws s3 ls (a comment)",
        'id=$(aws autoscaling start-instance-refresh --cli-input-json "$input") || die 1 "aws sts get-caller-identity failed"',
        "printf '  aws ssm put-parameter --name %s\\n' \"$name\"",
        "",
      ].join("\n"),
    );
    expect(facts.calls).toEqual(["autoscaling start-instance-refresh"]);
  });
});

describe("the generated README", () => {
  const readmes = new Map<string, string>();
  beforeAll(() => {
    for (const [variant, change] of [
      ["example", () => undefined],
      ["ssm", ssmHttpsExistingVpc],
    ] as const) {
      const cwd = exportProject(change);
      const result = runExport(cwd, []);
      if (result.code !== 0) throw new Error(result.stderr);
      for (const stack of ["staging", "production"])
        readmes.set(`${variant}/${stack}`, readFileSync(join(cwd, "terraform", stack, "README.md"), "utf8"));
    }
  }, 60_000);

  it("has only whole tables: every row the Markdown parser reads is as wide as its header, and none is lost", () => {
    for (const [where, readme] of readmes) {
      const tables: Tokens.Table[] = [];
      marked.walkTokens(marked.lexer(readme), (t) => {
        if (t.type === "table") tables.push(t as Tokens.Table);
      });
      const written = readme.split("\n\n").filter((block) => block.startsWith("| "));
      expect({ where, tables: tables.length }).toEqual({ where, tables: written.length });
      tables.forEach((table, i) => {
        const rows = written[i].split("\n").length - 2;
        expect({
          where,
          header: table.header.length,
          rows: table.rows.length,
          widths: [...new Set(table.rows.map((r) => r.length))],
        }).toEqual({ where, header: table.header.length, rows, widths: rows > 0 ? [table.header.length] : [] });
      });
    }
  });

  it("explains every exit code of rollout.sh", () => {
    const script = readFileSync(join(REPO, "managed", "rollout.sh"), "utf8");
    const codes = [...new Set([...script.matchAll(/\b(?:die|exit) ([0-9]+)\b/g)].map((m) => m[1]))].sort();
    expect(codes).toEqual(["0", "1", "2", "3", "4", "5"]);
    for (const [where, readme] of readmes) {
      for (const code of codes)
        expect({ where, code, row: new RegExp(`^\\| ${code} \\| \\S`, "m").test(readme) }).toEqual({ where, code, row: true });
    }
  });
});
