/** The project's configuration is valid, and the validation refuses what it must. */
import { readFileSync } from "fs";
import { join } from "path";
import { CONFIG_FILE } from "../stacks/config";
import { checkConfig, resolveConfig } from "../stacks/config-validation";

const raw = JSON.parse(readFileSync(join(__dirname, "..", CONFIG_FILE), "utf8"));

describe(CONFIG_FILE, () => {
  it("is valid", () => {
    expect(checkConfig(raw)).toEqual([]);
  });

  it("names at least one environment, each with sane capacity", () => {
    const config = resolveConfig(raw);
    expect(config.environments.length).toBeGreaterThan(0);
    for (const env of config.environments) {
      expect(env.minCapacity).toBeLessThanOrEqual(env.maxCapacity);
    }
  });

  it("keeps secret values out of plain config", () => {
    const problems = checkConfig({ ...raw, config: { ...raw.config, DATABASE_PASSWORD: "hunter2" } });
    expect(problems.map((p) => p.field)).toContain("config.DATABASE_PASSWORD");
  });
});
