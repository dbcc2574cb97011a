/** Helpers for the export tests: run the command in process, read what it wrote, run terraform without node. */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { main } from "../../managed/export/run";
import { TerraformDir, tempDir, writeCliConfig } from "./terraform";

export const REPO = join(__dirname, "..", "..");
export const EXAMPLE_CONFIG = join(REPO, "immutable.config.json");

/** A temp project folder holding a copy of the example config, changed by `change`. */
export function exportProject(change: (config: any) => void = () => undefined): string {
  const dir = tempDir("export-project");
  const config = JSON.parse(readFileSync(EXAMPLE_CONFIG, "utf8"));
  change(config);
  writeFileSync(join(dir, "immutable.config.json"), JSON.stringify(config, null, 2));
  return dir;
}

/** The image from SSM (resolve:ssm), HTTPS with a certificate, an existing VPC and two secrets. */
export function ssmHttpsExistingVpc(config: any): void {
  config.certificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
  // Each environment its own image parameter (one shared by two is refused).
  config.environments = config.environments.map((e: { name: string }) => ({
    ...e,
    amiSource: `resolve:ssm:/demo-app/image/${e.name}/ami-id`,
  }));
  config.network = {
    mode: "existing",
    vpcId: "vpc-0123456789abcdef0",
    publicSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    privateSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
  };
  config.secrets = [...(config.secrets ?? []), "API_TOKEN"];
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run export -- <args>` in process, in `cwd`. */
export function runExport(cwd: string, args: readonly string[], env: Record<string, string | undefined> = {}): CommandResult {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = main(args, { cwd, env, log: (l) => stdout.push(l), error: (l) => stderr.push(l) });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

/** Every file under `dir` (relative path -> bytes), hidden files included. */
export function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

/**
 * A folder holding only a link to terraform, for a PATH on which node cannot be found: what an ops
 * machine looks like. Throws when node would still be found.
 */
export function terraformOnlyPath(): string {
  const bin = tempDir("terraform-only-bin");
  const terraform = realpathSync(execFileSync("sh", ["-c", "command -v terraform"], { encoding: "utf8" }).trim());
  symlinkSync(terraform, join(bin, "terraform"));
  const probe = spawnSync("/bin/sh", ["-c", "command -v node || command -v npm || command -v npx"], {
    env: { PATH: bin },
    encoding: "utf8",
  });
  if (probe.status === 0) throw new Error(`node is still on PATH=${bin}: ${probe.stdout}`);
  return bin;
}

/**
 * Copies an exported folder to a fresh directory (so the export's own folder stays as ops receive it)
 * and returns a TerraformDir running with the mirror and the node-less PATH.
 */
export function terraformCopy(exported: string, path: string, offline: boolean): TerraformDir {
  const dir = tempDir("export-tf");
  cpSync(exported, dir, { recursive: true });
  const cli = writeCliConfig(tempDir("export-cli"));
  const tf = new TerraformDir(dir, cli, { PATH: path });
  if (offline) tf.makeOffline();
  return tf;
}
