/** Answer resolution (flag > answers file > prompt > default) and validation into the model. */
import { parseArgs } from "../generators/args";
import { type Answers, nameFromDir, resolveAnswers, validators } from "../generators/answers";
import { UsageError, UsageProblems } from "../generators/errors";
import { buildModel, configFromAnswers } from "../generators/model";
import { resolveConfig } from "../managed/config-validation";
import { type PromptLog, scriptedPrompter } from "./support/cli";

const file = (value: Record<string, unknown>) => ({ flag: "--config-file", path: "answers.json", value });

async function resolve(
  argv: string[],
  extra: { prompts?: Array<string | boolean>; file?: Record<string, unknown>; log?: PromptLog[] } = {},
): Promise<Answers> {
  return resolveAnswers({
    flags: parseArgs(argv),
    interactive: extra.prompts !== undefined,
    prompter: extra.prompts ? scriptedPrompter(extra.prompts, extra.log) : undefined,
    file: extra.file ? file(extra.file) : undefined,
  });
}

describe("resolveAnswers", () => {
  it("takes defaults without a TTY, naming the app after the directory", async () => {
    const a = await resolve(["my-app"]);
    expect(a).toMatchObject({
      dir: "my-app",
      name: "my-app",
      region: "us-east-1",
      environments: ["staging", "production"],
      instanceType: "t3.small",
      min: 2,
      max: 4,
      port: 8080,
      healthPath: "/",
      dockerfile: false,
      install: true,
      git: true,
      network: { mode: "new", cidr: "10.0.0.0/16" },
    });
    expect(a.sources.name).toBe("default");
  });

  it("uses the app name as the directory when no directory is given", async () => {
    expect((await resolve(["--name", "shop", "--yes"])).dir).toBe("shop");
  });

  it("names the app after the current directory for .", async () => {
    const a = await resolveAnswers({ flags: parseArgs([".", "--yes"]), interactive: false, cwd: "/home/me/shop-api" });
    expect(a).toMatchObject({ dir: ".", name: "shop-api" });
    expect(a.sources.name).toBe("default");
    await expect(resolveAnswers({ flags: parseArgs([".", "--yes"]), interactive: false, cwd: "/home/me/Shop API" })).rejects.toThrow(
      /^--name: is required: the name of "\.", "Shop API", is not a valid app name \("Shop API" must start with a lower-case letter.*\); pass --name my-app$/,
    );
  });

  it("checks the target before the first question when [dir] is given, else right after the name", async () => {
    const events: string[] = [];
    const log: PromptLog[] = [];
    const prompter = scriptedPrompter(["shop"], log);
    const refuse = (dir: string): void => {
      events.push(`check ${dir} after ${log.length} questions`);
      throw new UsageError("[dir]", "is not empty");
    };
    await expect(resolveAnswers({ flags: parseArgs(["busy"]), interactive: true, prompter, checkTarget: refuse })).rejects.toThrow(
      /not empty/,
    );
    await expect(resolveAnswers({ flags: parseArgs([]), interactive: true, prompter, checkTarget: refuse })).rejects.toThrow(/not empty/);
    expect(events).toEqual(["check busy after 0 questions", "check shop after 1 questions"]);
    // An invalid name is not a path to look at: validation reports it.
    const checked: string[] = [];
    await resolveAnswers({ flags: parseArgs(["--name", "../etc", "--yes"]), interactive: false, checkTarget: (d) => checked.push(d) });
    expect(checked).toEqual([]);
  });

  it("follows the package manager that ran the CLI, unless a --use-<pm> flag chooses", async () => {
    const pm = async (argv: string[], userAgent?: string) =>
      (await resolveAnswers({ flags: parseArgs(["x", "--yes", ...argv]), interactive: false, userAgent })).packageManager;
    expect(await pm([])).toBe("npm");
    expect(await pm([], "pnpm/9.1.0 npm/? node/v20.11.0 linux x64")).toBe("pnpm");
    expect(await pm([], "yarn/4.1.0 npm/? node/v20.11.0 linux x64")).toBe("yarn");
    expect(await pm([], "bun/1.1.0 npm/? node/v20.11.0 linux x64")).toBe("bun");
    expect(await pm([], "npm/10.2.4 node/v20.11.0 linux x64 workspaces/false")).toBe("npm");
    expect(await pm([], "deno/1.40")).toBe("npm");
    expect(await pm(["--use-bun"], "pnpm/9.1.0 npm/? node/v20")).toBe("bun");
  });

  it("asks about the install with the chosen package manager's command", async () => {
    const log: PromptLog[] = [];
    await resolve(["--name", "shop", "--use-pnpm"], {
      prompts: ["", "", "", "", "", "", "", "", false, "", "new", "", "", "", "", true, true],
      log,
    });
    expect(log.map((q) => q.message)).toContain("Install dependencies now (pnpm install)?");
  });

  it("refuses to guess a missing name without a TTY, naming --name", async () => {
    await expect(resolve([])).rejects.toThrow(/^--name: is required without a TTY/);
    await expect(resolve(["My App"])).rejects.toThrow(/^--name: is required: the directory name "My App" is not a valid app name/);
    await expect(resolve(["My_App", "--yes"])).rejects.toBeInstanceOf(UsageError);
  });

  it("prefers a flag over the answers file over a prompt over the default", async () => {
    const log: PromptLog[] = [];
    const a = await resolve(["shop", "--region", "eu-west-1"], {
      file: { appPort: 3000, healthCheckPath: "/ready" },
      // Asked: name, environments, instance type, min, max, image, dockerfile, certificate, network, config, secrets, GitHub repository, install, git.
      prompts: ["", "staging", "t3.micro", "1", "2", "", false, "", "new", "10.5.0.0/16", "LOG_LEVEL=debug", "", "", "", false, false],
      log,
    });
    expect(a.region).toBe("eu-west-1");
    expect(a.sources.region).toBe("flag");
    expect(a.port).toBe(3000);
    expect(a.sources.port).toBe("file");
    expect(a.instanceType).toBe("t3.micro");
    expect(a.sources.instanceType).toBe("prompt");
    expect(a).toMatchObject({
      name: "shop",
      environments: ["staging"],
      min: 1,
      max: 2,
      network: { mode: "new", cidr: "10.5.0.0/16" },
      config: { LOG_LEVEL: "debug" },
      install: false,
      git: false,
    });
    const asked = log.map((q) => q.message);
    expect(asked.some((m) => /region/i.test(m))).toBe(false);
    expect(asked.some((m) => /port/i.test(m))).toBe(false);
    expect(log[0]).toMatchObject({ message: expect.stringMatching(/App name/), default: "shop" });
  });

  it("asks nothing with --yes even on a TTY", async () => {
    const a = await resolveAnswers({ flags: parseArgs(["x", "--yes"]), interactive: true, prompter: scriptedPrompter([]) });
    expect(a.sources.region).toBe("default");
  });

  it("asks for an existing VPC's ids when the user picks it", async () => {
    const a = await resolve(["--name", "shop"], {
      prompts: [
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        false,
        "",
        "existing",
        "vpc-0123456789abcdef0",
        "subnet-00000001,subnet-00000002",
        "subnet-00000003, subnet-00000004",
        "",
        "",
        "",
        true,
        true,
      ],
    });
    expect(a.network).toEqual({
      mode: "existing",
      vpcId: "vpc-0123456789abcdef0",
      publicSubnetIds: ["subnet-00000001", "subnet-00000002"],
      privateSubnetIds: ["subnet-00000003", "subnet-00000004"],
    });
  });

  it("keeps the answers file's environments and lets flags override every one", async () => {
    const a = await resolve(["x", "--max", "9"], {
      file: { environments: [{ name: "qa", maxCapacity: 2, cpuTargetPercent: 50 }, { name: "prod" }] },
    });
    expect(a.environments).toBeUndefined();
    const config = configFromAnswers(a);
    expect(config.environments).toEqual([
      { name: "qa", maxCapacity: 9, cpuTargetPercent: 50 },
      { name: "prod", maxCapacity: 9 },
    ]);
  });

  it("refuses combining a new VPC block with an existing VPC", async () => {
    await expect(resolve(["x", "--vpc-cidr", "10.0.0.0/16", "--vpc-id", "vpc-01234567"])).rejects.toThrow(/^--vpc-cidr: /);
  });
});

