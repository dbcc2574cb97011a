/** The project's configuration is valid, and the validation refuses what it must. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_FILE } from "../managed/config";
import { checkConfig, resolveConfig } from "../managed/config-validation";

const raw = JSON.parse(readFileSync(join(__dirname, "..", CONFIG_FILE), "utf8"));
const fields = (config: unknown): string[] => checkConfig(config).map((p) => p.field);

describe(CONFIG_FILE, () => {
  it("is valid", () => {
    expect(checkConfig(raw)).toEqual([]);
  });

  it("names distinct environments, each with a capacity the group can hold", () => {
    const config = resolveConfig(raw);
    const names = config.environments.map((env) => env.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    for (const env of config.environments) {
      expect(env.minCapacity).toBeGreaterThanOrEqual(1);
      expect(env.minCapacity).toBeLessThanOrEqual(env.desiredCapacity);
      expect(env.desiredCapacity).toBeLessThanOrEqual(env.maxCapacity);
    }
  });

  it("keeps secret values out of plain config, here and in every environment's overrides", () => {
    expect(fields({ ...raw, config: { ...raw.config, DATABASE_PASSWORD: "hunter2" } })).toContain("config.DATABASE_PASSWORD");
    const environments = ((raw.environments ?? [{ name: "staging" }]) as Array<Record<string, unknown>>).map((env) => ({
      ...env,
      config: { API_TOKEN: "abc123" },
    }));
    expect(fields({ ...raw, environments })).toContain("environments[0].config.API_TOKEN");
  });

  it("refuses port 22 for the app: there is no SSH", () => {
    expect(fields({ ...raw, appPort: 22 })).toContain("appPort");
  });
});
