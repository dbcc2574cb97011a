/**
 * `npm run security [-- --update] [--checkov PATH]`: scans every synthesized stack with checkov, an
 * independent scanner, with the skips of .checkov.yaml (managed/checkov.ts). Exit 0 when no check
 * fails, 1 when one does (or checkov cannot run), 2 when .checkov.yaml is not the one the config needs.
 * `--update` rewrites .checkov.yaml from immutable.config.json first.
 *
 * checkov's terraform_json parser crashes on `terraform.required_version` in a .tf.json file
 * (bridgecrewio/checkov#7454), so each stack is scanned from a copy without that one key; nothing else
 * of the stack changes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AppConfig } from "./config";
import { CHECKOV_CONFIG_FILE, CHECKOV_VERSION, renderCheckovConfig } from "./checkov";
import { loadConfigOrReport } from "./load-config";
import { stackDir, synthesize } from "./synth";

export interface ScanResult {
  readonly status: number;
  /** checkov's JSON report of the scanned folder, when it ran. */
  readonly report?: unknown;
  readonly output: string;
}

/**
 * Runs checkov on `dir` (Terraform JSON or HCL) with `configFile`, and returns its JSON report.
 * The update check is off (CKV_SKIP_PACKAGE_UPDATE_CHECK) and nothing is downloaded (--skip-download).
 */
export function runCheckov(checkov: string, dir: string, framework: "terraform_json" | "terraform", configFile: string): ScanResult {
  // Run in the scanned folder: checkov also reads a .checkov.yaml of its working directory, and only
  // the file named here may say what is skipped.
  const result = spawnSync(
    checkov,
    ["-d", ".", "--framework", framework, "--config-file", resolve(configFile), "--skip-download", "-o", "json"],
    {
      cwd: dir,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, CKV_SKIP_PACKAGE_UPDATE_CHECK: "true" },
    },
  );
  if (result.error)
    return { status: 1, output: `cannot run ${checkov}: ${result.error.message} (pip install checkov==${CHECKOV_VERSION})` };
  let report: unknown;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    return { status: 1, output: `${result.stdout}\n${result.stderr}` };
  }
  return { status: result.status ?? 1, report, output: result.stderr };
}

/** Copies every stack's cdk.tf.json into `into/<stack>/`, without terraform.required_version (checkov#7454). */
export function scannableCopies(outdir: string, stacks: readonly string[], into: string): void {
  for (const stack of stacks) {
    const synth = JSON.parse(readFileSync(join(stackDir(outdir, stack), "cdk.tf.json"), "utf8"));
    delete synth.terraform?.required_version;
    mkdirSync(join(into, stack), { recursive: true });
    writeFileSync(join(into, stack, "cdk.tf.json"), JSON.stringify(synth, null, 2));
  }
}

/** The failed checks of a checkov JSON report (one object, or one per framework). */
export function failedChecks(report: unknown): Array<{ id: string; resource: string; file: string }> {
  const reports = Array.isArray(report) ? report : [report];
  return reports.flatMap((r: any) =>
    (r?.results?.failed_checks ?? []).map((c: any) => ({
      id: c.check_id,
      resource: c.resource,
      file: c.file_path,
    })),
  );
}

export function scanProject(config: AppConfig, checkov: string): number {
  const rendered = renderCheckovConfig(config);
  if (!existsSync(CHECKOV_CONFIG_FILE) || readFileSync(CHECKOV_CONFIG_FILE, "utf8") !== rendered) {
    console.error(
      `security: ${CHECKOV_CONFIG_FILE} is not the one immutable.config.json needs (a skip that no longer applies would hide a real finding); run npm run security -- --update`,
    );
    return 2;
  }
  const { outdir, stacks } = synthesize(config);
  const scratch = mkdtempSync(join(tmpdir(), "immutable-security-"));
  try {
    scannableCopies(outdir, stacks, scratch);
    const result = runCheckov(checkov, scratch, "terraform_json", CHECKOV_CONFIG_FILE);
    if (result.report === undefined) {
      console.error(`security: checkov did not report:\n${result.output}`);
      return 1;
    }
    const failed = failedChecks(result.report);
    for (const f of failed) console.error(`  FAILED ${f.id} ${f.resource} (${f.file.replace(/^\//, "")})`);
    console.log(
      `security: checkov ${failed.length === 0 ? "passed" : "failed"} on ${stacks.join(", ")}: ${failed.length} failed check(s); skips and their reasons in ${CHECKOV_CONFIG_FILE}`,
    );
    return failed.length === 0 ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const USAGE = "npm run security [-- --update] [--checkov PATH]";

function main(argv: readonly string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(
      `Usage: ${USAGE}\n  --update         rewrite ${CHECKOV_CONFIG_FILE} from the config\n  --checkov PATH   the checkov to run (default: checkov on the PATH)`,
    );
    return 0;
  }
  const config = loadConfigOrReport();
  if (!config) return 2;
  let checkov = "checkov";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--update") {
      writeFileSync(CHECKOV_CONFIG_FILE, renderCheckovConfig(config));
      console.log(`security: wrote ${CHECKOV_CONFIG_FILE}`);
    } else if (argv[i] === "--checkov" && argv[i + 1]) {
      checkov = argv[++i];
    } else {
      console.error(`security: unknown argument ${argv[i]}; usage: ${USAGE}`);
      return 2;
    }
  }
  return scanProject(config, checkov);
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
