/**
 * Every AWS CLI command the exported READMEs print is one the AWS CLI accepts: the example config and
 * a variant (resolve:ssm image, certificate, existing VPC, two secrets), every stack.
 *
 * How, and why this way:
 * 1. The commands are taken from the README as a reader sees it: the Markdown is lexed (marked), and
 *    every line of a code block and every code span that runs `aws` is a command (continuation lines
 *    joined; comments skipped).
 * 2. Each line runs in bash exactly as printed, so its quoting, `$(...)` and variables are bash's, with
 *    `aws` a function that records its argument vector, `terraform output -raw <name>` answering what
 *    the stack's output would hold, and the README's placeholders (AMI_ID, VALUE, ...) set. `set -u`: a
 *    line that uses anything else fails.
 * 3. The vectors go to the AWS CLI installed in .venv (v1 1.36), in one Python process
 *    (support/aws_cli_check.py): its own entry point parses the global options (the --query
 *    JMESPath is compiled), the service, the operation and every option (unknown or missing required
 *    ones are errors, and so is a prefix argparse would take) and builds the API parameters from the values (JSON parsed against the input
 *    shape); where it would send the request, a stand-in validates the parameters with botocore's
 *    ParamValidator, the check botocore itself runs before sending, and sends nothing. Faster than
 *    `aws <service> <operation> help` per command (one process, not one per command) and stricter
 *    than --generate-cli-skeleton (which skips required options and value validation).
 * 4. The refresh preferences of every start-instance-refresh (--preferences or --cli-input-json) must
 *    pass refreshPreferenceProblems (managed/aws-rules.ts).
 * The checker's own strictness is tested first, on commands it must refuse.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { refreshPreferenceProblems } from "../managed/aws-rules";
import { awsCommandLines, checkWithCli, preferencesOf, runLines } from "./support/aws-cli";
import { exportProject, runExport, ssmHttpsExistingVpc } from "./support/export";

jest.setTimeout(120_000);

/**
 * What `terraform output -raw <name>` would print after an apply: the output's template with each
 * reference resolved (a literal attribute of the resource, else a value of the right shape).
 */
function outputValues(folder: string): Record<string, string> {
  const main = JSON.parse(readFileSync(join(folder, "main.tf.json"), "utf8"));
  const outputs = JSON.parse(readFileSync(join(folder, "outputs.tf.json"), "utf8")).output;
  const shapes: Record<string, string> = {
    id: "lt-0123456789abcdef0",
    latest_version: "2",
    dns_name: "demo-app-1234567890.eu-west-1.elb.amazonaws.com",
  };
  const resolve = (template: string) =>
    template.replace(/\$\{([a-z0-9_]+)\.([A-Za-z0-9_]+)\.([a-z_]+)\}/g, (whole, type, name, attribute) => {
      const literal = main.resource?.[type]?.[name]?.[attribute];
      const value = typeof literal === "string" && !literal.includes("${") ? literal : shapes[attribute];
      if (value === undefined) throw new Error(`cannot resolve ${whole}`);
      return value;
    });
  return Object.fromEntries(Object.entries<any>(outputs).map(([name, o]) => [name, resolve(String(o.value))]));
}

describe("the AWS CLI checker", () => {
  it("refuses what the AWS CLI refuses: unknown operations and options, missing required ones, bad values and queries", () => {
    const results = checkWithCli([
      ["logs", "tail", "/demo-app/production/app"],
      ["autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", "g", "--bogus"],
      ["autoscaling", "cancel-instance-refresh"],
      ["autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", "g", "--query", "[["],
      ["autoscaling", "start-instance-refresh", "--auto-scaling-group-name", "g", "--preferences", '{"SkipMatching":"no"}'],
      ["autoscaling", "start-instance-refresh", "--auto-scaling-group-name", "g", "--preferences", '{"Bogus":1}'],
      ["autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", "g", "--max-records", "many"],
      // argparse would take the prefix; a README spells the option out.
      ["autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", "g", "--max-record", "1"],
    ]);
    for (const r of results) {
      expect({ argv: r.argv, refused: r.exit !== 0 || r.problems.length > 0 }).toEqual({ argv: r.argv, refused: true });
    }
    expect(results[5].problems.join()).toContain('Unknown parameter in Preferences: "Bogus"');
    expect(results[7].problems.join()).toContain("--max-record is not the exact name of an option");
  });

  it("accepts a valid command and reports the operation and its parameters", () => {
    const [r] = checkWithCli([
      [
        "autoscaling",
        "describe-instance-refreshes",
        "--region",
        "eu-west-1",
        "--auto-scaling-group-name",
        "g",
        "--query",
        "InstanceRefreshes[0].Status",
        "--output",
        "text",
      ],
    ]);
    expect(r).toMatchObject({
      exit: 0,
      service: "autoscaling",
      operation: "DescribeInstanceRefreshes",
      params: { AutoScalingGroupName: "g" },
      problems: [],
    });
  });
});

