/**
 * `npm run image:build` step 1: writes packer/<app>.auto.pkrvars.hcl from immutable.config.json, so the
 * image is baked with exactly the port, health path, image and region the stacks deploy.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderPkrVars } from "./hcl";
import { loadConfigOrReport } from "./load-config";
import { packerVarsOf, pkrvarsFile } from "./packer-vars";

function main(): number {
  const config = loadConfigOrReport();
  if (!config) return 2;
  const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version?: string };
  const file = pkrvarsFile(config);
  const contents = renderPkrVars(packerVarsOf(config, version ?? "0.0.0"));
  // Written next to the target, then renamed: packer never reads a half-written file.
  const temp = join(file, "..", `.${config.appName}.pkrvars.tmp`);
  writeFileSync(temp, contents);
  renameSync(temp, file);
  console.log(`Wrote ${file} from ${process.env.IMMUTABLE_CONFIG ?? "immutable.config.json"}`);
  return 0;
}

process.exitCode = main();