describe("prompt validators (as the answer is typed)", () => {
  it.each([
    ["name", validators.name, "shop", "Shop"],
    ["region", validators.region, "eu-west-1", "eu-west-9"],
    ["environments", validators.environments("shop"), "staging, production", "staging,../x"],
    ["instanceType", validators.instanceType, "m7g.large", "t3"],
    ["min", validators.min, "0", "1001"],
    ["max", validators.max(3), "3", "2"],
    ["port", validators.port, "3000", "22"],
    ["healthPath", validators.healthPath, "/healthz", "health"],
    ["image", validators.image, "ghcr.io/acme/web:1.2.3", "Ghcr.io/Acme"],
    [
      "certificateArn",
      validators.certificateArn("us-east-1"),
      "",
      "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    ],
    ["vpcCidr", validators.vpcCidr, "10.1.0.0/16", "10.1.0.0/33"],
    ["vpcId", validators.vpcId, "vpc-0123456789abcdef0", "vpc-xyz"],
    ["subnets", validators.subnets("publicSubnetIds"), "subnet-00000001,subnet-00000002", "subnet-00000001"],
    ["configPair", validators.configPair([]), "LOG_LEVEL=info", "DB_PASSWORD=hunter2"],
    ["secrets", validators.secrets({}), "DB_PASSWORD, API_TOKEN", "DB-PASSWORD"],
  ])("%s accepts a good answer and explains a bad one", (_name, validate, good, bad) => {
    expect(validate(good)).toBe(true);
    expect(typeof validate(bad)).toBe("string");
  });

  it("derives the app name from a valid directory name only", () => {
    expect(nameFromDir("/tmp/projects/shop-api/", "/")).toBe("shop-api");
    expect(nameFromDir("Shop", "/tmp")).toBeUndefined();
    expect(nameFromDir("con", "/tmp")).toBeUndefined();
    expect(nameFromDir("", "/tmp/shop")).toBeUndefined();
  });

  it("takes . as the current directory and .. as its parent", () => {
    expect(nameFromDir(".", "/home/me/shop-api")).toBe("shop-api");
    expect(nameFromDir("./", "/home/me/shop-api")).toBe("shop-api");
    expect(nameFromDir("..", "/home/me/shop-api/infra")).toBe("shop-api");
    expect(nameFromDir(".", "/home/me/Shop API")).toBeUndefined();
  });
});

describe("buildModel", () => {
  async function problems(argv: string[], fileValue?: Record<string, unknown>): Promise<Array<{ subject: string; message: string }>> {
    const a = await resolve(argv, { file: fileValue });
    try {
      buildModel(a, "/tmp");
    } catch (error) {
      if (error instanceof UsageProblems) {
        expect(error.exitCode).toBe(2);
        return [...error.problems];
      }
      throw error;
    }
    throw new Error(`no problems for ${argv.join(" ")}`);
  }

  it("turns default answers into a config that resolveConfig accepts unchanged", async () => {
    const model = buildModel(await resolve(["shop"]), "/work");
    expect(model.targetDir).toBe("/work/shop");
    expect(resolveConfig(model.configFile)).toEqual(model.config);
    expect(model.configFile.$schema).toBe("./managed/config.schema.json");
  });

  it("reports every problem at once, each once, naming its flag and not the config field", async () => {
    const found = await problems(["x", "--port", "65536", "--region", "mars-1", "--min", "5", "--max", "2"]);
    expect(found.map((p) => p.subject).sort()).toEqual(["--min", "--port", "--region"]);
    expect(found.find((p) => p.subject === "--port")!.message).toBe("must be from 1 to 65535, got 65536");
    expect(found.find((p) => p.subject === "--min")!.message).toBe("5 is more than --max 2");
  });

  it("blames --max, once, when it is below the default --min (not --min, once per environment)", async () => {
    expect(await problems(["x", "--max", "1"])).toEqual([
      { subject: "--max", message: "1 is less than the minimum, 2 (the default of --min); pass a --min of 1 or less too" },
    ]);
  });

  it("blames --min when it is above the default --max", async () => {
    // The default --max follows a larger --min (max(4, min)), so only an answers file's maximum is below it.
    const found = await problems(["x", "--min", "5", "--max", "4", "--environments", "a,b,c"]);
    expect(found).toEqual([{ subject: "--min", message: "5 is more than --max 4" }]);
  });

  it("reports a per-environment flag's own problem once, however many environments take it", async () => {
    const found = await problems(["x", "--environments", "a,b,c", "--min", "1001", "--max", "1001", "--instance-type", "huge"]);
    expect(found).toEqual([
      { subject: "--instance-type", message: expect.stringMatching(/^"huge" is not an EC2 instance type/) },
      { subject: "--min", message: "must be from 0 to 1000, got 1001" },
      { subject: "--max", message: "must be from 1 to 1000, got 1001" },
    ]);
  });

  it("names the flag and the problem only: no config field path, no file the user does not have", async () => {
    const found = await problems(["x", "--region", "mars-1"]);
    expect(found).toEqual([
      { subject: "--region", message: '"mars-1" is not a known AWS region; e.g. us-east-1, eu-west-1, ap-southeast-2' },
    ]);
    const many = await problems([
      "x",
      "--name",
      "a${b}",
      "--port",
      "22",
      "--vpc-cidr",
      "10.0.0.0/8",
      "--config",
      "UPSTREAM=AKIAABCDEFGHIJKLMNOP",
      "--config",
      "A=",
      "--secret",
      "DB PASSWORD",
      "--environments",
      "Staging",
      "--image",
      "UPPER/case",
      "--health-path",
      "x",
    ]);
    for (const p of many) {
      expect(p.subject).toMatch(/^--[a-z-]+$/);
      expect(p.message).not.toMatch(/^(appName|appPort|network|config|secrets|environments|image|healthCheckPath)\b|\.json|managed\//);
    }
    // --config names the key the user typed, since one run can pass several.
    expect(many.filter((p) => p.subject === "--config").map((p) => p.message)).toEqual([
      expect.stringMatching(/^UPSTREAM: looks like a secret \(the value contains an AWS access key id\)/),
      "A: must not be empty (SSM parameters cannot be empty)",
    ]);
  });

  it("blames the flag that overrode the answers file's environments, naming the file's field it conflicts with", async () => {
    const found = await problems(["x", "--max", "2"], { environments: [{ name: "qa", minCapacity: 3 }, { name: "prod" }] });
    expect(found).toEqual([
      {
        subject: "--max",
        message: "2 is less than the minimum, environments[0].minCapacity (3) in --config-file answers.json; pass a --min of 2 or less too",
      },
    ]);
    const fromFile = await problems(["x"], { environments: [{ name: "qa", minCapacity: 3, maxCapacity: 2 }] });
    expect(fromFile).toEqual([
      { subject: "--config-file answers.json", message: "environments[0].minCapacity: is 3, more than maxCapacity 2" },
    ]);
  });

  it("names the answers file and the field for a bad value from the file", async () => {
    const found = await problems(["x"], { network: { mode: "new", cidr: "10.0.0.0/8" }, tags: { app: "x" } });
    expect(found.map((p) => p.subject)).toEqual(["--config-file answers.json", "--config-file answers.json"]);
    expect(found.map((p) => p.message.split(":")[0]).sort()).toEqual(["network.cidr", "tags.app"]);
  });

  it.each([
    [["--name", "a${b}"], "--name"],
    [["--name", "a%{b}"], "--name"],
    [["--name", 'a"b'], "--name"],
    [["--name", "a\\b"], "--name"],
    [["--name", "a\nb"], "--name"],
    [["--name", "a\u0000b"], "--name"],
    [["--name", "{{app}}"], "--name"],
    [["--name", "../evil"], "--name"],
    [["--name", "/etc/passwd"], "--name"],
    [["--name", "~root"], "--name"],
    [["--name", "con"], "--name"],
    [["--name=-app"], "--name"],
    [["--name", ".app"], "--name"],
    [["--name", "_app"], "--name"],
    [["--name", "MyApp"], "--name"],
    [["--name", "a-very-long-application-name"], "--name"],
    [["--name", "twenty-chars-app-abc", "--environments", "productionxy"], "--environments"],
    [["x", "--environments", "Staging"], "--environments"],
    [["x", "--environments", "staging,staging"], "--environments"],
    [["x", "--vpc-cidr", "10.0.0.0/33"], "--vpc-cidr"],
    [["x", "--vpc-cidr", "8.8.0.0/16"], "--vpc-cidr"],
    [["x", "--port", "0"], "--port"],
    [["x", "--port", "65536"], "--port"],
    [["x", "--port", "22"], "--port"],
    [["x", "--min", "5", "--max", "2"], "--min"],
    [["x", "--instance-type", "huge"], "--instance-type"],
    [["x", "--region", "us-east-7"], "--region"],
    [["x", "--certificate-arn", "arn:aws:acm:us-east-1:123:certificate/x"], "--certificate-arn"],
    [
      [
        "x",
        "--vpc-id",
        "vpc-123",
        "--public-subnets",
        "subnet-00000001,subnet-00000002",
        "--private-subnets",
        "subnet-00000003,subnet-00000004",
      ],
      "--vpc-id",
    ],
    [
      [
        "x",
        "--vpc-id",
        "vpc-01234567",
        "--public-subnets",
        "subnet-1,subnet-00000002",
        "--private-subnets",
        "subnet-00000003,subnet-00000004",
      ],
      "--public-subnets",
    ],
    [["x", "--vpc-id", "vpc-01234567", "--public-subnets", "subnet-00000001,subnet-00000002"], "--private-subnets"],
    [["x", "--image", "UPPER/case"], "--image"],
    [["x", "--health-path", "no-slash"], "--health-path"],
    [["x", "--config", "__proto__=x"], "--config"],
    [["x", "--config", "constructor=x"], "--config"],
    [["x", "--config", "DATABASE_PASSWORD=hunter2"], "--config"],
    [["x", "--config", "DSN=postgres://u:secretpw@db/x"], "--config"],
    [["x", "--config", "KEY=AKIAABCDEFGHIJKLMNOP"], "--config"],
    [["x", "--config", "a//b=1"], "--config"],
    [["x", "--config", "BELL=\u0007"], "--config"],
    [["x", "--secret", "DB PASSWORD"], "--secret"],
    [["x", "--secret", "TOKEN", "--secret", "TOKEN"], "--secret"],
  ])("refuses %j naming %s", async (argv, subject) => {
    const found = await problems(argv as string[]);
    expect(found.map((p) => p.subject)).toContain(subject);
  });

  it("refuses a ~ or control characters in the directory", async () => {
    expect((await problems(["~/apps/shop", "--name", "shop"])).map((p) => p.subject)).toEqual(["[dir]"]);
    expect((await problems(["sh\top", "--name", "shop"])).map((p) => p.subject)).toEqual(["[dir]"]);
  });

  it("keeps exotic but valid values literally", async () => {
    const model = buildModel(await resolve(["x", "--config", 'GREETING=Hi ${name}, 100% "quoted" \u00e9\u6f22']), "/tmp");
    expect(model.config.config.GREETING).toBe('Hi ${name}, 100% "quoted" \u00e9\u6f22');
  });
});
