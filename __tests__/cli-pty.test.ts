/**
 * The real prompts (@inquirer/prompts, loaded by bin/) driven through a pseudo-terminal: answers are
 * typed, a bad answer is refused as it is typed, the target is checked before the questions, the
 * answers are summed up to confirm, and Ctrl-C (a real terminal interrupt) is handled at a prompt
 * and during the install.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./support/terraform";
import { BIN, ensureCliBuilt, treeSnapshot } from "./support/cli";

const ENTER = "\r";
const DOWN = "\u001b[B";
const BACKSPACE = "\u007f";

const CTRL_C = "\u0003";

function drive(
  cwd: string,
  script: Array<[string, string]>,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; transcript: string } {
  const file = join(cwd, "..", `${Date.now()}-script.json`);
  writeFileSync(file, JSON.stringify(script));
  const r = spawnSync("python3", [join(__dirname, "support", "cli-pty.py"), file, "--", process.execPath, BIN, ...args], {
    cwd,
    encoding: "utf8",
    timeout: 90_000,
    env: { ...process.env, TERM: "xterm", CI: "", npm_config_user_agent: "", ...env },
  });
  // The terminal ends lines with CR LF.
  return { status: r.status, transcript: (r.stdout + r.stderr).replace(/\r\n/g, "\n") };
}

/** Every question after the name, answered with its default (Enter); the run has --no-install --no-git. */
const DEFAULTS_AFTER_NAME: Array<[string, string]> = [
  "AWS region",
  "Environments",
  "Instance type",
  "Minimum instances",
  "Maximum instances",
  "Port the app listens on",
  "Health-check path",
  "Container image",
  "Dockerfile",
  "ACM certificate",
  "Network",
  "VPC CIDR",
  "Config value",
  "Secret names",
  "GitHub repository",
].map((question) => [question, ENTER]);

