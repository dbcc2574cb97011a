/** The project's configuration is valid, and the validation refuses what it must (node:test: npm test). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CONFIG_FILE } from "../managed/config";
import { checkConfig, resolveConfig } from "../managed/config-validation";

const raw = JSON.parse(readFileSync(join(__dirname, "..", CONFIG_FILE), "utf8"));
const fields = (config: unknown): string[] => checkConfig(config).map((p) => p.field);

describe(CONFIG_FILE, () => {
  it("is valid", () => {
    assert.deepEqual(checkConfig(raw), []);
  });

  it("names distinct environments, each with a capacity the group can hold", () => {
    const config = resolveConfig(raw);
    const names = config.environments.map((env) => env.name);
    assert.ok(names.length > 0);
    assert.equal(new Set(names).size, names.length);
    for (const env of config.environments) {
      assert.ok(env.minCapacity >= 1, `${env.name}: minCapacity ${env.minCapacity}`);
      assert.ok(env.minCapacity <= env.desiredCapacity, `${env.name}: minCapacity above desiredCapacity`);
      assert.ok(env.desiredCapacity <= env.maxCapacity, `${env.name}: desiredCapacity above maxCapacity`);
    }
  });

  it("keeps secret values out of plain config, here and in every environment's overrides", () => {
    assert.ok(fields({ ...raw, config: { ...raw.config, DATABASE_PASSWORD: "hunter2" } }).includes("config.DATABASE_PASSWORD"));
    const environments = ((raw.environments ?? [{ name: "staging" }]) as Array<Record<string, unknown>>).map((env) => ({
      ...env,
      config: { API_TOKEN: "abc123" },
    }));
    assert.ok(fields({ ...raw, environments }).includes("environments[0].config.API_TOKEN"));
  });

  it("refuses port 22 for the app: there is no SSH", () => {
    assert.ok(fields({ ...raw, appPort: 22 }).includes("appPort"));
  });
});
