/**
 * The export command: options -> config -> synthesized stacks -> file maps -> checked, then written.
 * Side effects come in through ExportIo so that tests run it in process.
 */
import { isAbsolute, relative, resolve } from "node:path";
import { CONFIG_FILE } from "../config";
import { ConfigError } from "../config-validation";
import { loadConfig } from "../load-config";
import { type ExportOptions, USAGE, parseArgs } from "./args";
import { ExportError } from "./errors";
import { stackFiles } from "./layout";
import { synthesize } from "./synth";
import { applyPlan, planFolders } from "./write";

export interface ExportIo {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: (line: string) => void;
}

export interface ExportResult {
  /** Folders written, relative to cwd. */
  readonly folders: readonly string[];
}

export function runExport(options: ExportOptions, io: ExportIo): ExportResult {
  const configFile = resolve(io.cwd, options.config ?? io.env.IMMUTABLE_CONFIG ?? CONFIG_FILE);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(configFile);
  } catch (error) {
    if (error instanceof ConfigError) throw new ExportError("config", `${relative(io.cwd, configFile) || configFile}: ${error.message}`);
    throw new ExportError("config", (error as Error).message);
  }
  const known = config.environments.map((e) => e.name);
  const unknown = options.stacks.filter((s) => !known.includes(s));
  if (unknown.length > 0) {
    throw new ExportError("usage", `--stack ${unknown.join(", ")}: no such stack; the stacks are ${known.join(", ")}`);
  }
  const selected = synthesize(config).filter((s) => options.stacks.length === 0 || options.stacks.includes(s.name));
  const outputs = selected.map((stack) => ({ dir: resolve(io.cwd, options.out, stack.name), files: stackFiles(stack, options.syntax) }));
  const { plans, conflicts } = planFolders(outputs);
  if (conflicts.length > 0) {
    throw new ExportError(
      "conflict",
      "refusing to overwrite files the export did not write or that were edited since; nothing was written:\n" +
        conflicts.map((c) => `  - ${display(io.cwd, c.path)}: ${c.reason}`).join("\n") +
        "\nMove these files away (or restore them) and export again.",
    );
  }
  for (const plan of plans) {
    applyPlan(plan);
    const dir = display(io.cwd, plan.dir);
    const parts = [`${plan.writes.length} written`, `${plan.unchanged.length} unchanged`];
    if (plan.removals.length > 0) parts.push(`${plan.removals.length} removed (${plan.removals.join(", ")})`);
    io.log(`${dir}/: ${parts.join(", ")}`);
  }
  io.log(
    `Next: cd ${display(io.cwd, resolve(io.cwd, options.out))}/<stack> and follow its README.md (terraform init, plan, apply, ./rollout.sh).`,
  );
  return { folders: plans.map((p) => relative(io.cwd, p.dir)) };
}

/** A path relative to cwd when it is inside it, else absolute. */
function display(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

/** The whole command; returns the exit code. */
export function main(argv: readonly string[], io: ExportIo & { readonly error: (line: string) => void }): number {
  try {
    const options = parseArgs(argv);
    if (options.help) {
      io.log(USAGE.trimEnd());
      return 0;
    }
    runExport(options, io);
    return 0;
  } catch (error) {
    if (error instanceof ExportError) {
      io.error(`export: ${error.message}`);
      if (error.category === "usage") io.error("Run `npm run export -- --help` for the options.");
      return error.exitCode;
    }
    io.error(`export: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