describe("every aws command of the exported READMEs", () => {
  const variants: Array<[string, (config: any) => void]> = [
    ["example", () => undefined],
    ["resolve:ssm + certificate + existing VPC + secrets", ssmHttpsExistingVpc],
  ];
  const folders: Array<{ variant: string; stack: string; dir: string; ssm: boolean }> = [];

  beforeAll(() => {
    for (const [variant, change] of variants) {
      const cwd = exportProject(change);
      const result = runExport(cwd, []);
      if (result.code !== 0) throw new Error(`export failed: ${result.stderr}`);
      for (const stack of ["staging", "production"]) {
        folders.push({ variant, stack, dir: join(cwd, "terraform", stack), ssm: change === ssmHttpsExistingVpc });
      }
    }
  });

  it("are valid for AWS CLI v1 (service, operation, every option and value), and their refresh preferences for AWS", () => {
    const failures: string[] = [];
    const calls: Array<{ where: string; ssm: boolean; argv: string[] }> = [];
    for (const folder of folders) {
      const where = `${folder.variant}/${folder.stack}`;
      const lines = awsCommandLines(readFileSync(join(folder.dir, "README.md"), "utf8"));
      const { vectors, stderr } = runLines(lines, outputValues(folder.dir));
      if (stderr) failures.push(`${where}: bash: ${stderr}`);
      lines.forEach((line, i) => {
        if (vectors[i].length === 0) failures.push(`${where}: ran no aws command: ${line}`);
        for (const argv of vectors[i]) calls.push({ where, ssm: folder.ssm, argv });
      });
    }
    const results = checkWithCli(calls.map((c) => c.argv));
    const operations = new Map<string, Set<string>>();
    results.forEach((r, i) => {
      const { where, ssm } = calls[i];
      const command = `aws ${r.argv.join(" ")}`;
      if (r.exit !== 0 || r.problems.length > 0)
        failures.push(
          `${where}: ${command}\n  exit ${r.exit}: ${[...r.problems, r.stderr.trim().split("\n").pop()].filter(Boolean).join("; ")}`,
        );
      if (r.operation) operations.set(where, (operations.get(where) ?? new Set()).add(`${r.service}:${r.operation}`));
      if (r.operation === "StartInstanceRefresh" && r.params) {
        const version = r.params.DesiredConfiguration?.LaunchTemplate?.Version;
        const problems = refreshPreferenceProblems(preferencesOf(r.params), {
          desiredVersion: version,
          groupVersion: version && "1",
          imageFromSsm: ssm,
        });
        if (problems.length > 0) failures.push(`${where}: ${command}\n  AWS would refuse the preferences: ${problems.join("; ")}`);
      }
    });
    expect(failures).toEqual([]);

    // The extraction found the commands of every procedure (not a vacuous pass).
    const common = [
      "autoscaling:DescribeInstanceRefreshes",
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:CancelInstanceRefresh",
      "autoscaling:StartInstanceRefresh",
      "cloudwatch:DescribeAlarms",
      "ssm:PutParameter",
      "ssm:StartSession",
      "logs:FilterLogEvents",
    ];
    expect([...operations.get("example/production")!].sort()).toEqual(
      expect.arrayContaining([...common, "autoscaling:RollbackInstanceRefresh", "ec2:DescribeLaunchTemplateVersions"]),
    );
    const ssmStack = [...operations.get("resolve:ssm + certificate + existing VPC + secrets/production")!];
    expect(ssmStack).toEqual(expect.arrayContaining([...common, "ssm:GetParameterHistory"]));
    // AWS cannot roll back a resolve:ssm group (RollbackInstanceRefresh): the README does not offer it.
    expect(ssmStack).not.toContain("autoscaling:RollbackInstanceRefresh");
  });
});
