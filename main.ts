import { App } from "cdktf";
import { relative } from "path";
import { addStacks } from "./stacks/app";
import { loadConfig } from "./stacks/load-config";

// The CDKTF app: one stack per environment of immutable.config.json.
function main(): number {
  let config;
  try {
    config = loadConfig(process.env.IMMUTABLE_CONFIG);
  } catch (error) {
    // A configuration problem is the user's to fix: the message names each field, no stack trace.
    console.error((error as Error).message);
    return 2;
  }
  const app = new App();
  // cdktf captures a stack trace for every token; with tsx's source maps on, mapping each one costs
  // about a third of the synth (bench/profile.ts). Errors thrown here still map: stacks print lazily.
  process.setSourceMapsEnabled(false);
  let stacks;
  try {
    stacks = addStacks(app, config);
    app.synth();
  } finally {
    process.setSourceMapsEnabled(true);
  }
  const out = relative(process.cwd(), app.outdir) || ".";
  console.log(`Synthesized ${stacks.map((s) => s.node.id).join(", ")}: ${out}/stacks/<env>/cdk.tf.json`);
  return 0;
}

process.exitCode = main();
