/**
 * Issue 23, point 10: the generator's prompts and messages. Every message names its field as the flags
 * do; a refused answer is asked again (the prompter below retypes, as a user at inquirer's prompt does);
 * a repeated config key is refused; an emptied default comes back; --dockerfile asks no image; a folder
 * that is not empty, typed at the name prompt, is asked again; --min 0 is warned about; --force does
 * not list every unchanged file.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../generators/args";
import { resolveAnswers, validators } from "../generators/answers";
import type { ConfirmQuestion, InputQuestion, Prompter, SelectQuestion } from "../generators/prompter";
import { inquirerPrompter, type InquirerModule, pickChoices } from "../generators/prompter";
import { runCli } from "./support/cli";
import { tempDir } from "./support/terraform";

/**
 * Answers by question: `typed[fragment]` is what the user types, in turn, at the first question whose
 * message contains the fragment; a refused answer is shown (recorded) and the next one typed, as at a
 * real prompt. Every other question takes its default.
 */
function typingPrompter(typed: Record<string, string[]>, refused: string[] = [], asked: string[] = []): Prompter {
  const next = (message: string): string | undefined => {
    const key = Object.keys(typed).find((k) => message.includes(k) && typed[k].length > 0);
    return key === undefined ? undefined : typed[key].shift();
  };
  return {
    async input(q: InputQuestion) {
      asked.push(q.message);
      for (;;) {
        const value = next(q.message) ?? q.default ?? "";
        const valid = q.validate ? q.validate(value) : true;
        if (valid === true) return value;
        refused.push(valid);
        if (!Object.keys(typed).some((k) => q.message.includes(k) && typed[k].length > 0)) throw new Error(`no answer left: ${valid}`);
      }
    },
    async confirm(q: ConfirmQuestion) {
      asked.push(q.message);
      return q.default;
    },
    async select<T extends string>(q: SelectQuestion<T>) {
      asked.push(q.message);
      return (q.default ?? q.choices[0].value) as T;
    },
  };
}

describe("messages name their field as the flags do", () => {
  it.each([
    ["max under the min", validators.max(5), "3", "--max: 3 is less than your answer for --min, 5"],
    ["min not a number", validators.min, "x", "--min: type a whole number"],
    ["port", validators.port, "22", /^--port: /],
    ["region", validators.region, "eu-west-9", /^--region: /],
    ["name", validators.name, "Shop", /^--name: /],
    ["instance type", validators.instanceType, "t3", /^--instance-type: /],
  ])("%s", (_label, validate, value, message) => {
    const result = validate(value);
    expect(typeof result).toBe("string");
    if (typeof message === "string") expect(result).toBe(message);
    else expect(result).toMatch(message);
  });
});

