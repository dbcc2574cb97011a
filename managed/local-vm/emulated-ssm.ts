/**
 * The preview's emulated AWS: moto's server on a free loopback port (the user installs it:
 * pip install 'moto[server]'), filled with the environment's parameters as the stack creates them.
 * moto does not check request signatures, so plain JSON calls with a credential scope suffice.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { configParameterName, secretParameterName } from "../names";
import { LocalVmError, hasProgram } from "./tools";

export class EmulatedSsm {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly region: string,
  ) {}

  static async start(region: string): Promise<EmulatedSsm> {
    if (!hasProgram("moto_server")) {
      throw new LocalVmError(
        "the preview reads its config from an emulated SSM: moto_server is not on PATH. Install it with: pip install 'moto[server]'",
      );
    }
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new LocalVmError(`moto_server did not start within 60 s:\n${out}`)), 60_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.on("exit", (code) => reject(new LocalVmError(`moto_server exited (${code}):\n${out}`)));
    });
    return new EmulatedSsm(port, child, region);
  }

  async putParameter(name: string, value: string, type: "String" | "SecureString"): Promise<void> {
    const response = await fetch(`http://127.0.0.1:${this.port}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AmazonSSM.PutParameter",
        authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${this.region}/ssm/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ Name: name, Value: value, Type: type, Overwrite: true }),
    });
    if (!response.ok) throw new LocalVmError(`moto refused PutParameter ${name}: ${response.status} ${await response.text()}`);
  }

  /** The environment's parameters: config values as String, secrets as SecureString with `secretValue(name)`. */
  async fill(
    app: string,
    env: string,
    config: Readonly<Record<string, string>>,
    secrets: readonly string[],
    secretValue: (name: string) => string,
  ): Promise<void> {
    for (const [key, value] of Object.entries(config)) await this.putParameter(configParameterName(app, env, key), value, "String");
    for (const name of secrets) await this.putParameter(secretParameterName(app, env, name), secretValue(name), "SecureString");
  }

  stop(): void {
    this.child.kill("SIGTERM");
  }
}
