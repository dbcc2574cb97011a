/** Command-line options of `npm run bench`. Pure. */

export const SECTIONS = ["scaffold", "synth", "baseline", "scaling", "terraform", "install"] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  /** Measured runs per command. @default 5 (1 with --quick) */
  readonly runs: number;
  /** Unmeasured runs before them. @default 1 (0 with --quick) */
  readonly warmup: number;
  /** Which sections run. @default all */
  readonly only: ReadonlySet<Section>;
  /** Stack counts of the scaling section. @default [1, 10, 50] */
  readonly stackCounts: readonly number[];
  /** Where the Markdown report goes. @default BENCHMARKS.md, or .bench/BENCHMARKS.md with --quick or --only */
  readonly report: string;
  readonly quick: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

Measures whole processes (wall time, peak RSS) and writes a Markdown report.

  --runs N          measured runs per command (default 5; 1 with --quick)
  --warmup N        unmeasured runs first (default 1; 0 with --quick)
  --quick           one run each, no warm-up: a smoke test for CI
  --only A,B        sections to run: ${SECTIONS.join(", ")}
                    (ours/baseline ratios need both synth and baseline; install
                    downloads every package from the registry, a cold cache each run)
  --stacks A,B      stack counts for the scaling section (default 1,10,50)
  --report FILE     where to write the report (default BENCHMARKS.md; .bench/BENCHMARKS.md
                    with --quick or --only, so a partial run never replaces the committed numbers)
  -h, --help        show this help
`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function positiveInt(flag: string, text: string | undefined, min: number): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) < min) {
    throw new UsageError(`${flag} needs an integer >= ${min}, got ${text === undefined ? "nothing" : JSON.stringify(text)}`);
  }
  return Number(text);
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  let runs: number | undefined;
  let warmup: number | undefined;
  let only: Set<Section> | undefined;
  let stackCounts: number[] = [1, 10, 50];
  let report: string | undefined;
  let quick = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] =
      argv[i].startsWith("--") && argv[i].includes("=")
        ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)]
        : [argv[i], undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--runs":
        runs = positiveInt(flag, value(), 1);
        break;
      case "--warmup":
        warmup = positiveInt(flag, value(), 0);
        break;
      case "--quick":
        quick = true;
        break;
      case "--only": {
        const list = (value() ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = list.filter((s) => !(SECTIONS as readonly string[]).includes(s));
        if (list.length === 0 || unknown.length > 0) {
          throw new UsageError(`--only takes sections from ${SECTIONS.join(", ")}; got ${unknown.length ? unknown.join(", ") : "nothing"}`);
        }
        only = new Set(list as Section[]);
        break;
      }
      case "--stacks": {
        const list = (value() ?? "").split(",").map((s) => s.trim());
        stackCounts = list.map((s) => positiveInt("--stacks", s, 1));
        if (new Set(stackCounts).size < 2) throw new UsageError("--stacks needs at least two different counts");
        stackCounts.sort((a, b) => a - b);
        break;
      }
      case "--report": {
        const v = value();
        if (!v) throw new UsageError("--report needs a file name");
        report = v;
        break;
      }
      case "-h":
      case "--help":
        help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(argv[i])}`);
    }
  }
  const partial = quick || only !== undefined;
  return {
    runs: runs ?? (quick ? 1 : 5),
    warmup: warmup ?? (quick ? 0 : 1),
    only: only ?? new Set(SECTIONS),
    stackCounts,
    report: report ?? (partial ? ".bench/BENCHMARKS.md" : "BENCHMARKS.md"),
    quick,
    help,
  };
}