describe("interactive run in a pseudo-terminal", () => {
  beforeAll(() => ensureCliBuilt());

  it("asks every question, validates as the user types, and writes the answers", () => {
    const cwd = tempDir("cia-pty");
    const { status, transcript } = drive(
      cwd,
      [
        ["App name", ENTER],
        // Region and instance type are pickers that take typed values: type, wait for the list to follow, Enter.
        ["AWS region", "eu-west-1"],
        ["❯ eu-west-1", ENTER],
        ["Environments", ENTER],
        ["Instance type", "t3.micro"],
        ["❯ t3.micro \\(as typed\\)", ENTER],
        ["Minimum instances", `${BACKSPACE}1${ENTER}`],
        ["Maximum instances", `${BACKSPACE}3${ENTER}`],
        ["Port the app listens on", `${BACKSPACE.repeat(4)}22${ENTER}`],
        ["22 is the SSH port", `${BACKSPACE.repeat(2)}3000${ENTER}`],
        ["Health-check path", ENTER],
        ["Container image", ENTER],
        ["Dockerfile", `y${ENTER}`],
        ["ACM certificate", ENTER],
        ["Network", DOWN + ENTER],
        ["VPC id", `vpc-0123456789abcdef0${ENTER}`],
        ["Public subnet ids", `subnet-00000001,subnet-00000002${ENTER}`],
        ["Private subnet ids", `subnet-00000003,subnet-00000004${ENTER}`],
        ["Config value", `LOG_LEVEL=debug${ENTER}`],
        ["Config value", ENTER],
        ["Secret names", `DB_PASSWORD${ENTER}`],
        ["GitHub repository", `acme/shop${ENTER}`],
        ["Create the project\\? \\(Y/n\\)", ENTER],
      ],
      ["shop", "--no-install", "--no-git"],
    );
    expect(transcript).toMatch(/Summary\n {2}App name {6}shop, in eu-west-1\n/);
    expect(transcript).toMatch(/Created shop/);
    expect(status).toBe(0);
    const config = JSON.parse(readFileSync(join(cwd, "shop", "immutable.config.json"), "utf8"));
    expect(config).toMatchObject({
      appName: "shop",
      region: "eu-west-1",
      appPort: 3000,
      network: { mode: "existing", vpcId: "vpc-0123456789abcdef0", publicSubnetIds: ["subnet-00000001", "subnet-00000002"] },
      config: { LOG_LEVEL: "debug" },
      secrets: ["DB_PASSWORD"],
      github: { repository: "acme/shop" },
      environments: [
        { name: "staging", instanceType: "t3.micro", minCapacity: 1, maxCapacity: 3 },
        { name: "production", instanceType: "t3.micro", minCapacity: 1, maxCapacity: 3 },
      ],
    });
    expect(treeSnapshot(join(cwd, "shop"))).toHaveProperty("Dockerfile");
  });

  it("Ctrl-C at a prompt exits 130 and writes nothing", () => {
    const cwd = tempDir("cia-pty");
    const { status, transcript } = drive(
      cwd,
      [
        ["App name", ENTER],
        ["AWS region", "\u0003"],
      ],
      ["shop"],
    );
    expect(transcript).toMatch(/Cancelled; nothing was written/);
    expect(status).toBe(130);
    expect(treeSnapshot(cwd)).toEqual({});
  });

  describe("the target, before the first question", () => {
    const busy = (cwd: string): void => {
      mkdirSync(join(cwd, "shop"));
      writeFileSync(join(cwd, "shop", "notes.txt"), "mine\n");
    };

    it("[dir] given: refused before any question, exit 2", () => {
      const cwd = tempDir("cia-pty");
      busy(cwd);
      const before = treeSnapshot(cwd);
      const { status, transcript } = drive(cwd, [["is not empty", ""]], ["shop"]);
      expect(transcript).toMatch(/\[dir\]: .*shop is not empty; nothing was written\.[\s\S]*it contains: notes\.txt/);
      expect(transcript).not.toMatch(/App name/);
      expect(status).toBe(2);
      expect(treeSnapshot(cwd)).toEqual(before);
    });

    it("no [dir]: a folder that is not empty, typed as the name, is refused at the prompt and asked again (issue 23)", () => {
      const cwd = tempDir("cia-pty");
      busy(cwd);
      const before = treeSnapshot(join(cwd, "shop"));
      const { status, transcript } = drive(
        cwd,
        [
          ["App name", `shop${ENTER}`],
          // inquirer keeps the refused text on the line: erase it, then type another name.
          ["is not empty", `${BACKSPACE.repeat(4)}shop-two${ENTER}`],
          ...DEFAULTS_AFTER_NAME,
          ["Create the project", ENTER],
        ],
        ["--no-install", "--no-git"],
      );
      expect(transcript).toMatch(/shop is not empty; nothing was written/);
      expect(transcript).toMatch(/AWS region/);
      expect(status).toBe(0);
      expect(treeSnapshot(join(cwd, "shop"))).toEqual(before);
      expect(existsSync(join(cwd, "shop-two", "immutable.config.json"))).toBe(true);
    });
  });

  it("an emptied default comes back: backspace on the empty region line, then Enter, answers the default (issue 23)", () => {
    const cwd = tempDir("cia-pty");
    const { status, transcript } = drive(
      cwd,
      [["App name", ENTER], ["AWS region", `${BACKSPACE}${ENTER}`], ...DEFAULTS_AFTER_NAME.slice(1), ["Create the project", ENTER]],
      ["shop", "--no-install", "--no-git"],
    );
    expect(transcript).toMatch(/App name {6}shop, in us-east-1\n/);
    expect(status).toBe(0);
  });

  describe("the summary to confirm", () => {
    it("shows the answers, where and how many files; Enter creates the project", () => {
      const cwd = tempDir("cia-pty");
      const { status, transcript } = drive(
        cwd,
        [["App name", ENTER], ...DEFAULTS_AFTER_NAME, ["Create the project", ENTER]],
        ["shop", "--no-install", "--no-git"],
      );
      expect(transcript).toMatch(
        /Summary\n {2}App name {6}shop, in us-east-1\n {2}Environments {2}staging, production: t3\.small, 2 to 4 instances each\n/,
      );
      expect(transcript).toMatch(new RegExp(`Writes (\\d+) files to ${join(cwd, "shop")} \\(a new directory\\)`));
      const count = Number(/Writes (\d+) files/.exec(transcript)![1]);
      expect(status).toBe(0);
      expect(Object.values(treeSnapshot(join(cwd, "shop"))).filter((v) => v !== "dir")).toHaveLength(count);
    });

    it("answering no writes nothing and exits 130", () => {
      const cwd = tempDir("cia-pty");
      const { status, transcript } = drive(
        cwd,
        [["App name", ENTER], ...DEFAULTS_AFTER_NAME, ["Create the project", `n${ENTER}`], ["Change an answer, or cancel", ENTER]],
        ["shop", "--no-install", "--no-git"],
      );
      expect(transcript).toMatch(/Nothing was written\./);
      expect(transcript).not.toMatch(/Created shop/);
      expect(status).toBe(130);
      expect(treeSnapshot(cwd)).toEqual({});
    });

    it("Ctrl-C at the confirmation writes nothing and exits 130", () => {
      const cwd = tempDir("cia-pty");
      const { status, transcript } = drive(
        cwd,
        [["App name", ENTER], ...DEFAULTS_AFTER_NAME, ["Create the project", CTRL_C]],
        ["shop", "--no-install", "--no-git"],
      );
      expect(transcript).toMatch(/Cancelled; nothing was written/);
      expect(status).toBe(130);
      expect(treeSnapshot(cwd)).toEqual({});
    });
  });

  it("Ctrl-C during the install: the project is complete, the install is not, one command finishes; exit 130", () => {
    const cwd = tempDir("cia-pty");
    // A package manager that takes its time: the pnpm the user agent names, first on PATH.
    const bin = join(cwd, "..", `${Date.now()}-fake-bin`);
    mkdirSync(bin);
    const log = join(bin, "pnpm.log");
    // Ctrl-C on the terminal reaches it too: it ignores SIGINT (so that its log is written however early
    // the key comes) and is stopped by the CLI's SIGTERM, as a real install that outlives the key would be.
    writeFileSync(join(bin, "pnpm"), `#!/bin/sh\ntrap '' INT\necho "$@" >> '${log}'\nexec sleep 60\n`);
    chmodSync(join(bin, "pnpm"), 0o755);
    const { status, transcript } = drive(
      cwd,
      [["Installing dependencies \\(pnpm install\\)", CTRL_C]],
      ["shop", "--yes", "--install", "--no-git"],
      {
        PATH: `${bin}:${process.env.PATH}`,
        npm_config_user_agent: "pnpm/9.1.0 npm/? node/v20.11.0 linux x64",
      },
    );
    expect(transcript).toMatch(/Installing dependencies \(pnpm install\): interrupted after \d+s/);
    expect(transcript).toMatch(
      /Interrupted \(SIGINT\) during the install \(pnpm install\)\.\nThe project in shop is complete; its dependencies are not installed\.\nTo finish: cd shop && pnpm install\n/,
    );
    expect(transcript).not.toMatch(/Next steps/);
    expect(status).toBe(130);
    expect(readFileSync(log, "utf8")).toBe("install\n");
    expect(existsSync(join(cwd, "shop", "stacks", "web-tier-stack.ts"))).toBe(true);
    expect(existsSync(join(cwd, "shop", "node_modules"))).toBe(false);
  });
});
