/**
 * Runs the real terraform binary offline against the machine's provider mirror. Every terraform process
 * gets its own CLI config (TF_CLI_CONFIG_FILE) naming the mirror; the mirror path comes from
 * IMMUTABLE_TF_MIRROR, or else /opt/tf-plugins.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DEFAULT_MIRROR = "/opt/tf-plugins";

export function mirrorPath(): string {
  const mirror = process.env.IMMUTABLE_TF_MIRROR ?? DEFAULT_MIRROR;
  if (!existsSync(join(mirror, "registry.terraform.io", "hashicorp", "aws"))) {
    throw new Error(
      `no hashicorp/aws provider under ${mirror}/registry.terraform.io: set IMMUTABLE_TF_MIRROR to the mirror root ` +
        "(three levels above the registry.terraform.io/hashicorp/aws folder)",
    );
  }
  return mirror;
}

/** Writes a CLI config that installs providers from the mirror only, and returns its path. */
export function writeCliConfig(dir: string): string {
  const file = join(dir, "offline.tfrc");
  writeFileSync(
    file,
    `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirrorPath())}\n    include = ["registry.terraform.io/*/*"]\n  }\n}\n`,
  );
  return file;
}

/** What a test injects so that plan runs without AWS: never part of what users get. */
export const OFFLINE_PROVIDER_OVERRIDE = {
  provider: {
    aws: {
      access_key: "AKIAFAKEFAKEFAKEFAKE",
      secret_key: "fake-secret-for-offline-plan",
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: false,
    },
  },
};

export interface TerraformResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class TerraformDir {
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly dir: string,
    cliConfig: string,
    extraEnv: NodeJS.ProcessEnv = {},
  ) {
    this.env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
      ...extraEnv,
    };
  }

  /** Runs terraform; returns the result whatever the exit code. */
  run(args: readonly string[]): TerraformResult {
    const result = spawnSync("terraform", [...args], {
      cwd: this.dir,
      env: this.env,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** Runs terraform without blocking the test process, so that several stacks run at once. */
  runAsync(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<TerraformResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("terraform", [...args], { cwd: this.dir, env: { ...this.env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on("error", reject);
      child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
  }

  /** runAsync, throwing with the output when terraform fails. */
  async okAsync(args: readonly string[]): Promise<string> {
    const result = await this.runAsync(args);
    if (result.status !== 0) {
      throw new Error(`terraform ${args.join(" ")} failed (${result.status}) in ${this.dir}:\n${result.stderr}\n${result.stdout}`);
    }
    return result.stdout;
  }

  /** Runs terraform and throws with its output when it fails. */
  ok(args: readonly string[]): string {
    const result = this.run(args);
    if (result.status !== 0) {
      throw new Error(`terraform ${args.join(" ")} failed (${result.status}) in ${this.dir}:\n${result.stderr}\n${result.stdout}`);
    }
    return result.stdout;
  }

  /** Injects fake credentials and the skip flags next to the configuration (an override file). */
  makeOffline(): void {
    writeFileSync(join(this.dir, "offline_override.tf.json"), JSON.stringify(OFFLINE_PROVIDER_OVERRIDE, null, 2));
  }

  /** init + validate + plan with the given variables; returns `terraform show -json` of the plan. */
  plan(vars: Readonly<Record<string, string>> = {}): PlanJson {
    this.ok(["init", "-input=false", "-no-color"]);
    this.ok(["validate", "-no-color"]);
    const varArgs = Object.entries(vars).flatMap(([k, v]) => ["-var", `${k}=${v}`]);
    this.ok(["plan", "-input=false", "-no-color", "-lock=false", "-out=plan.bin", ...varArgs]);
    return JSON.parse(this.ok(["show", "-json", "plan.bin"])) as PlanJson;
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function terraformVersion(): string {
  return execFileSync("terraform", ["version", "-json"], { encoding: "utf8", env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" } });
}

export interface PlannedResource {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly values: Record<string, any>;
}

export interface PlanJson {
  readonly planned_values: { readonly root_module: { readonly resources?: PlannedResource[] }; readonly outputs?: Record<string, unknown> };
  readonly configuration: {
    readonly provider_config: Record<string, any>;
    readonly root_module: {
      readonly resources: Array<Record<string, any>>;
      readonly variables?: Record<string, any>;
      readonly outputs?: Record<string, any>;
    };
  };
  readonly variables?: Record<string, { value: unknown }>;
  readonly resource_changes: Array<{ address: string; type: string; change: { actions: string[]; after: Record<string, any> } }>;
}

export function resourcesOf(plan: PlanJson, type: string): PlannedResource[] {
  return (plan.planned_values.root_module.resources ?? []).filter((r) => r.type === type);
}

export function configOf(plan: PlanJson, type: string): Array<Record<string, any>> {
  return plan.configuration.root_module.resources.filter((r) => r.type === type);
}
