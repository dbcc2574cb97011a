/** `npm run synth` as a user runs it: the app process, without type-checking, on the example config. */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./support/synth";
import { tempDir } from "./support/terraform";

function synth(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ["--import", "tsx", "main.ts"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
}

describe("main.ts", () => {
  it("synthesizes every environment of the config into the output directory", () => {
    const out = tempDir("main-synth");
    const result = synth({ CDKTF_OUTDIR: out });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Synthesized staging, production");
    for (const env of ["staging", "production"]) {
      const json = JSON.parse(readFileSync(join(out, "stacks", env, "cdk.tf.json"), "utf8"));
      expect(json.resource.aws_autoscaling_group.fleet_asg.name).toBe(`demo-app-${env}`);
    }
  });

  it("loads provider classes by deep import only (the barrel costs seconds and a gigabyte)", () => {
    const out = tempDir("main-modules");
    const probe = join(out, "probe.cjs");
    // Lists every module file of @cdktf/provider-aws that the synth process loaded.
    writeFileSync(
      probe,
      `process.on("exit", () => { const m = Object.keys(require.cache).filter((k) => k.includes("@cdktf/provider-aws/lib/")); require("fs").writeFileSync(${JSON.stringify(join(out, "modules.json"))}, JSON.stringify(m)); });`,
    );
    const result = spawnSync(process.execPath, ["--require", probe, "--import", "tsx", "main.ts"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, CDKTF_OUTDIR: join(out, "o") },
    });
    expect(result.status).toBe(0);
    const loaded: string[] = JSON.parse(readFileSync(join(out, "modules.json"), "utf8"));
    expect(loaded.length).toBeGreaterThan(10);
    expect(loaded.length).toBeLessThan(60);
    expect(loaded.some((m) => /@cdktf\/provider-aws\/lib\/index\.js$/.test(m))).toBe(false);
  });

  it("exits 2 with every problem named, and writes nothing, for a bad config", () => {
    const dir = tempDir("main-bad");
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ appName: "Shop", appPort: 0 }));
    const result = synth({ IMMUTABLE_CONFIG: join(dir, "bad.json"), CDKTF_OUTDIR: join(dir, "out") });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("invalid configuration (2 problems)");
    expect(result.stderr).toMatch(/appName: .*lower-case/);
    expect(result.stderr).toMatch(/appPort: must be from 1 to 65535/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
