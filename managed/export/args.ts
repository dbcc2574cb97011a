import { ExportError } from "./errors";

export type Syntax = "json" | "hcl";

export interface ExportOptions {
  /**
   * `main.tf.json` (JSON) or `main.tf` (HCL native syntax).
   * @default "json"
   */
  readonly syntax: Syntax;
  /**
   * The folder that receives one sub-folder per stack, relative to the working directory.
   * @default "terraform"
   */
  readonly out: string;
  /**
   * Stacks (environments) to export; all of them when empty.
   * @default []
   */
  readonly stacks: readonly string[];
  /**
   * The project's configuration file.
   * @default $IMMUTABLE_CONFIG, else "immutable.config.json"
   */
  readonly config?: string;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run export -- [--hcl] [--out <dir>] [--stack <name>]... [--config <file>]

Writes each stack (one per environment, and "bootstrap", CI's roles and state bucket, when the config has
github.repository) as a self-contained Terraform configuration to <dir>/<stack>/,
for teams that run Terraform without Node or cdktf: the configuration, versions.tf, backend.tf (S3 state),
terraform.tfvars.example, rollout.sh (the rollout command, run after every terraform apply) and a README
with the deploy, rollout, rollback, secret and destroy procedures.

Options:
  --hcl            write HCL (main.tf, variables.tf, outputs.tf) instead of JSON (*.tf.json)
  --out <dir>      output folder (default: terraform)
  --stack <name>   export only this environment's stack; repeat for more (default: every stack,
                   the bootstrap stack included)
  --config <file>  configuration file (default: $IMMUTABLE_CONFIG or immutable.config.json)
  -h, --help       show this help

Export refuses to overwrite a file it did not write or that was edited since (it keeps
.export-manifest.json in each folder) and then writes nothing. Re-running it on unchanged input
rewrites nothing: the output is deterministic and can be committed and reviewed as a diff.
`;

const VALUE_FLAGS = ["--out", "--stack", "--config"] as const;
const SWITCHES = ["--hcl", "--json", "--help", "-h"] as const;

/** Parses the arguments after `npm run export --`. */
export function parseArgs(argv: readonly string[]): ExportOptions {
  let syntax: Syntax = "json";
  let out = "terraform";
  let config: string | undefined;
  let help = false;
  const stacks: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if ((SWITCHES as readonly string[]).includes(flag)) {
      if (eq > 0) throw new ExportError("usage", `${flag} takes no value (got "${arg}")`);
      if (flag === "--hcl") syntax = "hcl";
      else if (flag === "--json") syntax = "json";
      else help = true;
      continue;
    }
    if ((VALUE_FLAGS as readonly string[]).includes(flag)) {
      let value: string | undefined;
      if (eq > 0) value = arg.slice(eq + 1);
      else {
        value = argv[i + 1];
        if (value === undefined || (value.startsWith("-") && value !== "-")) {
          throw new ExportError("usage", `${flag} needs a value`);
        }
        i += 1;
      }
      if (value === "") throw new ExportError("usage", `${flag} needs a non-empty value`);
      if (flag === "--out") out = value;
      else if (flag === "--config") config = value;
      else if (!stacks.includes(value)) stacks.push(value);
      continue;
    }
    if (arg.startsWith("-")) {
      throw new ExportError("usage", `unknown option ${flag}; known: ${[...SWITCHES, ...VALUE_FLAGS].join(", ")}`);
    }
    throw new ExportError("usage", `unexpected argument "${arg}"; to export one stack use --stack ${arg}`);
  }
  return { syntax, out, stacks, config, help };
}
