/**
 * Helpers for the tests of packer/: run the real tools (packer, shellcheck, systemd-analyze, bash),
 * parse HCL with HashiCorp's parser, and read environment files the way their consumers do.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "@cdktf/hcl2json";

export const PACKER_DIR = join(__dirname, "..", "..", "packer");

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without a shell; never throws on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A fresh temp directory; remove it with {@link removeDir}. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cia-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every `*.pkr.hcl` file of packer/, sorted. */
export function packerHclFiles(): string[] {
  return readdirSync(PACKER_DIR)
    .filter((name) => name.endsWith(".pkr.hcl"))
    .sort();
}

/** Every shell script of packer/ (scripts/ and files/), as paths relative to packer/. */
export function packerShellScripts(): string[] {
  return ["scripts", "files"].flatMap((dir) =>
    readdirSync(join(PACKER_DIR, dir))
      .filter((name) => name.endsWith(".sh"))
      .sort()
      .map((name) => `${dir}/${name}`),
  );
}

/** The JSON form of an HCL file, as HashiCorp's parser (hcl2json) produces it. */
export async function parseHclFile(name: string): Promise<any> {
  return parse(name, readFileSync(join(PACKER_DIR, name), "utf8"));
}

/**
 * A copy of packer/ that Debian's packer 1.6.6 accepts: without versions.pkr.hcl, whose
 * `required_plugins` block 1.6.6 does not know. Nothing else is changed.
 */
export function copyForOldPacker(extraFiles: Readonly<Record<string, string>> = {}): string {
  const dir = makeTempDir("packer");
  cpSync(PACKER_DIR, dir, { recursive: true });
  rmSync(join(dir, "versions.pkr.hcl"));
  for (const [name, contents] of Object.entries(extraFiles)) writeFileSync(join(dir, name), contents);
  return dir;
}

/**
 * Reads a systemd EnvironmentFile the way systemd 252+ does (parse_env_file_internal in
 * src/basic/env-file.c): comments with # or ;, unquoted values trimmed, '...' literal, "..." with
 * \" \\ \` \$ unescaped, other \x kept as is, backslash-newline a continuation, newlines literal
 * inside quotes. The last assignment of a name wins.
 */
export function parseSystemdEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  type State = "preKey" | "key" | "preValue" | "value" | "valueEscape" | "single" | "double" | "doubleEscape" | "comment" | "commentEscape";
  let state: State = "preKey";
  let key = "";
  let value = "";
  let trimValueAt = -1;
  const push = () => {
    if (state === "value" && trimValueAt >= 0) value = value.slice(0, trimValueAt);
    out.set(key.trimEnd(), value);
  };
  for (const c of text) {
    const newline = c === "\n" || c === "\r";
    const space = c === " " || c === "\t" || newline;
    switch (state) {
      case "preKey":
        if (c === "#" || c === ";") state = "comment";
        else if (!space) {
          state = "key";
          key = c;
        }
        break;
      case "key":
        if (newline) state = "preKey";
        else if (c === "=") {
          state = "preValue";
          value = "";
          trimValueAt = -1;
        } else key += c;
        break;
      case "preValue":
        if (newline) {
          push();
          state = "preKey";
        } else if (c === "'") state = "single";
        else if (c === '"') state = "double";
        else if (c === "\\") state = "valueEscape";
        else if (!space) {
          state = "value";
          value += c;
        }
        break;
      case "value":
        if (newline) {
          push();
          state = "preKey";
        } else if (c === "\\") {
          state = "valueEscape";
          trimValueAt = -1;
        } else {
          if (space) {
            if (trimValueAt < 0) trimValueAt = value.length;
          } else trimValueAt = -1;
          value += c;
        }
        break;
      case "valueEscape":
        state = "value";
        if (!newline) value += c;
        break;
      case "single":
        if (c === "'") state = "preValue";
        else value += c;
        break;
      case "double":
        if (c === '"') state = "preValue";
        else if (c === "\\") state = "doubleEscape";
        else value += c;
        break;
      case "doubleEscape":
        state = "double";
        if ('"\\`$'.includes(c)) value += c;
        else if (c !== "\n") value += `\\${c}`;
        break;
      case "comment":
        if (c === "\\") state = "commentEscape";
        else if (newline) state = "preKey";
        break;
      case "commentEscape":
        state = "comment";
        break;
    }
  }
  if (["preValue", "value", "valueEscape", "single", "double", "doubleEscape"].includes(state)) push();
  return out;
}

