import { readFileSync } from "node:fs";
import { type AppConfig, CONFIG_FILE } from "./config";
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

/**
 * For entry points (main.ts, managed/export.ts, managed/pkrvars.ts): the validated configuration, or undefined after reporting why
 * not. A configuration problem is the user's to fix: the message names each field, without a stack trace.
 */
export function loadConfigOrReport(
  file: string | undefined = process.env.IMMUTABLE_CONFIG,
  report: (message: string) => void = console.error,
): AppConfig | undefined {
  try {
    return loadConfig(file);
  } catch (error) {
    report((error as Error).message);
    return undefined;
  }
}
