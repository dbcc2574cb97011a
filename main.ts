import { App } from "cdktf";
import { relative } from "path";
import { addStacks } from "./stacks/app";
import { loadConfigOrReport } from "./managed/load-config";

// The CDKTF app: one stack per environment of immutable.config.json.
function main(): number {
  const config = loadConfigOrReport();
  if (!config) return 2;
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
