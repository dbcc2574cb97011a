/** The whole CLI in-process: exit codes, messages naming the flag, an untouched disk on bad input. */
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SpawnFn } from "../generators/post-steps";
import type { Prompter } from "../generators/prompter";
import { tempDir } from "./support/terraform";
import { ensureCliBuilt, packageSources, type PromptLog, runBin, runCli, scriptedPrompter, treeSnapshot } from "./support/cli";

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
    expect(JSON.parse(readFileSync(join(cwd, "shop", "package.json"), "utf8")).name).toBe("shop");
  });

  it("next steps: short, exactly the five commands, then README.md", async () => {
    const r = await runCli(["shop", "--yes", "--no-install", "--no-git", "--secret", "DB_PASSWORD"], { cwd });
    expect(r.stdout.slice(r.stdout.indexOf("Next steps:"))).toBe(
      [
        "Next steps:",
        "",
        "  cd shop",
        "  npm install                 # the install was skipped (--no-install)",
        "  npm run synth               # Terraform JSON for each environment in cdktf.out/stacks/<env>/",
        "  npm run image:build         # bake the AMI (needs AWS credentials and packer)",
        "  npm run deploy -- staging   # terraform apply, then the instance refresh; waits for it",
        "",
        "  README.md has the rest: config, secrets, rollback, CI, handing off to ops.",
        "",
      ].join("\n"),
    );
  });

  it.each([
    ["pnpm", ["pnpm install", "pnpm run synth", "pnpm run image:build", "pnpm run deploy qa"]],
    ["yarn", ["yarn install", "yarn run synth", "yarn run image:build", "yarn run deploy qa"]],
    ["bun", ["bun install", "bun run synth", "bun run image:build", "bun run deploy qa"]],
  ])("next steps in %s's syntax, for the first environment", async (pm, commands) => {
    const r = await runCli(["shop", "--yes", "--no-install", "--no-git", `--use-${pm}`, "--environments", "qa,prod"], { cwd });
    const lines = r.stdout
      .slice(r.stdout.indexOf("Next steps:"))
      .split("\n")
      .filter((l) => l.includes(" # "))
      .map((l) => l.split("#")[0].trim());
    expect(lines).toEqual(commands);
  });

  it("next steps: no install line once installed, no cd into the current directory", async () => {
    mkdirSync(join(cwd, "shop"));
    const ok: SpawnFn = async () => ({ code: 0, output: "" });
    const r = await runCli([".", "--yes", "--install", "--no-git"], { cwd: join(cwd, "shop"), spawn: ok });
    expect(r.code).toBe(0);
    const steps = r.stdout.slice(r.stdout.indexOf("Next steps:"));
    expect(steps).not.toMatch(/^ {2}cd /m);
    expect(steps).not.toMatch(/npm install/);
    expect(steps).toMatch(/^ {2}npm run synth {2,}# /m);
  });

  it("renders the workflows again from the edited config with the upgrade command the README's CI section gives (built bin)", async () => {
    expect((await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd })).code).toBe(0);
    const project = join(cwd, "shop");
    const ciPath = join(project, ".github", "workflows", "ci.yml");
    // As the README gives it: `create-immutable-app upgrade ...` (linked from a clone), or through npx.
    const command = /```sh\n((?:npx )?create-immutable-app upgrade[^\n]*)\n```/.exec(readFileSync(join(project, "README.md"), "utf8"))![1];
    const configPath = join(project, "immutable.config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    writeFileSync(
      configPath,
      `${JSON.stringify(
        {
          ...config,
          backend: { bucket: "shop-terraform-state" },
          environments: [
            ...config.environments.slice(0, 1),
            { name: "qa", amiSource: "resolve:ssm:/shop/image/qa/ami-id" },
            ...config.environments.slice(1),
          ],
        },
        null,
        2,
      )}\n`,
    );

    ensureCliBuilt();
    const words = command.split(" ");
    const r = runBin(words.slice(words.indexOf("create-immutable-app") + 1), { cwd: project });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const ci = readFileSync(ciPath, "utf8");
    expect(ci).toMatch(/deploy-qa:\n\s+needs: \[bake, deploy-staging\]/);
    expect(ci).toMatch(/deploy-production:\n\s+needs: \[bake, deploy-qa\]/);
    // qa takes its image from SSM: no --ami (the workflow's alarm override, "${extra[@]}", may follow).
    expect(ci).toMatch(/npm run deploy -- qa --auto-approve(?: "\$\{extra\[@\]\}")? 2>&1 \| tee deploy\.log/);
    expect(ci).toContain("Deploy qa (the image behind /shop/image/qa/ami-id)");
    expect(readFileSync(join(project, ".github", "workflows", "drift.yml"), "utf8")).toContain("drift-qa:");
    expect(readFileSync(join(project, "README.md"), "utf8")).not.toMatch(/has no `backend` yet/);
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
    expect(r.stdout).toMatch(
      /Replaced 1 existing file\(s\) \(--force\); 1 changed, their old contents kept:\n {2}README\.md \(old contents kept as README\.md\.orig\)\n/,
    );
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
    // One problem: the range. Not also "less than the minimum" (with a --min of 0 suggested, itself invalid).
    [["x", "--max", "0"], /invalid answers \(1 problem\):\n {2}- --max: must be from 1 to 1000, got 0\n(?!.*minimum)/s],
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
      [
        "the wrong shape",
        JSON.stringify({ appName: 7, environments: "prod", colour: "red" }),
        /--config-file a\.json: colour: is not a known field[\s\S]*--config-file a\.json: appName: must be a string[\s\S]*environments: must be a list/,
      ],
      [
        "huge",
        Buffer.alloc(1024 * 1024 + 1, 0x20),
        /--config-file a\.json: is 1048577 bytes; an answers file may be at most 1048576 bytes/,
      ],
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
    const fake =
      (fail: Record<string, boolean>): SpawnFn =>
      async (command, args, options) => {
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
      const r = await runCli(["shop", "--yes", "--install", "--no-git", ...argv], {
        cwd,
        spawn: fake({}),
        env: { NO_COLOR: "1", npm_config_user_agent: userAgent },
      });
      expect(r.code).toBe(0);
      expect(calls).toEqual([`${install} @${join(cwd, "shop")}`]);
      expect(r.stdout).toContain(`Installing dependencies (${install}): finished in`);
    });

    it("says which install failed and how to finish, in the project's package manager", async () => {
      const r = await runCli(["shop", "--yes", "--install", "--no-git", "--use-yarn"], { cwd, spawn: fake({ "yarn install": true }) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^\nyarn install failed; the project files are complete\. Output:\nyarn install exploded\n/);
      expect(r.stdout).toMatch(/To finish by hand:\n {2}cd shop\n {2}yarn install\n/);
      expect(r.stdout).toMatch(/^ {2}yarn install +# the install failed above$/m);
    });

    describe("Ctrl-C during the install", () => {
      /** A spawn that is interrupted while it runs: the signal arrives, the command stops when aborted. */
      const interruptible =
        (signals: { fire?: (s: string) => void }, stopped: string[]): SpawnFn =>
        (command, args, options) => {
          calls.push(`${command} ${args.join(" ")}`);
          return new Promise((resolve) => {
            options.signal?.addEventListener("abort", () => {
              stopped.push(command);
              resolve({ code: null, output: "" });
            });
            setImmediate(() => signals.fire!("SIGINT"));
          });
        };
      const deferSignals = (signals: { fire?: (s: string) => void }) => (onSignal: (s: string) => void) => {
        signals.fire = onSignal;
        return () => {
          signals.fire = undefined;
        };
      };

      it("stops it, says what is on disk and the one command that finishes, and exits 130", async () => {
        const signals: { fire?: (s: string) => void } = {};
        const stopped: string[] = [];
        const r = await runCli(["shop", "--yes", "--install", "--no-git", "--use-pnpm"], {
          cwd,
          spawn: interruptible(signals, stopped),
          deferSignals: deferSignals(signals),
        });
        expect(r.code).toBe(130);
        expect(stopped).toEqual(["pnpm"]);
        expect(r.stderr).toBe(
          [
            "",
            "Interrupted (SIGINT) during the install (pnpm install).",
            "The project in shop is complete; its dependencies are not installed.",
            "To finish: cd shop && pnpm install",
            "",
          ].join("\n"),
        );
        expect(r.stdout).toContain("Installing dependencies (pnpm install): interrupted after");
        expect(r.stdout).not.toMatch(/Next steps/);
        expect(existsSync(join(cwd, "shop", "stacks", "web-tier-stack.ts"))).toBe(true);
        expect(signals.fire).toBeUndefined();
      });

      it("skips git too and puts it into the same command", async () => {
        const signals: { fire?: (s: string) => void } = {};
        const r = await runCli(["shop", "--yes", "--install", "--git"], {
          cwd,
          spawn: interruptible(signals, []),
          deferSignals: deferSignals(signals),
        });
        expect(r.code).toBe(130);
        expect(calls).toEqual(["npm install"]);
        expect(r.stderr).toMatch(
          /The project in shop is complete; its dependencies are not installed; git is not set up\.\nTo finish: cd shop && npm install && git init -q && git add -A && git commit -q -m "Initial commit from create-immutable-app"\n$/,
        );
      });
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
      "shop",
      "eu-west-1",
      "staging",
      "t3.micro",
      "1",
      "2",
      "3000",
      "/healthz",
      "",
      false,
      "",
      "new",
      "",
      "LOG_LEVEL=debug",
      "",
      "DB_PASSWORD",
      "acme/shop",
      false,
      false,
      true,
    ]);
    const r = await runCli([], { cwd, prompter });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        "Summary",
        "  App name      shop, in eu-west-1",
        "  Environments  staging: t3.micro, 1 to 2 instances",
        "  App           port 3000, health check /healthz",
        "  Image         public.ecr.aws/nginx/nginx-unprivileged:alpine",
        "  HTTPS         no (plain HTTP)",
        "  Network       a new VPC, 10.0.0.0/16 over 2 zones",
        "  Config        LOG_LEVEL (SSM String parameters)",
        "  Secrets       DB_PASSWORD (names only; values are set out of band)",
        "  Then          nothing (no install, no git)",
        "",
        `Writes ${Object.values(treeSnapshot(join(cwd, "shop"))).filter((v) => v !== "dir").length} files to ${join(cwd, "shop")} (a new directory)`,
      ].join("\n"),
    );
    const config = JSON.parse(readFileSync(join(cwd, "shop", "immutable.config.json"), "utf8"));
    expect(config).toMatchObject({
      appName: "shop",
      region: "eu-west-1",
      appPort: 3000,
      healthCheckPath: "/healthz",
      config: { LOG_LEVEL: "debug" },
      secrets: ["DB_PASSWORD"],
      environments: [{ name: "staging", instanceType: "t3.micro", minCapacity: 1, maxCapacity: 2 }],
      github: { repository: "acme/shop" },
    });
  });

  describe("the summary to confirm", () => {
    /** Every question answered by its default: name from [dir], then install and git as given. */
    const defaults = (confirm: boolean, log: PromptLog[] = []) =>
      // "No" at the summary is followed by "Change an answer, or cancel?": cancel.
      scriptedPrompter(
        ["", "", "", "", "", "", "", "", "", false, "", "new", "", "", "", "", confirm, ...(confirm ? [] : ["cancel"])],
        log,
      );

    it("comes last, through the prompter, and says what goes where", async () => {
      const log: PromptLog[] = [];
      const spawn: SpawnFn = async () => ({ code: 0, output: "" });
      const r = await runCli(["shop", "--install", "--git", "--use-pnpm"], { cwd, prompter: defaults(true, log), spawn });
      expect(r.code).toBe(0);
      expect(log[log.length - 1]).toEqual({ kind: "confirm", message: "Create the project?", default: true });
      expect(r.stdout).toMatch(/^ {2}Environments {2}staging, production: t3\.small, 2 to 4 instances each$/m);
      expect(r.stdout).toMatch(/^ {2}Then {10}pnpm install; git init and a first commit$/m);
      expect(r.stdout.indexOf("Summary")).toBeLessThan(r.stdout.indexOf("Created shop"));
    });

    it("declining writes nothing and exits 130", async () => {
      const r = await runCli(["shop", "--no-install", "--no-git"], { cwd, prompter: defaults(false) });
      expect(r.code).toBe(130);
      expect(r.stderr).toBe("Nothing was written.\n");
      expect(r.stdout).toMatch(/Writes \d+ files to /);
      expect(r.stdout).not.toMatch(/Created/);
      expect(treeSnapshot(cwd)).toEqual({});
    });

    it("with --force, says that files are written beside the existing ones and how many are replaced", async () => {
      mkdirSync(join(cwd, "shop"));
      writeFileSync(join(cwd, "shop", "README.md"), "mine\n");
      const before = treeSnapshot(cwd);
      const r = await runCli(["shop", "--force", "--no-install", "--no-git"], { cwd, prompter: defaults(false) });
      expect(r.stdout).toMatch(
        new RegExp(
          `Writes \\d+ files to ${join(cwd, "shop")}, beside its files \\(--force\\): 1 replaced, old contents kept as <file>\\.orig`,
        ),
      );
      expect(treeSnapshot(cwd)).toEqual(before);
    });

    it("is not shown with --yes, nor without a TTY", async () => {
      const yes = await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd, prompter: scriptedPrompter([]) });
      expect(yes.code).toBe(0);
      expect(yes.stdout).not.toMatch(/Summary/);
      const noTty = await runCli(["other", "--no-install", "--no-git"], { cwd });
      expect(noTty.code).toBe(0);
      expect(noTty.stdout).not.toMatch(/Summary/);
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

    it("when the name is the directory: at the name prompt, which refuses it (to be asked again), nothing lost", async () => {
      busy();
      const before = treeSnapshot(cwd);
      const refusals: Array<true | string> = [];
      const prompter: Prompter = {
        ...scriptedPrompter([]),
        input: async (q) => {
          refusals.push(q.validate ? q.validate("shop") : true);
          throw Object.assign(new Error("stop"), { name: "ExitPromptError" });
        },
      };
      const r = await runCli([], { cwd, prompter });
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toMatch(/shop is not empty; nothing was written/);
      expect(r.code).toBe(130);
      expect(treeSnapshot(cwd)).toEqual(before);
    });

    it.each([
      ["a file", () => writeFileSync(join(cwd, "shop"), "x\n"), /\[dir\]: .*shop exists and is not a directory/],
      [
        "a symlink",
        () => {
          mkdirSync(join(cwd, "real"));
          symlinkSync(join(cwd, "real"), join(cwd, "shop"));
        },
        /\[dir\]: .*shop is a symbolic link/,
      ],
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
      expect(r.stderr).toMatch(
        /^create-immutable-app: --name: is required: the name of "\.", "My Project", is not a valid app name \("My Project" must start with a lower-case letter/,
      );
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
    const prompter = {
      ...scriptedPrompter([]),
      input: async () => {
        throw exit;
      },
    };
    const r = await runCli([], { cwd, prompter });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Cancelled; nothing was written/);
    expect(treeSnapshot(cwd)).toEqual({});
  });

  describe("colour", () => {
    const ESC = "\u001b[";

    it("none when the output is not a TTY", async () => {
      const r = await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd, env: {} });
      expect(r.stdout).not.toContain(ESC);
    });

    it("next-step commands cyan on a TTY, their comments still in one column", async () => {
      const r = await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd, env: { TERM: "xterm" }, stdoutIsTTY: true });
      expect(r.stdout).toContain(`${ESC}36mnpm run synth${ESC}39m`);
      const comments = r.stdout
        .split("\n")
        .filter((l) => l.includes("# "))
        .map((l) => l.replace(/\u001b\[\d+m/g, "").indexOf("#"));
      expect(new Set(comments).size).toBe(1);
    });

    it.each([
      ["NO_COLOR=1 on a TTY", { NO_COLOR: "1", TERM: "xterm" }, true, false],
      ["NO_COLOR= (empty) on a TTY", { NO_COLOR: "", TERM: "xterm" }, true, true],
      ["TERM=dumb on a TTY", { TERM: "dumb" }, true, false],
      ["FORCE_COLOR=1 without a TTY", { FORCE_COLOR: "1" }, false, true],
      ["FORCE_COLOR=0 on a TTY", { FORCE_COLOR: "0", TERM: "xterm" }, true, false],
      ["NO_COLOR=1 and FORCE_COLOR=1", { NO_COLOR: "1", FORCE_COLOR: "1" }, true, false],
    ])("%s", async (_what, env, tty, coloured) => {
      const r = await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd, env, stdoutIsTTY: tty });
      expect(r.stdout.includes(ESC)).toBe(coloured);
    });

    it("errors red on a terminal (stderr decides for itself)", async () => {
      const r = await runCli(["--bogus"], { cwd, env: { TERM: "xterm" }, stderrIsTTY: true });
      expect(r.stderr.startsWith(`${ESC}31mcreate-immutable-app: --bogus: is not a known option`)).toBe(true);
      expect(r.stderr).toContain(`${ESC}39m\nRun create-immutable-app --help`);
      const plain = await runCli(["--bogus"], { cwd, env: { TERM: "xterm" }, stderrIsTTY: false });
      expect(plain.stderr).not.toContain(ESC);
    });
  });
});
