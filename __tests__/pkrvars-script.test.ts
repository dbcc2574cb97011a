/** `npm run image:build` first rewrites the Packer variables from immutable.config.json. */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderPkrVars } from "../managed/hcl";
import { packerVarsOf } from "../managed/packer-vars";
import { resolveConfig } from "../managed/config-validation";
import { exampleConfig, exampleConfigJson, REPO_ROOT } from "./support/synth";
import { tempDir } from "./support/terraform";

function runScript(cwd: string) {
  // tsx resolved from this repository, as a project resolves it from its own node_modules.
  const tsx = require.resolve("tsx", { paths: [REPO_ROOT] });
  return spawnSync(process.execPath, ["--import", tsx, join(REPO_ROOT, "managed", "pkrvars.ts")], { cwd, encoding: "utf8" });
}

describe("managed/pkrvars.ts", () => {
  it("writes the pkrvars file from the config, replacing a stale one", () => {
    const dir = tempDir("pkrvars");
    mkdirSync(join(dir, "packer"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "demo-app", version: "1.2.3" }));
    writeFileSync(join(dir, "immutable.config.json"), JSON.stringify({ ...exampleConfigJson(), appPort: 3000 }));
    writeFileSync(join(dir, "packer", "demo-app.auto.pkrvars.hcl"), "app_port = 8080\n");
    const result = runScript(dir);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const written = readFileSync(join(dir, "packer", "demo-app.auto.pkrvars.hcl"), "utf8");
    expect(written).toBe(renderPkrVars(packerVarsOf({ ...exampleConfig(), appPort: 3000 }, "1.2.3")));
    expect(written).toMatch(/^app_port += 3000$/m);
    expect(written).toMatch(/^architecture += "x86_64"$/m);
  });

  it("passes the build subnet on only when one is set", () => {
    const config = exampleConfig();
    expect(packerVarsOf(config, "1").subnet_id).toBeUndefined();
    const withSubnet = resolveConfig({ ...exampleConfigJson(), image: { buildSubnetId: "subnet-0123456789abcdef0" } });
    expect(renderPkrVars(packerVarsOf(withSubnet, "1"))).toMatch(/^subnet_id += "subnet-0123456789abcdef0"$/m);
  });

  it("refuses a bad config with exit 2 and leaves the file alone", () => {
    const dir = tempDir("pkrvars-bad");
    mkdirSync(join(dir, "packer"));
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(join(dir, "immutable.config.json"), JSON.stringify({ appName: "demo-app", appPort: 0 }));
    writeFileSync(join(dir, "packer", "demo-app.auto.pkrvars.hcl"), "keep\n");
    const result = runScript(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("appPort: must be from 1 to 65535");
    expect(readFileSync(join(dir, "packer", "demo-app.auto.pkrvars.hcl"), "utf8")).toBe("keep\n");
  });
});
