/**
 * The emulated AWS of the lifecycle tests: moto server on a free loopback port (emulated_aws.py, with
 * its recording handler for the instance-refresh calls moto lacks), and the environment that points
 * terraform's AWS provider, the AWS CLI (v1, from the same virtual environment) and the project's own
 * commands at it (AWS_ENDPOINT_URL: test-only, never in what users get).
 *
 * The Python tools live in a virtual environment: IMMUTABLE_VENV, or .venv in the checkout, which
 * .ci/run fills from requirements-test.txt.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./synth";

export function venvDir(): string {
  const dir = process.env.IMMUTABLE_VENV ?? join(REPO_ROOT, ".venv");
  if (!existsSync(join(dir, "bin", "python"))) {
    throw new Error(
      `no Python virtual environment at ${dir}: run \`python3 -m venv .venv && .venv/bin/pip install -r requirements-test.txt\` (or set IMMUTABLE_VENV)`,
    );
  }
  return dir;
}

export function venvTool(name: string): string {
  return join(venvDir(), "bin", name);
}

/** The only account moto has unless told otherwise (moto.core.DEFAULT_ACCOUNT_ID). */
export const EMULATED_ACCOUNT_ID = "123456789012";

/** An instance-refresh request as the recording handler stored it (query parameters decoded). */
export interface RecordedRequest {
  readonly action:
    | "StartInstanceRefresh"
    | "DescribeInstanceRefreshes"
    | "CancelInstanceRefresh"
    | "RollbackInstanceRefresh"
    | "CompleteLifecycleAction";
  readonly region: string;
  readonly params: Record<string, any>;
}

/** How refreshes started from now on end, and how many progress steps they report first. */
export interface RefreshOutcome {
  /** The Auto Scaling group it applies to; without one, every group that has none of its own. */
  readonly group?: string;
  readonly status: "Successful" | "Failed" | "Cancelled" | "RollbackSuccessful" | "RollbackFailed";
  readonly steps?: number;
  readonly reason?: string;
  /** Make the next StartInstanceRefresh fail with this error instead. */
  readonly error?: { readonly code: string; readonly message: string };
  /**
   * A successful plan's scenario: CloudWatch puts this alarm in ALARM when the refresh reaches this phase
   * (replacing:N, checkpoint:N or bake); the refresh then reacts to it as AWS does.
   */
  readonly alarm?: { readonly name: string; readonly at: string };
}

export class EmulatedAws {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<EmulatedAws> {
    // Loopback only, a free port chosen by the kernel; moto's docs use localhost in server mode.
    const child = spawn(venvTool("python"), [join(__dirname, "emulated_aws.py"), "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`moto server did not start in 60 s:\n${stderr}`)), 60_000);
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = /^(http:\/\/localhost:\d+)\s*$/m.exec(out);
        if (line) {
          clearTimeout(timer);
          resolve(line[1]);
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`moto server exited (${code}) before it listened:\n${stderr}`));
      });
    });
    return new EmulatedAws(url, child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.on("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }

  private async control(path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${this.url}/_emulated/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`emulated AWS ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  requests(): Promise<RecordedRequest[]> {
    return this.control("requests");
  }

  setRefreshOutcome(outcome: RefreshOutcome): Promise<void> {
    return this.control("refresh-outcome", outcome);
  }

  /** Every refresh with the phases it went through (replacing:N, checkpoint:N, bake, rollback, ...). */
  refreshes(): Promise<Array<{ id: string; group: string; status: string; reason: string; phases: string[] }>> {
    return this.control("refreshes");
  }

  /** A launching instance of `group` whose launch lifecycle action waits to be completed. */
  pendingLaunch(group: string, instance: string): Promise<void> {
    return this.control("pending-launch", { group, instance });
  }

  /** What the emulated instance metadata service answers (instance-id, autoscaling/target-lifecycle-state). */
  setMetadata(values: Record<string, string>): Promise<void> {
    return this.control("imds", values);
  }

  /**
   * Environment for the AWS CLI, the SDKs and the Terraform provider: every service at the emulated
   * endpoint (AWS_ENDPOINT_URL), fake credentials. The address is 127.0.0.1, the one localhost is
   * bound to: with an IP address the S3 clients use path-style requests, while virtual-hosted names
   * (<bucket>.localhost) do not resolve on this machine.
   */
  cliEnv(region: string): NodeJS.ProcessEnv {
    return {
      AWS_ENDPOINT_URL: this.url.replace("//localhost:", "//127.0.0.1:"),
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_DEFAULT_REGION: region,
      AWS_REGION: region,
      AWS_PAGER: "",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      PATH: `${join(venvDir(), "bin")}:${process.env.PATH ?? ""}`,
    };
  }

  /** Runs the AWS CLI against the emulated AWS; returns parsed JSON output (or throws with stderr). */
  aws(region: string, args: readonly string[]): any {
    const result = spawnSync(venvTool("aws"), [...args, "--output", "json"], {
      env: { ...process.env, ...this.cliEnv(region) },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) throw new Error(`aws ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
    return result.stdout.trim() === "" ? undefined : JSON.parse(result.stdout);
  }
}
