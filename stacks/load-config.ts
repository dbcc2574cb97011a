import { readFileSync } from "fs";
import { AppConfig, CONFIG_FILE } from "./config";
import { resolveConfig } from "./config-validation";

/** Reads and validates the project's configuration file. */
export function loadConfig(file: string = CONFIG_FILE): AppConfig {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return resolveConfig(parsed);
}
