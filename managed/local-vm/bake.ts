/**
 * The local bake: packer/local/local.pkr.hcl with the project's variables, in a scratch folder beside
 * copies of packer/variables.pkr.hcl, files/ and scripts/ (so ${path.root}/scripts/... are the
 * project's own scripts, unchanged), run by Packer's qemu builder. While it runs, the host serves the
 * VM's apt (a proxy to the package mirror) and the stand-in CloudWatch agent.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BaseDisk } from "./base-disk";
import { startAptProxy } from "./host-services";
import { buildStandInAgentDeb } from "./stand-in-agent";
import { LocalVmError, packerVersion, requirePrograms } from "./tools";
import { type Accelerator, detectAccelerator } from "./vm";

/** The port the base disk's apt proxy setting names (debootstrap-base.sh, APT_PROXY). */
export const APT_PROXY_PORT = 3142;

export interface LocalBakeOptions {
  /** The project's packer/ folder. */
  readonly packerDir: string;
  readonly base: BaseDisk;
  /** Receives image.qcow2, packer.log and serial.log; must not exist. */
  readonly outputDir: string;
  /** Extra -var values (e.g. git_sha). */
  readonly vars?: Readonly<Record<string, string>>;
  readonly accelerator?: Accelerator;
  /** Where the apt proxy keeps the packages it fetched, for the next bake. @default none */
  readonly aptCacheDir?: string;
  /** Packer's output, line by line (default: nothing). */
  readonly onLine?: (line: string) => void;
}

export interface LocalBakeResult {
  readonly image: string;
  readonly accelerator: Accelerator;
  readonly seconds: number;
}

export async function bakeLocal(options: LocalBakeOptions): Promise<LocalBakeResult> {
  requirePrograms(["packer", "qemu-system-x86_64", "qemu-img", "dpkg-deb"]);
  const outputDir = resolve(options.outputDir);
  if (existsSync(outputDir))
    throw new LocalVmError(`${outputDir} exists already: the local bake writes a new folder, choose another or remove it`);
  const accelerator = options.accelerator ?? detectAccelerator(options.base);
  const work = mkdtempSync(join(tmpdir(), "cia-local-bake-"));
  const started = Date.now();
  try {
    for (const entry of ["files", "scripts"]) cpSync(join(options.packerDir, entry), join(work, entry), { recursive: true });
    const [major, minor] = packerVersion();
    const oldPacker = major === 1 && minor < 7;
    const variables = readFileSync(join(options.packerDir, "variables.pkr.hcl"), "utf8");
    // Packer 1.6.6 judges every can(regex(...)) rule false (it rejects the default "t3.small"), so its
    // copy goes without the validation blocks; current Packer checks them, and so does the project's
    // config validation before it writes the values.
    writeFileSync(join(work, "variables.pkr.hcl"), oldPacker ? withoutValidationBlocks(variables) : variables);
    for (const name of readdirSync(options.packerDir).filter((n) => n.endsWith(".auto.pkrvars.hcl")))
      cpSync(join(options.packerDir, name), join(work, name));
    cpSync(join(options.packerDir, "local", "local.pkr.hcl"), join(work, "local.pkr.hcl"));
    // Packer 1.6.6 has the qemu builder built in and does not know required_plugins.
    if (!oldPacker) cpSync(join(options.packerDir, "local", "versions.pkr.hcl"), join(work, "versions.pkr.hcl"));
    const agentDeb = join(work, "amazon-cloudwatch-agent.deb");
    buildStandInAgentDeb(agentDeb);
    mkdirSync(join(outputDir, ".."), { recursive: true });
    const logDir = `${outputDir}.logs`;
    mkdirSync(logDir, { recursive: true });
    const vars: Record<string, string> = {
      git_sha: "unknown",
      ...options.vars,
      local_base_disk: options.base.disk,
      local_base_disk_format: options.base.format,
      local_kernel: options.base.kernel ?? "",
      local_initrd: options.base.initrd ?? "",
      local_accelerator: accelerator,
      local_output_dir: outputDir,
      local_ssh_username: options.base.sshUsername,
      local_ssh_private_key_file: options.base.sshPrivateKey,
      local_serial_log: join(logDir, "serial.log"),
      local_cloudwatch_agent_url: `http://10.0.2.2:${APT_PROXY_PORT}/local-vm/amazon-cloudwatch-agent.deb`,
    };
    const proxy = await startAptProxy(APT_PROXY_PORT, { "amazon-cloudwatch-agent.deb": agentDeb }, options.aptCacheDir);
    try {
      const args = ["build", "-color=false", ...Object.entries(vars).flatMap(([k, v]) => ["-var", `${k}=${v}`]), "."];
      const status = await runLogged("packer", args, work, join(logDir, "packer.log"), options.onLine);
      if (status !== 0) {
        throw new LocalVmError(
          `the local bake failed (packer exit ${status}); the image was not kept. Its output: ${join(logDir, "packer.log")}, the VM's console: ${vars.local_serial_log}\n${tail(join(logDir, "packer.log"))}`,
        );
      }
    } finally {
      await proxy.close();
    }
    return { image: join(outputDir, "image.qcow2"), accelerator, seconds: (Date.now() - started) / 1000 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function runLogged(command: string, args: string[], cwd: string, logFile: string, onLine?: (line: string) => void): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const log = createWriteStream(logFile);
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PACKER_NO_COLOR: "1" } });
    let partial = "";
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (!onLine) return;
      partial += chunk.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", reject);
    child.on("exit", (code) => log.end(() => resolvePromise(code)));
  });
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** The HCL text without its `validation { ... }` blocks (braces counted; none occur in their strings' ends). */
export function withoutValidationBlocks(hcl: string): string {
  const out: string[] = [];
  let depth = 0;
  for (const line of hcl.split("\n")) {
    if (depth === 0 && /^\s*validation\s*\{\s*$/.test(line)) {
      depth = 1;
      continue;
    }
    if (depth > 0) {
      for (const c of line.replace(/"(?:[^"\\]|\\.)*"/g, "")) depth += c === "{" ? 1 : c === "}" ? -1 : 0;
      continue;
    }
    out.push(line);
  }
  return out.join("\n").replace(/\n\n(\s*\})/g, "\n$1");
}