/** Reads an environment file the way a POSIX shell does: `set -a; . file` in an empty environment. */
export function readEnvFileWithBash(file: string): Map<string, string> {
  const result = run("env", ["-i", "/bin/bash", "-c", 'set -a; . "$1"; env -0', "bash", file]);
  if (result.status !== 0) throw new Error(`bash could not read ${file}: ${result.stderr}`);
  const out = new Map<string, string>();
  for (const entry of result.stdout.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) out.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return out;
}

/** A failed call of the fake aws: what it prints and its exit code (AWS CLI return codes). */
export interface FakeAwsFailure {
  readonly stderr: string;
  /** 253 configuration or credentials, 254 a service error, 255 the command failed. */
  readonly exit: number;
}

/** One response of the fake `aws ssm get-parameters-by-path`. */
export interface FakeSsmPage {
  readonly parameters?: ReadonlyArray<{ readonly name: string; readonly value: string; readonly type?: string }>;
  /** stderr of a call that always fails (the CLI exits 254 then). */
  readonly error?: string;
  /** The first calls for this page fail like this, in order; later calls answer normally. */
  readonly failures?: readonly FakeAwsFailure[];
  /** Every call for this page hangs (no answer, as when packets to the endpoint are dropped). */
  readonly hang?: boolean;
}

/** What user_data writes into boot.env, beyond the names the sandbox derives from app and env. */
export interface BootEnvOptions {
  /** EXPECTED_PARAMETERS: the variable names the stack created parameters for; null: no such line. @default [] */
  readonly expected?: readonly string[] | null;
  /** CONFIG_REVISION. @default "0123456789abcdef" */
  readonly revision?: string;
}

/**
 * A sandbox for packer/files/configure-app.sh: a config dir with boot.env, a fake `aws` on PATH that
 * serves `pages` (page n is returned for --starting-token n, page 0 without a token) and logs its
 * arguments, and a fake CloudWatch agent ctl that logs its arguments.
 */
export class ConfigureSandbox {
  readonly root = makeTempDir("configure");
  readonly configDir = join(this.root, "etc");
  readonly binDir = join(this.root, "bin");
  readonly awsCalls = join(this.root, "aws-calls.log");
  readonly ctlCalls = join(this.root, "ctl-calls.log");