describe("answers at the prompts", () => {
  it("a max under the min is refused with both named, and asked again", async () => {
    const refused: string[] = [];
    const a = await resolveAnswers({
      flags: parseArgs(["shop"]),
      interactive: true,
      prompter: typingPrompter({ "Minimum instances": ["5"], "Maximum instances": ["3", "6"] }, refused),
    });
    expect(refused).toEqual(["--max: 3 is less than your answer for --min, 5"]);
    expect([a.min, a.max]).toEqual([5, 6]);
  });

  it("a repeated config key is refused, as --config twice is; the first value stays", async () => {
    const refused: string[] = [];
    const a = await resolveAnswers({
      flags: parseArgs(["shop"]),
      interactive: true,
      prompter: typingPrompter({ "Config value": ["LOG_LEVEL=info", "LOG_LEVEL=debug", "MODE=fast", ""] }, refused),
    });
    expect(refused).toEqual(["--config: LOG_LEVEL is given more than once (it is LOG_LEVEL=info already)"]);
    expect(a.config).toEqual({ LOG_LEVEL: "info", MODE: "fast" });
  });

  it("--dockerfile: no question about a container image", async () => {
    const asked: string[] = [];
    await resolveAnswers({ flags: parseArgs(["shop", "--dockerfile"]), interactive: true, prompter: typingPrompter({}, [], asked) });
    expect(asked.some((m) => m.includes("Container image"))).toBe(false);
    expect(asked.some((m) => m.includes("Port"))).toBe(true);
  });

  it("an emptied default comes back: backspace on an empty line at inquirer's prompt, then Enter", async () => {
    // What @inquirer/input resolves after its default was cleared by backspace and Enter was pressed: "".
    const seen: string[] = [];
    const fake: InquirerModule = {
      input: async (config) => {
        seen.push(String(config.validate?.("")));
        return "";
      },
      confirm: async () => true,
      select: async <T>(c: { choices: ReadonlyArray<{ value: T }> }) => c.choices[0].value,
      search: async <T>(c: { default?: T }) => c.default as T,
    };
    const prompter = inquirerPrompter(fake);
    expect(await prompter.input({ message: "AWS region", default: "eu-west-1", validate: validators.region })).toBe("eu-west-1");
    expect(seen).toEqual(["true"]);
    // A question whose default is empty keeps an empty answer.
    expect(await prompter.input({ message: "ACM certificate ARN", default: "" })).toBe("");
  });

  it("a folder that is not empty, typed as the app name, is refused and asked again (nothing lost)", async () => {
    const cwd = tempDir("cia-prompt-dir");
    mkdirSync(join(cwd, "shop"));
    writeFileSync(join(cwd, "shop", "notes.txt"), "ours\n");
    const refused: string[] = [];
    const r = await runCli(["--no-install", "--no-git"], {
      cwd,
      prompter: { ...typingPrompter({ "App name": ["shop", "shop-two"] }, refused), confirm: async () => true },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/shop is not empty; nothing was written/);
    expect(r.stdout).toContain("Created shop-two");
  });
});

describe("pickers that still take typed values (region, instance type)", () => {
  const region = { message: "AWS region", choices: ["us-east-1", "eu-west-1", "eu-west-2"], default: "us-east-1" };
  it("list the suggestions that contain what is typed; a value none of them is comes first, as typed", () => {
    expect(pickChoices(region, undefined).map((c) => c.value)).toEqual(["us-east-1", "eu-west-1", "eu-west-2"]);
    expect(pickChoices(region, "eu-w").map((c) => c.name)).toEqual(["eu-w (as typed)", "eu-west-1", "eu-west-2"]);
    expect(pickChoices(region, "eu-west-2").map((c) => c.name)).toEqual(["eu-west-2"]);
    // A previous answer that is not a suggestion (a second round) is offered too.
    expect(pickChoices({ ...region, default: "il-central-1" }, "").map((c) => c.value)[0]).toBe("il-central-1");
  });

  it("go through inquirer's search prompt, validated as inputs are", async () => {
    const configs: Array<{ message: string; validate?: (v: string) => boolean | string }> = [];
    const fake = {
      input: async () => "",
      confirm: async () => true,
      select: async <T>(c: { choices: ReadonlyArray<{ value: T }> }) => c.choices[0].value,
      search: async <T>(c: { message: string; validate?: (v: T) => boolean | string; source: (t: string | undefined) => unknown }) => {
        configs.push(c as never);
        return "eu-west-9" as T;
      },
    } as InquirerModule;
    const answer = await inquirerPrompter(fake).pick!({ ...region, validate: validators.region });
    expect(answer).toBe("eu-west-9");
    expect(configs[0].validate?.("eu-west-9")).toMatch(/^--region: /);
  });
});

describe("no answer is thrown away (point 9)", () => {
  it("a public subnet given as private is refused as it is typed (the public ones are known), and asked again", async () => {
    const refused: string[] = [];
    const pub = "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb";
    const prompter = {
      ...typingPrompter(
        {
          "VPC id": ["vpc-0123456789abcdef0"],
          "Public subnet": [pub],
          "Private subnet": ["subnet-0aaaaaaaaaaaaaaaa,subnet-0cccccccccccccccc", "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd"],
        },
        refused,
      ),
      select: async <T extends string>() => "existing" as T,
    };
    const a = await resolveAnswers({ flags: parseArgs(["shop"]), interactive: true, prompter });
    expect(refused).toEqual(["--private-subnets: subnet-0aaaaaaaaaaaaaaaa is also a public subnet; instances belong in private subnets"]);
    expect(a.network).toMatchObject({ privateSubnetIds: ["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"] });
  });

  it("answers that fail together (a --max flag under the minimum typed) are shown and only those asked again", async () => {
    const cwd = tempDir("cia-reask");
    const asked: string[] = [];
    const prompter = {
      ...typingPrompter({ "Minimum instances": ["3"], "Maximum instances": ["5"], "AWS region": ["eu-west-1"] }, [], asked),
      confirm: async () => true,
    };
    const r = await runCli(["shop", "--max", "1", "--no-install", "--no-git"], { cwd, prompter });
    expect(r.stderr).toContain("--max: 1 is less than the minimum, 3 (your answer for --min)");
    expect(r.stderr).toContain("Those questions again (your other answers are kept):");
    expect(r.code).toBe(0);
    expect(asked.filter((m) => m.startsWith("AWS region"))).toHaveLength(1);
    expect(asked.filter((m) => m.startsWith("Maximum instances"))).toHaveLength(1);
    const config = JSON.parse(readFileSync(join(cwd, "shop", "immutable.config.json"), "utf8"));
    expect(config.region).toBe("eu-west-1");
    expect(config.environments.map((e: { minCapacity: number; maxCapacity: number }) => [e.minCapacity, e.maxCapacity])).toEqual([
      [3, 5],
      [3, 5],
    ]);
  });

  it("the summary lets the user change any answer before writing; the others are kept", async () => {
    const cwd = tempDir("cia-change");
    const asked: string[] = [];
    const confirms = [false, true];
    const prompter: Prompter = {
      ...typingPrompter({ "AWS region": ["eu-west-1", "eu-central-1"], Environments: ["qa,live"] }, [], asked),
      confirm: async (q) => (q.message.startsWith("Create the project") ? confirms.shift()! : q.default),
      select: async <T extends string>(q: SelectQuestion<T>) => (q.message.startsWith("Change an answer") ? "region" : q.default!) as T,
    };
    const r = await runCli(["shop", "--no-install", "--no-git"], { cwd, prompter });
    expect(r.code).toBe(0);
    expect(asked.filter((m) => m.startsWith("AWS region"))).toHaveLength(2);
    expect(asked.filter((m) => m.startsWith("Environments"))).toHaveLength(1);
    expect((r.stdout.match(/Summary/g) ?? []).length).toBe(2);
    const config = JSON.parse(readFileSync(join(cwd, "shop", "immutable.config.json"), "utf8"));
    expect(config.region).toBe("eu-central-1");
    expect(config.environments.map((e: { name: string }) => e.name)).toEqual(["qa", "live"]);
  });
});

describe("risky but legal values, and quiet output", () => {
  it("--min 0: the project is written, with a warning naming --min", async () => {
    const r = await runCli(["shop", "--yes", "--no-install", "--no-git", "--min", "0"], { cwd: tempDir("cia-min0") });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: --min: staging keeps no instance running at its minimum (0)");
    expect(r.stderr).toContain("warning: --min: production keeps no instance running at its minimum (0)");
    const quiet = await runCli(["shop", "--yes", "--no-install", "--no-git"], { cwd: tempDir("cia-min-default") });
    expect(quiet.stderr).toBe("");
  });

  it("--force over the same project counts the unchanged files instead of listing each", async () => {
    const cwd = tempDir("cia-force-quiet");
    const argv = ["shop", "--yes", "--no-install", "--no-git"];
    expect((await runCli(argv, { cwd })).code).toBe(0);
    chmodSync(join(cwd, "shop", "main.ts"), 0o444);
    const again = await runCli([...argv, "--force"], { cwd });
    expect(again.code).toBe(0);
    // A replaced file keeps its mode, and the run says so.
    expect(again.stdout).toContain("  main.ts: mode 444 kept (read-only)\n");
    expect(statSync(join(cwd, "shop", "main.ts")).mode & 0o777).toBe(0o444);
    expect(again.stdout).toMatch(/Replaced (\d+) existing file\(s\) \(--force\):\n {2}\1 unchanged \(the same contents as before\)\n/);
    expect(again.stdout).not.toContain("(unchanged)");
  });
});
