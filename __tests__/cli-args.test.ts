/** argv -> flags: every question's flag, the --config naming clash, and usage errors naming the flag. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { editDistance, FLAG_SPECS, parseArgs, UPGRADE_FLAGS } from "../generators/args";
import { EXIT_CANCELLED, EXIT_CODES, EXIT_CONFLICTS, UsageError } from "../generators/errors";
import { installCommand, PACKAGE_MANAGERS, runScript } from "../generators/package-manager";
import { REPO } from "./support/cli";
import { literal } from "./support/safety";

function usageError(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
}

describe("parseArgs", () => {
  it("reads every answer flag, in both --flag value and --flag=value forms", () => {
    const flags = parseArgs([
      "shop",
      "--name",
      "shop",
      "--region=eu-west-1",
      "--environments",
      "staging, production",
      "--instance-type",
      "t3.micro",
      "--min",
      "1",
      "--max=3",
      "--port",
      "3000",
      "--health-path",
      "/healthz",
      "--image",
      "ghcr.io/acme/shop:1.0",
      "--certificate-arn",
      "arn:x",
      "--vpc-cidr",
      "10.1.0.0/16",
      "--config",
      "LOG_LEVEL=debug",
      "--config",
      "GREETING=a=b",
      "--secret",
      "DB_PASSWORD",
      "--secret",
      "API_TOKEN",
      "--no-install",
      "--git",
      "--dockerfile",
      "-y",
      "--dry-run",
      "--force",
    ]);
    expect(flags).toMatchObject({
      dir: "shop",
      name: "shop",
      region: "eu-west-1",
      environments: ["staging", "production"],
      instanceType: "t3.micro",
      min: 1,
      max: 3,
      port: 3000,
      healthPath: "/healthz",
      image: "ghcr.io/acme/shop:1.0",
      certificateArn: "arn:x",
      vpcCidr: "10.1.0.0/16",
      config: [
        ["LOG_LEVEL", "debug"],
        ["GREETING", "a=b"],
      ],
      secrets: ["DB_PASSWORD", "API_TOKEN"],
      install: false,
      git: true,
      dockerfile: true,
      yes: true,
      dryRun: true,
      force: true,
    });
  });

  it("leaves absent answers undefined so that prompts and defaults can fill them", () => {
    const flags = parseArgs([]);
    expect(flags.name).toBeUndefined();
    expect(flags.install).toBeUndefined();
    expect(flags.yes).toBe(false);
  });

  it("takes --config FILE (no KEY=) and --config-file FILE as the answers file, but not both", () => {
    expect(parseArgs(["--config", "answers.json"]).configFile).toEqual({ path: "answers.json", flag: "--config" });
    expect(parseArgs(["--config-file", "a=b.json"]).configFile).toEqual({ path: "a=b.json", flag: "--config-file" });
    expect(usageError(["--config", "a.json", "--config-file", "b.json"]).message).toMatch(/^--config-file: .*--config/);
  });

  it.each([
    [["--nme", "x"], /^--nme: is not a known option/],
    [["--Name", "x"], /did you mean --name\?/],
    [["-x"], /^-x: is not a known option/],
    [["--name"], /^--name: needs a value/],
    [["--name", "--yes"], /^--name: needs a value/],
    [["--port", "80a"], /^--port: must be a whole number/],
    [["--min", "-1"], /^--min: must be a whole number, got "-1"/],
    [["--port", "-8080", "x"], /^--port: must be a whole number, got "-8080"/],
    [["--min", "--yes"], /^--min: needs a value/],
    [["--name", "-1"], /^--name: needs a value/],
    [["--max", "1.5"], /^--max: must be a whole number/],
    [["--name", "a", "--name", "b"], /^--name: is given more than once/],
    [["--yes=no"], /^--yes: takes no value/],
    [["--no-yes"], /^--no-yes: is not a known option/],
    [["--environments", "staging,,prod"], /^--environments: has an empty entry/],
    [["--config", "A=1", "--config", "A=2"], /^--config: A is given more than once/],
    [["a", "b"], /^\[dir\]: only one target directory/],
    [["--na\u0000me"], /^"--na\\u0000me": is not a known option/],
    [["--use-npm", "--use-pnpm"], /^--use-pnpm: cannot be combined with --use-npm; choose one package manager$/],
    [["--use-bun", "--use-yarn", "--use-npm"], /^--use-yarn: cannot be combined with --use-npm; choose one package manager$/],
    [["--use-npm=yes"], /^--use-npm: takes no value/],
  ])("refuses %j naming the flag", (argv, message) => {
    const error = usageError(argv as string[]);
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
  });
});

describe("did you mean", () => {
  it.each([
    ["--regoin", "--region"],
    ["--rgion", "--region"],
    ["--instace-type", "--instance-type"],
    ["--instance_type", "--instance-type"],
    ["--dryrun", "--dry-run"],
    ["--no-instal", "--no-install"],
    ["--no-gti", "--no-git"],
    ["--forse", "--force"],
    ["--use-pnmp", "--use-pnpm"],
    ["--publc-subnets", "--public-subnets"],
    ["--helth-path", "--health-path"],
  ])("suggests the known flag nearest to %s", (typed, known) => {
    const error = usageError([typed, "x"]);
    expect(error.message).toBe(`${typed}: is not a known option (did you mean ${known}?)`);
  });

  it.each(["--bogus", "--zz", "--constructor", "--no-yes"])("suggests nothing for %s, far from every flag", (typed) => {
    expect(usageError([typed]).message).not.toMatch(/did you mean/);
  });

  it("counts a swap of two neighbours as one edit", () => {
    expect(editDistance("regoin", "region")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });
});

describe("package manager flags", () => {
  it.each([
    ["--use-npm", "npm"],
    ["--use-pnpm", "pnpm"],
    ["--use-yarn", "yarn"],
    ["--use-bun", "bun"],
  ])("%s chooses %s", (flag, pm) => {
    expect(parseArgs([flag]).packageManager).toBe(pm);
  });

  it("leaves the choice to the user agent without a flag", () => {
    expect(parseArgs(["x"]).packageManager).toBeUndefined();
  });
});

describe("help/usage.txt", () => {
  const usage = readFileSync(join(REPO, "help", "usage.txt"), "utf8");

  it("documents every flag the parser accepts, and no other", () => {
    const documented = new Set([...usage.matchAll(/(?:^|\s)--(?:no-)?([a-z][a-z-]*)/g)].map((m) => m[1]));
    // The generator's flags and upgrade's (its own section; upgrade.test.ts checks that section alone).
    expect([...documented].sort()).toEqual([...new Set([...Object.keys(FLAG_SPECS), ...UPGRADE_FLAGS])].sort());
  });

  it("documents every exit code the CLI and bin/ use", () => {
    const codes = [0, ...Object.values(EXIT_CODES), EXIT_CONFLICTS, EXIT_CANCELLED];
    const bin = readFileSync(join(REPO, "bin", "create-immutable-app.js"), "utf8");
    for (const m of bin.matchAll(/process\.exit\((\d+)\)/g)) codes.push(Number(m[1]));
    expect(codes).toContain(70);
    const exitLine = usage.slice(usage.indexOf("Exit codes:"), usage.indexOf("Examples:"));
    const documented = [...exitLine.matchAll(/(?:^|[:,]\s)(\d+) /g)].map((m) => Number(m[1]));
    expect([...new Set(documented)].sort()).toEqual([...new Set(codes)].sort());
  });

  it("shows each package manager's commands as the CLI runs them", () => {
    for (const pm of PACKAGE_MANAGERS) {
      expect(usage).toMatch(
        new RegExp(`^ {2}--use-${pm} +${literal(installCommand(pm))}, ${literal(runScript(pm, "deploy", "<env>"))}$`, "m"),
      );
    }
  });

  it("documents the short flags", () => {
    for (const [name, spec] of Object.entries(FLAG_SPECS)) {
      if ("short" in spec) expect(usage).toContain(`-${spec.short}, --${name}`);
    }
  });
});
