/**
 * Synthesizes the project's stacks into cdktf.out, the way `cdktf synth` does: what `npm run synth`
 * (main.ts) and `npm run deploy` run.
 */
import { App } from "cdktf";
import { join } from "node:path";
import type { AppConfig } from "./config";
import { addStacks } from "../stacks/app";

export interface Synthesized {
  /** cdktf.out, absolute. */
  readonly outdir: string;
  /** Stack names, in the config's order. */
  readonly stacks: readonly string[];
}

/** The folder terraform runs in for one stack. */
export function stackDir(outdir: string, stack: string): string {
  return join(outdir, "stacks", stack);
}

export function synthesize(config: AppConfig): Synthesized {
  const app = new App();
  // cdktf captures a stack trace for every token; with tsx's source maps on, mapping each one costs
  // about a third of the synth (bench/profile.ts). Errors thrown here still map: stacks print lazily.
  process.setSourceMapsEnabled(false);
  try {
    const stacks = addStacks(app, config);
    app.synth();
    return { outdir: app.outdir, stacks: stacks.map((s) => s.node.id) };
  } finally {
    process.setSourceMapsEnabled(true);
  }
}
