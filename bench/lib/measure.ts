/**
 * Runs one command as a whole process tree and measures it:
 * - wall time: from spawn to exit, measured here with a monotonic clock;
 * - CPU time: user + system of the whole waited-for tree (GNU time's "%U %S"), less sensitive than wall
 *   time to other load on the machine;
 * - peak RSS of the largest single process: GNU time's "%M" (the kernel's ru_maxrss over the waited-for
 *   tree, which is the maximum of any one process, not a sum);
 * - peak RSS of the whole tree: the sum of VmRSS of every live descendant, sampled from /proc every
 *   few milliseconds (shared pages such as the node binary are counted once per process).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";
const PAGE_KIB = 4;

export interface Sample {
  readonly wallMs: number;
  /** User + system CPU of the whole tree, ms (GNU time, 10 ms resolution). */
  readonly cpuMs: number;
  /** Largest single process, KiB (GNU time). */
  readonly maxRssKib: number;
  /** Whole tree, KiB (sampled sum). */
  readonly treeRssKib: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** @default 20 */
  readonly sampleEveryMs?: number;
  /** @default 600000 */
  readonly timeoutMs?: number;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly status: number | null,
    readonly output: string,
  ) {
    super(`${command} exited with ${status ?? "a signal"}:\n${output.slice(-4000)}`);
    this.name = "CommandError";
  }
}

/** Every descendant of `pid` (not `pid` itself), from /proc/<pid>/task/<tid>/children. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const tid of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${p}/task/${tid}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of children.split(" ")) {
        const child = Number(c);
        if (c.trim() !== "" && Number.isInteger(child)) {
          out.push(child);
          queue.push(child);
        }
      }
    }
  }
  return out;
}

/** Resident set of one process in KiB, 0 when it is gone. */
function rssKib(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * PAGE_KIB;
  } catch {
    return 0;
  }
}

/** Sum of the resident sets of the tree under `root` (GNU time itself excluded: it is not the command). */
function treeRssKib(root: number): number {
  return descendants(root).reduce((sum, pid) => sum + rssKib(pid), 0);
}

/** Runs `command args...` under GNU time; rejects with its output when it fails. */
export function measure(command: string, args: readonly string[], options: RunOptions): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "bench-time-"));
  const timeFile = join(dir, "time.txt");
  const label = [command, ...args].join(" ");
  return new Promise<Sample>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ["-f", "%U %S %M", "-o", timeFile, command, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-64 * 1024);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let peakTree = 0;
    const sample = (): void => {
      if (child.pid !== undefined) peakTree = Math.max(peakTree, treeRssKib(child.pid));
    };
    const timer = setInterval(sample, options.sampleEveryMs ?? 20);
    const killer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", (error) => {
      clearInterval(timer);
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      reject(error);
    });
    child.on("exit", (status) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      clearInterval(timer);
      clearTimeout(killer);
      let timeText = "";
      try {
        timeText = readFileSync(timeFile, "utf8");
      } catch {
        // no report: the command could not start
      }
      rmSync(dir, { recursive: true, force: true });
      if (status !== 0) {
        reject(new CommandError(label, status, `${output}\n${timeText}`));
        return;
      }
      // GNU time writes "Command exited with non-zero status" lines first when it fails; the figures are last.
      const [user, system, maxRssKib] = (timeText.trim().split("\n").pop() ?? "").split(" ").map(Number);
      if (![user, system, maxRssKib].every(Number.isFinite)) {
        reject(new Error(`cannot read GNU time's report for ${label}: ${JSON.stringify(timeText)}`));
        return;
      }
      // The sampler can miss a short peak; the largest process is a lower bound of the tree's.
      resolve({ wallMs, cpuMs: Math.round((user + system) * 1000), maxRssKib, treeRssKib: Math.max(peakTree, maxRssKib) });
    });
  });
}
