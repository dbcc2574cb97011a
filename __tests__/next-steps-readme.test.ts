/**
 * The next steps the CLI prints and the generated README.md say the same thing: every command line of
 * the next steps (the part before `#`) is a line of the README, in the project's package manager's
 * syntax. `cd <dir>` is left out: the README lives inside that directory.
 */
import { parseArgs } from "../generators/args";
import { resolveAnswers } from "../generators/answers";
import { palette } from "../generators/colour";
import { buildModel } from "../generators/model";
import { renderProject } from "../generators/render";
import { nextSteps } from "../generators/summary";
import { literal } from "./support/safety";
import { packageSources } from "./support/cli";

async function project(argv: string[], file?: Record<string, unknown>): Promise<{ readme: string; commands: string[] }> {
  const answers = await resolveAnswers({
    flags: parseArgs(["shop", "--yes", "--no-install", "--no-git", ...argv]),
    interactive: false,
    file: file ? { flag: "--config-file", path: "answers.json", value: file } : undefined,
  });
  const model = buildModel(answers, "/tmp");
  const readme = renderProject(model, packageSources()).get("README.md")!.contents.toString();
  // Not installed: the install line is listed too.
  const steps = nextSteps(packageSources(), model, "shop", false, palette(false));
  const commands = steps
    .split("\n")
    .filter((line) => /^ {2}\S/.test(line) && !line.includes("README.md"))
    .map((line) => line.split("#")[0].trim())
    .filter((command) => !command.startsWith("cd "));
  return { readme, commands };
}

describe("README.md carries the next steps' commands", () => {
  it.each([
    ["npm", []],
    ["pnpm", ["--use-pnpm"]],
    ["yarn", ["--use-yarn"]],
    ["bun", ["--use-bun"]],
  ])("%s: each command of the next steps is a line of README.md", async (_pm, argv) => {
    const { readme, commands } = await project(argv);
    expect(commands).toHaveLength(4);
    const missing = commands.filter((command) => !new RegExp(`^${literal(command)}( +#.*)?$`, "m").test(readme));
    expect(missing).toEqual([]);
  });

  it("an image from an SSM parameter too (same commands)", async () => {
    const { readme, commands } = await project([], {
      environments: [
        { name: "staging", amiSource: "resolve:ssm:/shop/image/staging/ami-id" },
        { name: "production", amiSource: "resolve:ssm:/shop/image/production/ami-id" },
      ],
    });
    const missing = commands.filter((command) => !new RegExp(`^${literal(command)}( +#.*)?$`, "m").test(readme));
    expect(missing).toEqual([]);
  });
});
