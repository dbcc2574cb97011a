/**
 * npm run image:local [-- --base DIR]
 *   Bakes the project's image locally: packer/'s provisioners, unchanged, in a QEMU VM started from a
 *   base disk (default .local-vm/base-debian-12, made by managed/local-vm/debootstrap-base.sh).
 *   The image lands in .local-vm/images/<time>/ and .local-vm/image.json names the newest.
 * npm run preview -- <env> [--port N]
 *   Boots the newest local image as an instance of <env> would start: the user data of the synthesized
 *   stack, the environment's parameters in an emulated SSM (moto), the app's port forwarded to
 *   127.0.0.1:N (default 8080). Prints the URL when the health check answers; Ctrl-C shuts the VM down.
 * Exit codes: 0 done, 1 the bake or boot failed (the message says why), 2 bad usage.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AppConfig } from "../config";
import { loadConfig } from "../load-config";
import { debootstrapBaseDisk } from "./base-disk";
import { bakeLocal } from "./bake";
import { bootLocal } from "./boot";
import { EmulatedSsm } from "./emulated-ssm";
import { LocalVmError } from "./tools";
import { userDataOfStack } from "./user-data-of-stack";

const STATE_DIR = ".local-vm";
const DEFAULT_BASE = join(STATE_DIR, "base-debian-12");
const LATEST = join(STATE_DIR, "image.json");

class UsageError extends Error {}

interface LatestImage {
  readonly image: string;
  readonly base: string;
  readonly appName: string;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

async function image(args: string[], config: AppConfig): Promise<void> {
  const base = option(args, "--base") ?? DEFAULT_BASE;
  if (args.length > 0) throw new UsageError(`unknown argument for image: ${args[0]}`);
  if (config.image.baseOs !== "debian-12") {
    throw new LocalVmError(
      `image.baseOs is ${config.image.baseOs}; a local bake starts from a Debian 12 base disk in this version (set image.baseOs to debian-12 to try the image locally)`,
    );
  }
  const baseDisk = debootstrapBaseDisk(base);
  const out = resolve(STATE_DIR, "images", new Date().toISOString().replace(/[:.]/g, "-"));
  console.log(`Baking locally from ${baseDisk.disk} into ${out} (packer's output: ${out}.logs/packer.log)`);
  const result = await bakeLocal({
    packerDir: "packer",
    base: baseDisk,
    outputDir: out,
    aptCacheDir: join(STATE_DIR, "apt-cache"),
    onLine: (line) => console.log(line),
  });
  const latest: LatestImage = { image: result.image, base: resolve(base), appName: config.appName };
  writeFileSync(`${LATEST}.tmp`, `${JSON.stringify(latest, null, 2)}\n`);
  renameSync(`${LATEST}.tmp`, LATEST);
  console.log(`Baked ${result.image} in ${Math.round(result.seconds)} s (${result.accelerator}). Try it: npm run preview -- <environment>`);
}

async function preview(args: string[], config: AppConfig): Promise<void> {
  const port = Number(option(args, "--port") ?? "8080");
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError("--port must be a TCP port number (1-65535)");
  const [envName, ...rest] = args;
  if (!envName || rest.length > 0) throw new UsageError("usage: npm run preview -- <environment> [--port N]");
  const env = config.environments.find((e) => e.name === envName);
  if (!env) throw new UsageError(`no environment ${envName}: this project has ${config.environments.map((e) => e.name).join(", ")}`);
  if (!existsSync(LATEST)) throw new LocalVmError(`no local image yet (${LATEST} is missing): run npm run image:local first`);
  const latest = JSON.parse(readFileSync(LATEST, "utf8")) as LatestImage;
  if (!existsSync(latest.image)) throw new LocalVmError(`the local image ${latest.image} is gone: run npm run image:local again`);
  const userData = userDataOfStack(".", envName);
  const ssm = await EmulatedSsm.start(config.region);
  try {
    // Secrets: PREVIEW_SECRET_<NAME> from the environment, else a visible dummy (never a real secret on disk).
    await ssm.fill(
      config.appName,
      envName,
      { ...config.config, ...env.config },
      config.secrets,
      (name) => process.env[`PREVIEW_SECRET_${name}`] ?? `preview-${name}`,
    );
    const workDir = resolve(STATE_DIR, "preview", envName);
    mkdirSync(workDir, { recursive: true });
    console.log(`Booting ${latest.image} as a new ${envName} instance (console: ${join(workDir, "serial.log")})...`);
    const boot = await bootLocal({
      image: latest.image,
      base: debootstrapBaseDisk(latest.base),
      userData,
      appName: config.appName,
      region: config.region,
      appPort: config.appPort,
      healthCheckPath: config.healthCheckPath,
      awsPort: ssm.port,
      hostPort: port,
      workDir,
    });
    console.log(`${envName} answers at ${boot.url} (healthy ${Math.round(boot.secondsToHealthy)} s after start). Ctrl-C shuts it down.`);
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    console.log(`Shutting down: ${await boot.stop()}`);
  } finally {
    ssm.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command !== "image" && command !== "preview")
      throw new UsageError("usage: cli.ts image [--base DIR] | cli.ts preview <environment> [--port N]");
    const config = loadConfig(process.env.IMMUTABLE_CONFIG);
    await (command === "image" ? image(args, config) : preview(args, config));
    return 0;
  } catch (error) {
    console.error(`${command === "preview" ? "preview" : "image:local"}: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
