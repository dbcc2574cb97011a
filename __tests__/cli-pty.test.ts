/**
 * The real prompts (@inquirer/prompts, loaded by bin/) driven through a pseudo-terminal: answers are
 * typed, a bad answer is refused as it is typed, and the project is written from the answers.
 */
import { spawnSync } from "child_process";
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { tempDir } from "./support/terraform";
import { BIN, ensureCliBuilt, treeSnapshot } from "./support/cli";

const ENTER = "\r";
const DOWN = "\u001b[B";
const BACKSPACE = "\u007f";

function drive(cwd: string, script: Array<[string, string]>, args: string[]): { status: number | null; transcript: string } {
  const file = join(cwd, "..", `${Date.now()}-script.json`);
  writeFileSync(file, JSON.stringify(script));
  const r = spawnSync("python3", [join(__dirname, "support", "cli-pty.py"), file, "--", process.execPath, BIN, ...args], {
    cwd, encoding: "utf8", timeout: 90_000, env: { ...process.env, TERM: "xterm", CI: "" },
  });
  return { status: r.status, transcript: r.stdout + r.stderr };
}

describe("interactive run in a pseudo-terminal", () => {
  beforeAll(() => ensureCliBuilt());

  it("asks every question, validates as the user types, and writes the answers", () => {
    const cwd = tempDir("cia-pty");
    const { status, transcript } = drive(cwd, [
      ["App name", ENTER],
      ["AWS region", "eu-west-1" + ENTER],
      ["Environments", ENTER],
      ["Instance type", "t3.micro" + ENTER],
      ["Minimum instances", BACKSPACE + "1" + ENTER],
      ["Maximum instances", BACKSPACE + "3" + ENTER],
      ["Port the app listens on", BACKSPACE.repeat(4) + "22" + ENTER],
      ["22 is the SSH port", BACKSPACE.repeat(2) + "3000" + ENTER],
      ["Health-check path", ENTER],
      ["Container image", ENTER],
      ["Dockerfile", "y" + ENTER],
      ["ACM certificate", ENTER],
      ["Network", DOWN + ENTER],
      ["VPC id", "vpc-0123456789abcdef0" + ENTER],
      ["Public subnet ids", "subnet-00000001,subnet-00000002" + ENTER],
      ["Private subnet ids", "subnet-00000003,subnet-00000004" + ENTER],
      ["Config value", "LOG_LEVEL=debug" + ENTER],
      ["Config value", ENTER],
      ["Secret names", "DB_PASSWORD" + ENTER],
    ], ["shop", "--no-install", "--no-git"]);
    expect(transcript).toMatch(/Created shop/);
    expect(status).toBe(0);
    const config = JSON.parse(readFileSync(join(cwd, "shop", "immutable.config.json"), "utf8"));
    expect(config).toMatchObject({
      appName: "shop", region: "eu-west-1", appPort: 3000,
      network: { mode: "existing", vpcId: "vpc-0123456789abcdef0", publicSubnetIds: ["subnet-00000001", "subnet-00000002"] },
      config: { LOG_LEVEL: "debug" }, secrets: ["DB_PASSWORD"],
      environments: [{ name: "staging", instanceType: "t3.micro", minCapacity: 1, maxCapacity: 3 }, { name: "production", instanceType: "t3.micro", minCapacity: 1, maxCapacity: 3 }],
    });
    expect(treeSnapshot(join(cwd, "shop"))).toHaveProperty("Dockerfile");
  });

  it("Ctrl-C at a prompt exits 130 and writes nothing", () => {
    const cwd = tempDir("cia-pty");
    const { status, transcript } = drive(cwd, [["App name", ENTER], ["AWS region", "\u0003"]], ["shop"]);
    expect(transcript).toMatch(/Cancelled; nothing was written/);
    expect(status).toBe(130);
    expect(treeSnapshot(cwd)).toEqual({});
  });
});
