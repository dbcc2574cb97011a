/** The whole CLI in-process: exit codes, messages naming the flag, an untouched disk on bad input. */
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "fs";
import { join } from "path";
import { SpawnFn } from "../generators/post-steps";
import { tempDir } from "./support/terraform";
import { ensureCliBuilt, packageSources, PromptLog, runBin, runCli, scriptedPrompter, treeSnapshot } from "./support/cli";

describe("create-immutable-app (in-process)", () => {
  let cwd: string;
  beforeEach(() => {
    cwd = tempDir("cia-cli");
  });

  it("scaffolds with --yes and prints a summary and the next steps from help/", async () => {
    const r = await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Created shop \(\d+ files\):/);
    expect(r.stdout).toContain("Next steps:");
    expect(r.stdout).toContain("npx cdktf deploy staging");
    expect(r.stdout).toMatch(/Roll back/);
    expect(JSON.parse(readFileSync(join(cwd, "shop", "package.json"), "utf8")).name).toBe("shop");
  });

  it("next steps: edit only the config; the deploy and rollback of the first environment's image source; secrets after the deploy", async () => {
    const variable = await runCli(["shop", "--yes", "--no-install", "--no-git", "--secret", "DB_PASSWORD"], { cwd });
    expect(variable.stdout).toMatch(/Edit only immutable\.config\.json: .*image:build writes the Packer variables from it/);
    expect(variable.stdout).toMatch(/synth:hcl: HCL in terraform\/<env>\//);
    expect(variable.stdout).toContain("TF_VAR_ami_id=ami-... npx cdktf deploy staging");
    expect(variable.stdout).toMatch(/Then set each secret's value[^\n]*\n\s+aws ssm put-parameter --overwrite --type SecureString --key-id alias\/shop-staging-secrets --name \/shop\/staging\/secret\/DB_PASSWORD/);

    writeFileSync(join(cwd, "ssm.json"), JSON.stringify({ amiSource: "resolve:ssm:/web/image/ami-id" }));
    const ssm = await runCli(["web", "--yes", "--no-install", "--no-git", "--config-file", "ssm.json"], { cwd });
    expect(ssm.stderr).toBe("");
    expect(ssm.stdout).not.toMatch(/TF_VAR_ami_id|Then set each secret/);
    expect(ssm.stdout).toMatch(/npm run deploy -- staging\n/);
    expect(ssm.stdout).toContain("aws autoscaling start-instance-refresh --auto-scaling-group-name web-staging");
    // Real JSON that the AWS CLI accepts, not a placeholder.
    const preferences = /--preferences '([^']*)'/.exec(ssm.stdout)![1];
    expect(JSON.parse(preferences)).toMatchObject({ SkipMatching: false, MinHealthyPercentage: 90, InstanceWarmup: expect.any(Number) });
    expect(ssm.stdout).toMatch(/Roll back: put the previous AMI id back into the parameter/);
  });

  it("regenerates the workflows in place from the edited config, as the README's CI section says (built bin, dir .)", async () => {
    expect((await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd })).code).toBe(0);
    const project = join(cwd, "shop");
    const ciPath = join(project, ".github", "workflows", "ci.yml");
    const before = readFileSync(ciPath, "utf8");
    const command = /```sh\n(npx create-immutable-app \. [^\n]*)\n```/.exec(readFileSync(join(project, "README.md"), "utf8"))![1];
    const configPath = join(project, "immutable.config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    writeFileSync(configPath, JSON.stringify({
      ...config, backend: { bucket: "shop-terraform-state" },
      environments: [...config.environments.slice(0, 1), { name: "qa", amiSource: "resolve:ssm:/shop/image/qa/ami-id" }, ...config.environments.slice(1)],
    }, null, 2) + "\n");

    ensureCliBuilt();
    const r = runBin(command.split(" ").slice(2), { cwd: project });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const ci = readFileSync(ciPath, "utf8");
    expect(ci).toMatch(/deploy-qa:\n\s+needs: \[bake, deploy-staging\]/);
    expect(ci).toMatch(/deploy-production:\n\s+needs: \[bake, deploy-qa\]/);
    expect(ci).toContain("npx cdktf deploy qa --auto-approve");
    expect(ci).toContain("Roll out the new image (instance refresh; the bake wrote /shop/image/qa/ami-id)");
    expect(readFileSync(join(project, ".github", "workflows", "drift.yml"), "utf8")).toContain("drift-qa:");
    expect(readFileSync(join(project, "README.md"), "utf8")).not.toMatch(/has no `backend` yet/);
    expect(readFileSync(`${ciPath}.orig`, "utf8")).toBe(before);
    expect(r.stdout).toMatch(/\.github\/workflows\/ci\.yml \(old contents kept as \.github\/workflows\/ci\.yml\.orig\)/);
    // The config itself stays as edited; no other directory appears.
    expect(JSON.parse(readFileSync(configPath, "utf8")).backend).toEqual({ bucket: "shop-terraform-state" });
    expect(existsSync(join(project, "shop"))).toBe(false);
  }, 120_000);

  it("--help prints help/usage.txt and --version the package version", async () => {
    expect((await runCli(["--help"], { cwd })).stdout).toBe(packageSources().help.usage);
    expect((await runCli(["-v"], { cwd })).stdout).toBe(`${packageSources().packageJson.version}\n`);
    expect(treeSnapshot(cwd)).toEqual({});
  });

  it("--dry-run lists every file and writes nothing", async () => {
    const r = await runCli(["shop", "--yes", "--dry-run"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would write \d+ files to shop/);
    expect(r.stdout).toMatch(/create {2}immutable\.config\.json \(\d+ bytes\)/);
    expect(r.stdout).toMatch(/create {2}packer\/shop\.auto\.pkrvars\.hcl/);
    expect(treeSnapshot(cwd)).toEqual({});
  });

  it("--dry-run also refuses a non-empty target, as the real run would", async () => {
    mkdirSync(join(cwd, "shop"));
    writeFileSync(join(cwd, "shop", "README.md"), "mine\n");
    const r = await runCli(["shop", "--yes", "--dry-run"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/README\.md/);
  });

  it("--force reports every replaced file and keeps the others", async () => {
    mkdirSync(join(cwd, "shop"));
    writeFileSync(join(cwd, "shop", "README.md"), "mine\n");
    writeFileSync(join(cwd, "shop", "NOTES.md"), "keep\n");
    const r = await runCli(["shop", "--yes", "--force", "--no-install", "--no-git"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Replaced 1 existing file\(s\) \(--force\):\n {2}README\.md \(old contents kept as README\.md\.orig\)\n/);
    expect(readFileSync(join(cwd, "shop", "NOTES.md"), "utf8")).toBe("keep\n");
    expect(readFileSync(join(cwd, "shop", "README.md.orig"), "utf8")).toBe("mine\n");
    expect(readFileSync(join(cwd, "shop", "README.md"), "utf8")).toMatch(/^# shop\n/);
  });

  it("--force --dry-run names the backup it would make, and makes none", async () => {
    mkdirSync(join(cwd, "shop"));
    writeFileSync(join(cwd, "shop", "README.md"), "mine\n");
    writeFileSync(join(cwd, "shop", "README.md.orig"), "older\n");
    const before = treeSnapshot(cwd);
    const r = await runCli(["shop", "--yes", "--force", "--dry-run"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/replace README\.md \(\d+ bytes; old contents kept as README\.md\.orig\.1\)/);
    expect(treeSnapshot(cwd)).toEqual(before);
  });

  it.each([
    [["--bogus"], /--bogus: is not a known option/],
    [[], /--name: is required without a TTY/],
    [["Bad Name"], /--name: is required/],
    [["x", "--name", "a${b}"], /--name: "a\$\{b\}" must start with a lower-case letter/],
    [["x", "--name", "con"], /--name: "con" is a reserved device name/],
    [["x", "--port", "65536"], /--port: must be from 1 to 65535, got 65536/],
    [["x", "--min", "3", "--max", "2"], /--min: 3 is more than --max 2\n/],
    [["x", "--max", "1"], /invalid answers \(1 problem\):\n {2}- --max: 1 is less than the minimum, 2 \(the default of --min\)/],
    [["x", "--config", "API_KEY=abc"], /--config: looks like a secret \(the key API_KEY names a secret\)/],
    [["x", "--vpc-cidr", "10.0.0.0/8"], /--vpc-cidr: 10\.0\.0\.0\/8 is a \/8; use \/16 to \/23/],
    [["x", "--regoin", "eu-west-1"], /--regoin: is not a known option \(did you mean --region\?\)/],
    [["x", "--use-npm", "--use-yarn"], /--use-yarn: cannot be combined with --use-npm/],
    [["~/x", "--name", "x"], /\[dir\]: "~\/x" starts with ~/],
    [["x", "--config-file", "missing.json"], /--config-file missing\.json: does not exist/],
  ])("%j exits 2 naming the flag, with the disk untouched", async (argv, message) => {
    const before = treeSnapshot(cwd);
    const r = await runCli([...(argv as string[]), "--no-install", "--no-git"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/--help/);
    expect(treeSnapshot(cwd)).toEqual(before);
  });

  describe("answers file", () => {
    const write = (name: string, text: string | Buffer): string => {
      writeFileSync(join(cwd, name), text);
      return name;
    };

    it("reads answers from --config-file (and --config FILE), flags overriding it", async () => {
      write("answers.json", JSON.stringify({ appName: "from-file", region: "eu-west-1", appPort: 3000, tags: { team: "web" } }));
      const r = await runCli(["--config", "answers.json", "--port", "4000", "--no-install", "--no-git"], { cwd });
      expect(r.stderr).toBe("");
      const config = JSON.parse(readFileSync(join(cwd, "from-file", "immutable.config.json"), "utf8"));
      expect(config).toMatchObject({ appName: "from-file", region: "eu-west-1", appPort: 4000, tags: { team: "web" } });
    });

    it.each([
      ["not JSON", "{ appName: x }", /--config-file a\.json: is not valid JSON/],
      ["a list", "[1, 2]", /--config-file a\.json: must hold a JSON object .* got a list/],
      ["null", "null", /got null/],
      ["the wrong shape", JSON.stringify({ appName: 7, environments: "prod", colour: "red" }), /--config-file a\.json: colour: is not a known field[\s\S]*--config-file a\.json: appName: must be a string[\s\S]*environments: must be a list/],
      ["huge", Buffer.alloc(1024 * 1024 + 1, 0x20), /--config-file a\.json: is 1048577 bytes; an answers file may be at most 1048576 bytes/],
    ])("refuses a file that is %s, naming the flag, writing nothing", async (_what, contents, message) => {
      write("a.json", contents);
      const before = treeSnapshot(cwd);
      const r = await runCli(["app", "--config-file", "a.json", "--no-install", "--no-git"], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(treeSnapshot(cwd)).toEqual(before);
    });

    it("refuses a directory given as the answers file", async () => {
      mkdirSync(join(cwd, "dir.json"));
      const r = await runCli(["app", "--config-file", "dir.json"], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--config-file dir\.json: is not a regular file/);
    });
  });

  describe("after writing", () => {
    const calls: string[] = [];
    const fake = (fail: Record<string, boolean>): SpawnFn => async (command, args, options) => {
      calls.push(`${command} ${args.join(" ")} @${options.cwd}`);
      const key = `${command} ${args[0]}`;
      return fail[key] ? { code: 1, output: `${key} exploded` } : { code: 0, output: "" };
    };
    beforeEach(() => {
      calls.length = 0;
    });

    it("installs dependencies and makes the first commit", async () => {
      const r = await runCli(["shop", "--yes", "--install", "--git"], { cwd, spawn: fake({}) });
      expect(r.code).toBe(0);
      expect(calls).toEqual([
        `npm install @${join(cwd, "shop")}`,
        `git init -q @${join(cwd, "shop")}`,
        `git add -A @${join(cwd, "shop")}`,
        `git commit -q -m Initial commit from create-immutable-app @${join(cwd, "shop")}`,
      ]);
      expect(r.stdout).toMatch(/Installing dependencies \(npm install\)\.\.\.\nInstalling dependencies \(npm install\): finished in/);
      expect(r.stdout).not.toMatch(/^ {2}npm install/m);
    });

    it.each([
      ["pnpm/9.1.0 npm/? node/v20.11.0 linux x64", [], "pnpm install"],
      ["yarn/4.1.0 npm/? node/v20.11.0 linux x64", [], "yarn install"],
      ["bun/1.1.0 npm/? node/v20.11.0 linux x64", [], "bun install"],
      ["pnpm/9.1.0 npm/? node/v20.11.0 linux x64", ["--use-npm"], "npm install"],
      [undefined, ["--use-bun"], "bun install"],
    ])("installs with the package manager that ran it (%s), unless a flag chooses (%j)", async (userAgent, argv, install) => {
      const r = await runCli(["shop", "--yes", "--install", "--no-git", ...argv], { cwd, spawn: fake({}), env: { NO_COLOR: "1", npm_config_user_agent: userAgent } });
      expect(r.code).toBe(0);
      expect(calls).toEqual([`${install} @${join(cwd, "shop")}`]);
      expect(r.stdout).toContain(`Installing dependencies (${install}): finished in`);
    });

    it("keeps the files when npm install or git fails, and says how to finish by hand", async () => {
      const r = await runCli(["shop", "--yes", "--install", "--git"], { cwd, spawn: fake({ "npm install": true, "git commit": true }) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/npm install failed; the project files are complete[\s\S]*npm install exploded/);
      expect(r.stderr).toMatch(/git setup failed/);
      expect(r.stdout).toMatch(/To finish by hand:\n {2}cd shop\n {2}npm install\n {2}git commit/);
      expect(existsSync(join(cwd, "shop", "stacks", "web-tier-stack.ts"))).toBe(true);
    });
  });

  it("asks the questions on a TTY and writes the answers", async () => {
    const prompter = scriptedPrompter([
      "shop", "eu-west-1", "staging", "t3.micro", "1", "2", "3000", "/healthz", "", false, "", "new", "", "LOG_LEVEL=debug", "", "DB_PASSWORD", false, false,
    ]);
    const r = await runCli([], { cwd, prompter });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(cwd, "shop", "immutable.config.json"), "utf8"));
    expect(config).toMatchObject({
      appName: "shop", region: "eu-west-1", appPort: 3000, healthCheckPath: "/healthz", config: { LOG_LEVEL: "debug" },
      secrets: ["DB_PASSWORD"], environments: [{ name: "staging", instanceType: "t3.micro", minCapacity: 1, maxCapacity: 2 }],
    });
  });

  describe("the target, checked before the first question", () => {
    const busy = (): void => {
      mkdirSync(join(cwd, "shop"));
      writeFileSync(join(cwd, "shop", "notes.txt"), "mine\n");
    };

    it("when [dir] is given: not one question is asked", async () => {
      busy();
      const log: PromptLog[] = [];
      const before = treeSnapshot(cwd);
      const r = await runCli(["shop"], { cwd, prompter: scriptedPrompter([], log) });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^create-immutable-app: \[dir\]: .*shop is not empty; nothing was written\.\n {2}it contains: notes\.txt\n/);
      expect(log).toEqual([]);
      expect(treeSnapshot(cwd)).toEqual(before);
    });

    it("when the name is the directory: right after the name", async () => {
      busy();
      const log: PromptLog[] = [];
      const r = await runCli([], { cwd, prompter: scriptedPrompter(["shop"], log) });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/shop is not empty/);
      expect(log.map((q) => q.message)).toEqual([expect.stringMatching(/^App name/)]);
    });

    it.each([
      ["a file", () => writeFileSync(join(cwd, "shop"), "x\n"), /\[dir\]: .*shop exists and is not a directory/],
      ["a symlink", () => { mkdirSync(join(cwd, "real")); symlinkSync(join(cwd, "real"), join(cwd, "shop")); }, /\[dir\]: .*shop is a symbolic link/],
    ])("refuses %s before the questions", async (_what, make, message) => {
      make();
      const log: PromptLog[] = [];
      const r = await runCli(["shop"], { cwd, prompter: scriptedPrompter([], log) });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(log).toEqual([]);
    });

    it("refuses a read-only target before the questions, as a failure of the machine (exit 1)", async () => {
      mkdirSync(join(cwd, "shop"), { mode: 0o555 });
      try {
        const log: PromptLog[] = [];
        const r = await runCli(["shop"], { cwd, prompter: scriptedPrompter([], log) });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/shop is read-only \(mode 555\); nothing was written/);
        expect(log).toEqual([]);
      } finally {
        chmodSync(join(cwd, "shop"), 0o755);
      }
    });

    it("accepts a non-empty target with --force, and asks", async () => {
      busy();
      const log: PromptLog[] = [];
      const r = await runCli(["shop", "--force"], { cwd, prompter: scriptedPrompter([], log) });
      expect(r.stderr).toMatch(/unexpected prompt: App name/);
      expect(log.length).toBe(1);
    });
  });

  describe(". is the current directory", () => {
    it("names the app after it and writes into it", async () => {
      const dir = join(cwd, "shop-api");
      mkdirSync(dir);
      const r = await runCli([".", "--yes", "--no-install", "--no-git"], { cwd: dir });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name).toBe("shop-api");
      expect(r.stdout).toMatch(/^Created shop-api \(this directory\) \(\d+ files\):/);
      expect(existsSync(join(dir, "shop-api"))).toBe(false);
    });

    it("asks for --name, exit 2, when the directory's name is not a valid app name", async () => {
      const dir = join(cwd, "My Project");
      mkdirSync(dir);
      const r = await runCli([".", "--yes"], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^create-immutable-app: --name: is required: the name of "\.", "My Project", is not a valid app name \("My Project" must start with a lower-case letter/);
      expect(treeSnapshot(dir)).toEqual({});
    });

    it("offers the directory's name as the default answer on a TTY", async () => {
      const dir = join(cwd, "shop-api");
      mkdirSync(dir);
      const log: PromptLog[] = [];
      await runCli(["."], { cwd: dir, prompter: scriptedPrompter([], log) });
      expect(log[0]).toMatchObject({ message: expect.stringMatching(/^App name/), default: "shop-api" });
    });
  });

  it("exits 130 with nothing written when the user presses Ctrl-C at a prompt", async () => {
    const exit = Object.assign(new Error("User force closed the prompt"), { name: "ExitPromptError" });
    const prompter = { ...scriptedPrompter([]), input: async () => { throw exit; } };
    const r = await runCli([], { cwd, prompter });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Cancelled; nothing was written/);
    expect(treeSnapshot(cwd)).toEqual({});
  });
});
