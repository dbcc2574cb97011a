/**
 * Interrupting the built CLI at every write step leaves either nothing or the complete project: the
 * process is SIGKILLed at named steps (CREATE_IMMUTABLE_APP_CRASH_AT), or paused there and sent
 * SIGINT. Nothing but our own temp directory may remain, and the next run removes it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./support/terraform";
import { BIN, ensureCliBuilt, runBin, treeSnapshot } from "./support/cli";

const ARGS = ["--yes", "--no-install", "--no-git"];

describe("interrupted scaffolding", () => {
  let reference: Record<string, string>;
  beforeAll(() => {
    ensureCliBuilt();
    const dir = tempDir("cia-crash-ref");
    const r = runBin(["app", ...ARGS], { cwd: dir });
    expect(r.status).toBe(0);
    reference = treeSnapshot(join(dir, "app"));
  });

  /** The invariant: no target at all, or exactly the complete project. */
  function expectNothingOrComplete(target: string): "nothing" | "complete" {
    const tree = treeSnapshot(target);
    if (Object.keys(tree).length === 0) return "nothing";
    expect(tree).toEqual(reference);
    return "complete";
  }

  const fileCount = (): number => Object.values(reference).filter((v) => v !== "dir").length;

  it.each([
    ["temp-created", "nothing"],
    ["file-written:1", "nothing"],
    ["file-written:half", "nothing"],
    ["files-written", "nothing"],
    ["moved", "complete"],
  ])("SIGKILL at %s leaves %s, and a rerun completes", (step, expected) => {
    const cwd = tempDir("cia-crash");
    const at = step === "file-written:half" ? `file-written:${Math.floor(fileCount() / 2)}` : step;
    const r = runBin(["app", ...ARGS], { cwd, env: { CREATE_IMMUTABLE_APP_CRASH_AT: at } });
    expect(r.signal).toBe("SIGKILL");
    expect(expectNothingOrComplete(join(cwd, "app"))).toBe(expected);
    expect(readdirSync(cwd).filter((n) => n !== "app" && !n.startsWith(".app.create-immutable-app-"))).toEqual([]);
    if (expected === "nothing") {
      const again = runBin(["app", ...ARGS], { cwd });
      expect(again.stderr).toBe("");
      expect(again.status).toBe(0);
      expect(expectNothingOrComplete(join(cwd, "app"))).toBe("complete");
      expect(readdirSync(cwd)).toEqual(["app"]);
    }
  });

  it("SIGKILL while filling an existing empty directory leaves it empty or complete", () => {
    const cwd = tempDir("cia-crash");
    mkdirSync(join(cwd, "app"));
    for (const step of ["file-written:3", "files-written"]) {
      const r = runBin(["app", ...ARGS], { cwd, env: { CREATE_IMMUTABLE_APP_CRASH_AT: step } });
      expect(r.signal).toBe("SIGKILL");
      expect(expectNothingOrComplete(join(cwd, "app"))).toBe("nothing");
    }
  });

  it("Ctrl-C (SIGINT) in the middle of writing finishes the project first, skips the install, says how to finish, exits 130", async () => {
    const cwd = tempDir("cia-crash");
    // Should the install run after all, it must not reach the registry: this npm fails at once.
    const bin = join(cwd, "..", `${Date.now()}-fake-bin`);
    mkdirSync(bin);
    writeFileSync(join(bin, "npm"), '#!/bin/sh\necho ran >> "$0.log"\nexit 3\n', { mode: 0o755 });
    const child = spawn(process.execPath, [BIN, "app", "--yes", "--install", "--no-git"], {
      cwd,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        npm_config_user_agent: "",
        CREATE_IMMUTABLE_APP_PAUSE_AT: "file-written:5",
        CREATE_IMMUTABLE_APP_PAUSE_MS: "2000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let sent = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && stderr.includes("paused at file-written:5")) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    // The signal arrives mid-write; it is handled once the write is complete, not lost.
    expect(code).toBe(130);
    expect(stderr).toMatch(
      /Interrupted \(SIGINT\) after the project was written completely\.\nThe project in app is complete; its dependencies are not installed\.\nTo finish: cd app && npm install\n$/,
    );
    expect(expectNothingOrComplete(join(cwd, "app"))).toBe("complete");
    expect(existsSync(join(bin, "npm.log"))).toBe(false);
  }, 90_000);

  it("SIGKILL at a random moment leaves nothing or everything", async () => {
    for (let i = 0; i < 4; i++) {
      const cwd = tempDir("cia-crash");
      const child = spawn(process.execPath, [BIN, "app", ...ARGS], { cwd, stdio: "ignore" });
      const closed = new Promise((resolve) => child.on("close", resolve));
      await new Promise((resolve) => setTimeout(resolve, 40 + Math.floor(Math.random() * 200)));
      child.kill("SIGKILL");
      await closed;
      expectNothingOrComplete(join(cwd, "app"));
    }
  });
});
