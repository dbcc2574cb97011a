/** What a bench run found: plain JSON (written to .bench/results.json), rendered by report.ts. */
import type { PackageSize } from "./install";
import type { Sample } from "./measure";
import { type Fit, summarize, type Summary } from "./stats";

export interface Measured {
  /** What was run, as a user would type it. */
  readonly command: string;
  readonly samples: readonly Sample[];
  readonly wallMs: Summary;
  /** User + system CPU of the tree, ms. */
  readonly cpuMs: Summary;
  /** Largest single process (GNU time %M), KiB. */
  readonly maxRssKib: Summary;
  /** Whole process tree (sampled sum), KiB. */
  readonly treeRssKib: Summary;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly npm: string;
  readonly terraform: string;
  readonly packages: Readonly<Record<string, string>>;
}

export interface SynthPair {
  /** "npm run synth", "cdktf synth", "app command". */
  readonly name: string;
  readonly ours?: Measured;
  readonly baseline?: Measured;
}

export interface ScalingPoint {
  readonly stacks: number;
  readonly measured: Measured;
}

export interface TerraformStack {
  readonly stack: string;
  readonly init: Measured;
  readonly validate: Measured;
  readonly plan: Measured;
}

export interface InstallSide {
  /** The install command's wall/CPU/RSS, run by run. */
  readonly measured: Measured;
  /** Bytes under node_modules after each measured run (regular files and symlinks, lstat). */
  readonly bytes: Summary;
  /** Keys of node_modules/.package-lock.json `packages` after each measured run. */
  readonly packages: Summary;
  /** The 10 largest top-level package directories after the last run. */
  readonly largest: readonly PackageSize[];
  /** What the side's package.json declares (read at run time). */
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

export interface Results {
  readonly date: string;
  readonly machine: Machine;
  /** 1-minute load average when the run started and when it ended: other work on the machine. */
  readonly load: { readonly start: number; readonly end: number };
  readonly runs: number;
  readonly warmup: number;
  readonly quick: boolean;
  readonly sections: readonly string[];
  /** `scripts.synth` and cdktf.json `app` of the generated project and of the baseline. */
  readonly commands: {
    readonly oursNpmSynth: string;
    readonly oursApp: string;
    readonly baselineNpmSynth: string;
    readonly baselineApp: string;
  };
  readonly scaffold?: { readonly measured: Measured; readonly files: number };
  readonly synth?: {
    readonly pairs: readonly SynthPair[];
    /** Whether ours and the baseline synthesized byte-identical stacks (undefined: not compared). */
    readonly identical?: boolean;
    readonly differing?: readonly string[];
    readonly baselineRewrittenImports?: number;
  };
  readonly scaling?: {
    readonly command: string;
    readonly points: readonly ScalingPoint[];
    /** Least squares over the medians: ms and KiB per added stack. */
    readonly wallFit: Fit;
    readonly cpuFit: Fit;
    readonly rssFit: Fit;
  };
  readonly terraform?: { readonly stacks: readonly TerraformStack[] };
  readonly install?: {
    /** As a user would type it (the cache directory is the bench's, fresh and empty each run). */
    readonly command: string;
    readonly ours: InstallSide;
    readonly baseline: InstallSide;
  };
}

export function toMeasured(command: string, samples: readonly Sample[]): Measured {
  return {
    command,
    samples,
    wallMs: summarize(samples.map((s) => s.wallMs)),
    cpuMs: summarize(samples.map((s) => s.cpuMs)),
    maxRssKib: summarize(samples.map((s) => s.maxRssKib)),
    treeRssKib: summarize(samples.map((s) => s.treeRssKib)),
  };
}
