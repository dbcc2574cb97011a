import { App } from "cdktf";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { addStacks } from "../../stacks/app";
import type { AppConfig } from "../../managed/config";
import { resolveConfig } from "../../managed/config-validation";

export const REPO_ROOT = join(__dirname, "..", "..");

/** The repository's example configuration, as committed. */
export function exampleConfigJson(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REPO_ROOT, "immutable.config.json"), "utf8"));
}

export function exampleConfig(): AppConfig {
  return resolveConfig(exampleConfigJson());
}

/**
 * Synthesizes every stack of `config` the way `cdktf synth` does, into `<root>/cdktf.out`, and returns
 * the directory of each stack (where cdktf would run terraform).
 */
export function synthProject(root: string, config: AppConfig): Record<string, string> {
  const outdir = join(root, "cdktf.out");
  mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir, stackTraces: false });
  const stacks = addStacks(app, config);
  app.synth();
  return Object.fromEntries(stacks.map((s) => [s.node.id, join(outdir, "stacks", s.node.id)]));
}

export function readSynth(stackDir: string): any {
  return JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
}
