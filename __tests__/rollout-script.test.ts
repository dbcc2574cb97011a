/**
 * managed/rollout.sh's own checks, before it calls AWS: bad usage exits 2 naming the option, and a
 * folder without an applied stack exits 1 saying so (terraform output prints a warning and exits 0
 * there, which must not be taken for values). The AWS side is in lifecycle-emulated.test.ts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./support/synth";
import { tempDir } from "./support/terraform";

const rollout = (args: string[], cwd = REPO_ROOT) =>
  spawnSync("bash", [join(REPO_ROOT, "managed", "rollout.sh"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GITHUB_ACTIONS: "", TF_CLI_CONFIG_FILE: "/dev/null" },
  });

describe("rollout.sh", () => {
  it.each([
    [["--timeout", "soon"], "--timeout needs a number of seconds"],
    [["--poll"], "--poll needs a number of seconds"],
    [["--frobnicate"], "unknown argument --frobnicate"],
    [["--dir", "/nonexistent/folder"], "--dir /nonexistent/folder is not a folder"],
  ])("%j exits 2: %s", (args, message) => {
    const result = rollout(args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("refuses a folder where no stack was applied, before any AWS call", () => {
    const result = rollout(["--dir", tempDir("rollout-empty")]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /terraform output asg_name in .* is not what an apply of the stack writes: run terraform init and apply there first/,
    );
  });

  it("prints its usage with --help", () => {
    const result = rollout(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("rollout.sh [--dir DIR]");
  });
});
