import { relative } from "node:path";
import { loadConfigOrReport } from "./managed/load-config";
import { synthesize } from "./managed/synth";

// The CDKTF app: one stack per environment of immutable.config.json (stacks/app.ts).
function main(): number {
  const config = loadConfigOrReport();
  if (!config) return 2;
  const { outdir, stacks } = synthesize(config);
  const out = relative(process.cwd(), outdir) || ".";
  console.log(`Synthesized ${stacks.join(", ")}: ${out}/stacks/<env>/cdk.tf.json`);
  return 0;
}

process.exitCode = main();