  constructor(
    readonly app: string,
    readonly env: string,
    bootEnv: BootEnvOptions = {},
  ) {
    mkdirSync(this.configDir);
    mkdirSync(this.binDir);
    this.writeBootEnv(bootEnv);
    writeFileSync(
      join(this.binDir, "aws"),
      [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        `printf '%s\\n' "$*" >>${shellQuote(this.awsCalls)}`,
        "token=0",
        'args=("$@")',
        'for ((i = 0; i < ${#args[@]}; i++)); do [[ "${args[i]}" != --starting-token ]] || token="${args[i+1]}"; done',
        `dir=${shellQuote(this.root)}`,
        'call=$(cat "$dir/calls-$token" 2>/dev/null || echo 0); echo $((call + 1)) >"$dir/calls-$token"',
        'if [[ -f "$dir/hang-$token" ]]; then exec sleep 60; fi',
        'if [[ -f "$dir/failure-$token-$call.txt" ]]; then cat "$dir/failure-$token-$call.txt" >&2; exit "$(cat "$dir/failure-$token-$call.exit")"; fi',
        'if [[ -f "$dir/error-$token.txt" ]]; then cat "$dir/error-$token.txt" >&2; exit 254; fi',
        'cat "$dir/page-$token.json"',
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(this.binDir, "cwagent-ctl"),
      `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >>${shellQuote(this.ctlCalls)}\nexit "\${FAKE_CTL_EXIT:-0}"\n`,
    );
    chmodSync(join(this.binDir, "aws"), 0o755);
    chmodSync(join(this.binDir, "cwagent-ctl"), 0o755);
  }

  /** Writes boot.env as the user_data of this version does (sorted names, as the stack sorts them). */
  writeBootEnv({ expected = [], revision = "0123456789abcdef" }: BootEnvOptions = {}): void {
    const lines = [
      `APP_NAME=${this.app}`,
      `APP_ENV=${this.env}`,
      "AWS_REGION=eu-west-1",
      `PARAMETER_PATH=/${this.app}/${this.env}/`,
      `LOG_GROUP_NAME=/${this.app}/${this.env}/app`,
      "APP_PORT=8080",
    ];
    if (expected !== null) lines.push(`EXPECTED_PARAMETERS=${[...expected].sort().join(",")}`);
    lines.push(`CONFIG_REVISION=${revision}`, "");
    writeFileSync(join(this.configDir, "boot.env"), lines.join("\n"));
  }

  /** Sets what the fake SSM answers, page by page. */
  setPages(pages: readonly FakeSsmPage[]): void {
    pages.forEach((page, n) => {
      (page.failures ?? []).forEach((failure, call) => {
        writeFileSync(join(this.root, `failure-${n}-${call}.txt`), failure.stderr);
        writeFileSync(join(this.root, `failure-${n}-${call}.exit`), String(failure.exit));
      });
      if (page.hang) writeFileSync(join(this.root, `hang-${n}`), "");
      if (page.error !== undefined) {
        writeFileSync(join(this.root, `error-${n}.txt`), page.error);
        return;
      }
      const body: Record<string, unknown> = {
        Parameters: (page.parameters ?? []).map((p) => ({
          Name: p.name,
          Type: p.type ?? "String",
          Value: p.value,
          Version: 1,
          DataType: "text",
        })),
      };
      if (n < pages.length - 1) body.NextToken = String(n + 1);
      writeFileSync(join(this.root, `page-${n}.json`), JSON.stringify(body, null, 2));
    });
  }

  /**
   * Runs the boot script as the config unit would, with the fakes first on PATH. Its AWS retries are
   * bounded at 10 s with a first delay of 50 ms here (the script's test-only overrides); a test that
   * retries until the bound sets IMMUTABLE_APP_AWS_RETRY_SECONDS=1 so that it costs one second.
   */
  runConfigure(extraEnv: NodeJS.ProcessEnv = {}): RunResult {
    return run("bash", [join(PACKER_DIR, "files", "configure-app.sh"), this.app], {
      env: {
        PATH: `${this.binDir}:${process.env.PATH}`,
        IMMUTABLE_APP_CONFIG_DIR: this.configDir,
        IMMUTABLE_APP_LOG_DIR: "/var/log/immutable-app",
        IMMUTABLE_APP_CWAGENT_CTL: join(this.binDir, "cwagent-ctl"),
        IMMUTABLE_APP_AWS_RETRY_SECONDS: "10",
        IMMUTABLE_APP_AWS_RETRY_DELAY_MS: "50",
        ...extraEnv,
      },
    });
  }

  get appEnvFile(): string {
    return join(this.configDir, "app.env");
  }

  /** How many times the fake aws was called for page `n` (0 for the first page). */
  awsCallsFor(n: number): number {
    const file = join(this.root, `calls-${n}`);
    return existsSync(file) ? Number(readFileSync(file, "utf8")) : 0;
  }

  /** Files in the config dir, so a test can see that no temp file was left behind. */
  configFiles(): string[] {
    return readdirSync(this.configDir).sort();
  }

  dispose(): void {
    removeDir(this.root);
  }
}

/** Single-quotes a word for bash. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Whether `systemd-analyze verify --root` can load units here: it needs systemd's own unit files
 * (for the default dependencies), not a running systemd. Returns the reason when it cannot.
 */
export function systemdVerifyUnavailable(): string | undefined {
  const probe = makeTempDir("sd-probe");
  try {
    const prepared = prepareSystemdRoot(probe, { "probe.service": "[Service]\nExecStart=/bin/true\n" }, ["/bin/true"]);
    if (!prepared) return "systemd's unit directory (/lib/systemd/system) is missing";
    const result = run("systemd-analyze", ["verify", "--man=no", `--root=${probe}`, "probe.service"]);
    if (result.status !== 0 || result.stderr.trim() !== "") {
      return `systemd-analyze verify does not work here: ${result.stderr.trim() || `exit ${result.status}`}`;
    }
    return undefined;
  } catch (error) {
    return `systemd-analyze is not usable: ${(error as Error).message}`;
  } finally {
    removeDir(probe);
  }
}

/**
 * Lays out a filesystem root for `systemd-analyze verify --root`: systemd's own units (for
 * sysinit.target and the other default dependencies), the given units in /etc/systemd/system and
 * executable stubs for the commands the units run. Returns false when the host has no systemd units.
 */
export function prepareSystemdRoot(root: string, units: Readonly<Record<string, string>>, executables: readonly string[]): boolean {
  const systemUnits = ["/lib/systemd/system", "/usr/lib/systemd/system"].find((dir) => existsSync(join(dir, "sysinit.target")));
  if (!systemUnits) return false;
  cpSync(systemUnits, join(root, "usr/lib/systemd/system"), { recursive: true, dereference: false });
  mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
  for (const [name, text] of Object.entries(units)) writeFileSync(join(root, "etc/systemd/system", name), text);
  for (const exe of executables) {
    const path = join(root, exe);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "#!/bin/sh\n");
    chmodSync(path, 0o755);
  }
  return true;
}
