/**
 * `npm run export [-- --hcl] [--out terraform] [--stack production]`: each stack as a self-contained,
 * plain Terraform configuration for teams without Node or cdktf. See managed/export/args.ts for usage.
 */
import { main } from "./export/run";

process.exitCode = main(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  log: (line) => console.log(line),
  error: (line) => console.error(line),
});
