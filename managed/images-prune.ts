/**
 * `npm run images:prune [-- --dry-run] [--keep N] [--yes]`
 *
 * Keeps the newest image.keepImages AMIs of the app and every image in use, and deregisters the others
 * with their snapshots. The work is managed/prune-images.sh, which an ops team runs with only the AWS
 * CLI; this entry hands it the app's name, region and keepImages from immutable.config.json (--keep
 * overrides). The exit code is the script's: 0 done, 1 an AWS call failed, 2 bad usage.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { AppConfig } from "./config";
import { loadConfigOrReport } from "./load-config";

export const USAGE = `Usage: npm run images:prune [-- --dry-run] [--keep N] [--yes]

  --dry-run  list what would be removed and why each kept image is kept; change nothing
  --keep N   keep the newest N images (default: image.keepImages in immutable.config.json)
  --yes      remove without asking (CI); without it, asks in a terminal and refuses elsewhere

Images in use are always kept: the launch template versions of the app's Auto Scaling groups (their
current, latest and default versions, and those of instance refreshes under way) and the images of
the app's instances. The definition is in managed/prune-images.sh.

Exit codes: 0 done, 1 an AWS call failed, 2 bad usage.
`;

/** The range of image.keepImages (managed/config-validation.ts), which the script checks too. */
const KEEP = /^[1-9][0-9]{0,3}$/;
const KEEP_MAX = 1000;

export interface PruneOptions {
  readonly dryRun: boolean;
  readonly yes: boolean;
  /** @default image.keepImages of the config */
  readonly keep?: number;
}

export class UsageError extends Error {}

export function parsePruneArgs(argv: readonly string[]): PruneOptions | "help" {
  let dryRun = false;
  let yes = false;
  let keep: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return "help";
    else if (arg === "--dry-run") dryRun = true;
    else if (arg === "--yes") yes = true;
    else if (arg === "--keep") {
      const next = argv[++i];
      if (next === undefined || next.startsWith("--")) throw new UsageError("--keep needs a number");
      keep = next;
    } else if (arg.startsWith("--keep=")) keep = arg.slice("--keep=".length);
    else throw new UsageError(`unknown argument ${arg}`);
  }
  if (keep !== undefined && !(KEEP.test(keep) && Number(keep) <= KEEP_MAX)) {
    throw new UsageError(`--keep ${JSON.stringify(keep)} is not a whole number from 1 to ${KEEP_MAX}`);
  }
  return { dryRun, yes, keep: keep === undefined ? undefined : Number(keep) };
}

/** The script's arguments: the config's app, region and keepImages, then the flags. */
export function pruneScriptArgs(
  config: Pick<AppConfig, "appName" | "region"> & { readonly image: Pick<AppConfig["image"], "keepImages"> },
  options: PruneOptions,
): string[] {
  return [
    "--app",
    config.appName,
    "--region",
    config.region,
    "--keep",
    String(options.keep ?? config.image.keepImages),
    ...(options.dryRun ? ["--dry-run"] : []),
    ...(options.yes ? ["--yes"] : []),
  ];
}

function main(argv: readonly string[]): number {
  let options: ReturnType<typeof parsePruneArgs>;
  try {
    options = parsePruneArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`images:prune: ${error.message}\nRun npm run images:prune -- --help for the options.`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE.trimEnd());
    return 0;
  }
  const config = loadConfigOrReport();
  if (!config) return 2;
  // Inherited stdio: the script asks in the terminal, and its output is the command's.
  const result = spawnSync("bash", [join(__dirname, "prune-images.sh"), ...pruneScriptArgs(config, options)], { stdio: "inherit" });
  if (result.error) {
    console.error(`images:prune: cannot run bash: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
