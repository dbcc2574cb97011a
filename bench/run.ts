/**
 * `npm run bench`: scaffold, synth (ours against the cdktf-init baseline, pair by pair), scaling with
 * the number of stacks, terraform init/validate/plan per stack, and the install footprint (ours against
 * the cdktf-init way, cold cache). Whole processes, warm-up runs first, median and min/max. Writes .bench/results.json and the Markdown report (BENCHMARKS.md).
 * See BENCHMARKS.md for what each number means.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { TerraformDir, writeCliConfig } from "../__tests__/support/terraform";
import { configWithStacks } from "./lib/configs";
import {
  countInstalledPackages,
  declaredDependencies,
  INSTALL_BASELINE_FIXTURE,
  INSTALL_COMMAND,
  installArgs,
  packageSizes,
  treeBytes,
} from "./lib/install";
import { measure, type Sample } from "./lib/measure";
import { type BenchOptions, parseOptions, type Section, UsageError, USAGE } from "./lib/options";
import {
  APP_NAME,
  diffSynthOutputs,
  ensureCliBuilt,
  linkNodeModules,
  listFiles,
  paths,
  type Paths,
  prepareBaseline,
  scaffoldArgs,
} from "./lib/projects";
import { extractNotes, renderReport } from "./lib/report";
import {
  type InstallSide,
  type Machine,
  type Measured,
  type Results,
  type ScalingPoint,
  type SynthPair,
  type TerraformStack,
  toMeasured,
} from "./lib/results";
import { linearFit, summarize } from "./lib/stats";
import { formatBytes, formatMiB, formatSeconds } from "./lib/table";

const REPO = resolve(__dirname, "..");
const AMI = "ami-0123456789abcdef0";

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** The environment of every measured command: no update checks, telemetry or prompts; offline terraform. */
function benchEnv(cliConfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CHECKPOINT_DISABLE: "1",
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    FORCE_COLOR: "0",
  };
  // `npm run bench` exports its own npm_* and INIT_CWD; a measured `npm run` must not inherit them.
  for (const key of Object.keys(env)) {
    if (/^npm_(lifecycle|package|config_(?!update_notifier|fund|audit))/.test(key) || key === "INIT_CWD") delete env[key];
  }
  for (const key of ["IMMUTABLE_CONFIG", "CDKTF_OUTDIR", "CDKTF_CONTEXT_JSON", "TS_NODE_TRANSPILE_ONLY", "TS_NODE_PROJECT"]) {
    delete env[key];
  }
  return env;
}

interface Step {
  /** Label in the progress log and the report. */
  readonly label: string;
  readonly command: string;
  readonly run: () => Promise<Sample>;
  /** Runs before each execution, unmeasured (e.g. remove the previous output). */
  readonly before?: () => void;
}

/**
 * Runs the steps round-robin (warm-up rounds first, unmeasured), so that ours and the baseline see the
 * same machine state pair by pair; returns the measured samples of each step.
 */
async function rounds(steps: readonly Step[], options: BenchOptions): Promise<Measured[]> {
  const samples: Sample[][] = steps.map(() => []);
  for (let round = 0; round < options.warmup + options.runs; round++) {
    const warm = round < options.warmup;
    for (const [i, step] of steps.entries()) {
      step.before?.();
      const sample = await step.run();
      const tag = warm ? "warm-up" : `run ${round - options.warmup + 1}/${options.runs}`;
      log(
        `${step.label} ${tag}: ${formatSeconds(sample.wallMs)} (CPU ${formatSeconds(sample.cpuMs)}), ${formatMiB(sample.maxRssKib)} largest process, ${formatMiB(sample.treeRssKib)} tree`,
      );
      if (!warm) samples[i].push(sample);
    }
  }
  return steps.map((step, i) => toMeasured(step.command, samples[i]));
}

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" } }).trim();
  } catch {
    return "unavailable";
  }
}

function packageVersion(dir: string, name: string): string {
  const file = join(dir, "node_modules", name, "package.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version : "not installed";
}

function machine(p: Paths, baselineDir: string): Machine {
  const tf = version("terraform", ["version", "-json"]);
  let terraform = tf;
  try {
    terraform = (JSON.parse(tf) as { terraform_version: string }).terraform_version;
  } catch {
    // keep the raw text
  }
  const packages: Record<string, string> = {};
  for (const name of ["cdktf", "cdktf-cli", "@cdktf/provider-aws", "constructs", "typescript", "tsx"]) {
    packages[name] = packageVersion(p.repo, name);
  }
  packages["ts-node"] = packageVersion(baselineDir, "ts-node");
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${release()}`,
    node: process.version,
    npm: version("npm", ["-v"]),
    terraform,
    packages,
  };
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, "utf8"));
}

class Bench {
  readonly p: Paths;
  readonly env: NodeJS.ProcessEnv;
  readonly cliConfig: string;

  constructor(readonly options: BenchOptions) {
    this.p = paths(REPO);
    mkdirSync(this.p.work, { recursive: true });
    this.cliConfig = writeCliConfig(this.p.work);
    this.env = benchEnv(this.cliConfig);
  }

  has(section: Section): boolean {
    return this.options.only.has(section);
  }

  /** `sh -c <command>` in `cwd`, measured. */
  sh(cwd: string, command: string, extraEnv: NodeJS.ProcessEnv = {}): () => Promise<Sample> {
    return () => measure("sh", ["-c", command], { cwd, env: { ...this.env, ...extraEnv } });
  }

  async scaffold(): Promise<NonNullable<Results["scaffold"]>> {
    const root = join(this.p.work, "scaffold");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    // Every run writes into a fresh directory: the generator refuses a non-empty one.
    let n = 0;
    const cwd = (): string => join(root, String(n));
    const [measured] = await rounds(
      [
        {
          label: "scaffold",
          command: "create-immutable-app bench-app --yes --no-install --no-git",
          before: () => {
            if (n > 0) rmSync(cwd(), { recursive: true, force: true });
            n += 1;
            mkdirSync(cwd(), { recursive: true });
          },
          run: () => measure("node", scaffoldArgs(this.p, APP_NAME), { cwd: cwd(), env: this.env }),
        },
      ],
      this.options,
    );
    const files = listFiles(join(cwd(), APP_NAME)).length;
    rmSync(root, { recursive: true, force: true });
    return { measured, files };
  }

  /** The default project, scaffolded once (unmeasured) into .bench/project/bench-app. */
  project(): string {
    const root = join(this.p.work, "project");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    execFileSync("node", scaffoldArgs(this.p, APP_NAME), { cwd: root, env: this.env, stdio: ["ignore", "ignore", "inherit"] });
    const dir = join(root, APP_NAME);
    linkNodeModules(this.p, dir);
    return dir;
  }

  async synth(project: string, baselineDir: string | undefined): Promise<NonNullable<Results["synth"]>> {
    const cdktf = join(this.p.repo, "node_modules", ".bin", "cdktf");
    const clean = (dir: string) => () => rmSync(join(dir, "cdktf.out"), { recursive: true, force: true });
    const sides: Array<["ours" | "baseline", string]> = [];
    if (this.has("synth")) sides.push(["ours", project]);
    if (baselineDir) sides.push(["baseline", baselineDir]);
    const kinds: Array<[string, (dir: string) => string]> = [
      ["npm run synth", () => "npm run synth"],
      ["cdktf synth", () => `${cdktf} synth`],
      ["app command", (dir) => String(readJson(join(dir, "cdktf.json")).app)],
    ];
    const steps: Step[] = [];
    const index: Array<[number, "ours" | "baseline"]> = [];
    for (const [k, [name, commandOf]] of kinds.entries()) {
      for (const [side, dir] of sides) {
        const command = commandOf(dir);
        steps.push({
          label: `synth ${side}: ${name}`,
          command: name === "cdktf synth" ? "cdktf synth" : command,
          before: clean(dir),
          run: this.sh(dir, command),
        });
        index.push([k, side]);
      }
    }
    // First the outputs of the same config must match, or the comparison means nothing.
    let identical: boolean | undefined;
    let differing: string[] | undefined;
    if (baselineDir && this.has("synth")) {
      for (const dir of [project, baselineDir]) {
        clean(dir)();
        execFileSync("sh", ["-c", String(readJson(join(dir, "cdktf.json")).app)], {
          cwd: dir,
          env: this.env,
          stdio: ["ignore", "ignore", "inherit"],
        });
      }
      differing = diffSynthOutputs(join(project, "cdktf.out"), join(baselineDir, "cdktf.out"));
      identical = differing.length === 0;
      log(identical ? "ours and the baseline synthesize byte-identical stacks" : `OUTPUTS DIFFER: ${differing.join(", ")}`);
    }
    const measured = await rounds(steps, this.options);
    const pairs: SynthPair[] = kinds.map(([name], k) => {
      const pick = (side: "ours" | "baseline"): Measured | undefined => {
        const at = index.findIndex(([kk, s]) => kk === k && s === side);
        return at < 0 ? undefined : measured[at];
      };
      return { name, ours: pick("ours"), baseline: pick("baseline") };
    });
    return { pairs, identical, differing };
  }

  async scaling(project: string): Promise<NonNullable<Results["scaling"]>> {
    const root = join(this.p.work, "scaling");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const base = readJson(join(project, "immutable.config.json"));
    const app = String(readJson(join(project, "cdktf.json")).app);
    const steps: Step[] = this.options.stackCounts.map((n) => {
      const config = join(root, `stacks-${n}.json`);
      writeFileSync(config, `${JSON.stringify(configWithStacks(base, n), null, 2)}\n`);
      const out = join(root, `out-${n}`);
      return {
        label: `scaling ${n} stack(s)`,
        command: `IMMUTABLE_CONFIG=stacks-${n}.json ${app}`,
        before: () => rmSync(out, { recursive: true, force: true }),
        run: async () => {
          const sample = await this.sh(project, app, { IMMUTABLE_CONFIG: config, CDKTF_OUTDIR: out })();
          const made = readdirSync(join(out, "stacks")).length;
          if (made !== n) throw new Error(`scaling: expected ${n} stacks in ${out}, found ${made}`);
          return sample;
        },
      };
    });
    const measured = await rounds(steps, this.options);
    const points: ScalingPoint[] = this.options.stackCounts.map((stacks, i) => ({ stacks, measured: measured[i] }));
    return {
      command: app,
      points,
      wallFit: linearFit(points.map((pt) => [pt.stacks, pt.measured.wallMs.median])),
      cpuFit: linearFit(points.map((pt) => [pt.stacks, pt.measured.cpuMs.median])),
      rssFit: linearFit(points.map((pt) => [pt.stacks, pt.measured.maxRssKib.median])),
    };
  }

  async terraform(project: string): Promise<NonNullable<Results["terraform"]>> {
    const root = join(this.p.work, "terraform");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const out = join(root, "cdktf.out");
    // cdktf.out/stacks/<env>: the local backend's ../../../ path then points into .bench/terraform.
    execFileSync("sh", ["-c", String(readJson(join(project, "cdktf.json")).app)], {
      cwd: project,
      env: { ...this.env, CDKTF_OUTDIR: out },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const names = readdirSync(join(out, "stacks")).sort();
    const steps: Step[] = [];
    for (const name of names) {
      const tf = new TerraformDir(join(out, "stacks", name), this.cliConfig);
      tf.makeOffline();
      const run = (args: string[]) => () => measure("terraform", args, { cwd: tf.dir, env: { ...this.env, ...tf.env } });
      steps.push(
        {
          label: `terraform ${name}: init`,
          command: "terraform init -input=false",
          before: () => {
            rmSync(join(tf.dir, ".terraform"), { recursive: true, force: true });
            rmSync(join(tf.dir, ".terraform.lock.hcl"), { force: true });
          },
          run: run(["init", "-input=false", "-no-color"]),
        },
        { label: `terraform ${name}: validate`, command: "terraform validate", run: run(["validate", "-no-color"]) },
        {
          label: `terraform ${name}: plan`,
          command: `terraform plan -var ami_id=${AMI}`,
          run: run(["plan", "-input=false", "-no-color", "-lock=false", "-var", `ami_id=${AMI}`]),
        },
      );
    }
    const measured = await rounds(steps, this.options);
    const stacks: TerraformStack[] = names.map((stack, i) => ({
      stack,
      init: measured[3 * i],
      validate: measured[3 * i + 1],
      plan: measured[3 * i + 2],
    }));
    return { stacks };
  }

  /**
   * `npm install` of the generated default project against the cdktf-init fixture, alternately, each run
   * from nothing: no node_modules, no package-lock.json, an empty cache of its own (so every tarball is
   * downloaded). Bytes and package count are read after each run, the largest packages after the last.
   */
  async install(): Promise<NonNullable<Results["install"]>> {
    const root = join(this.p.work, "install");
    rmSync(root, { recursive: true, force: true });
    const oursParent = join(root, "ours");
    mkdirSync(oursParent, { recursive: true });
    execFileSync("node", scaffoldArgs(this.p, APP_NAME), { cwd: oursParent, env: this.env, stdio: ["ignore", "ignore", "inherit"] });
    const baselineDir = join(root, "baseline");
    mkdirSync(baselineDir, { recursive: true });
    cpSync(join(this.p.repo, INSTALL_BASELINE_FIXTURE), join(baselineDir, "package.json"));
    const sides: Array<["ours" | "baseline", string]> = [
      ["ours", join(oursParent, APP_NAME)],
      ["baseline", baselineDir],
    ];
    const footprints: Array<Array<{ bytes: number; packages: number }>> = sides.map(() => []);
    const steps: Step[] = sides.map(([side, dir], i) => {
      const cache = join(root, `${side}-cache`);
      return {
        label: `install ${side}`,
        command: INSTALL_COMMAND,
        before: () => {
          for (const path of [join(dir, "node_modules"), join(dir, "package-lock.json"), cache]) {
            rmSync(path, { recursive: true, force: true });
          }
          mkdirSync(cache, { recursive: true });
        },
        run: async () => {
          const sample = await measure("npm", installArgs(cache), { cwd: dir, env: this.env, timeoutMs: 1_800_000 });
          const nodeModules = join(dir, "node_modules");
          const footprint = { bytes: treeBytes(nodeModules), packages: countInstalledPackages(nodeModules) };
          log(`install ${side}: ${formatBytes(footprint.bytes)} in node_modules, ${footprint.packages} packages`);
          footprints[i].push(footprint);
          return sample;
        },
      };
    });
    const measured = await rounds(steps, this.options);
    const [ours, baseline] = sides.map(([, dir], i): InstallSide => {
      // rounds() runs every step warmup + runs times; the first `warmup` footprints are the warm-ups'.
      const kept = footprints[i].slice(this.options.warmup);
      return {
        measured: measured[i],
        bytes: summarize(kept.map((f) => f.bytes)),
        packages: summarize(kept.map((f) => f.packages)),
        largest: packageSizes(join(dir, "node_modules")).slice(0, 10),
        ...declaredDependencies(readJson(join(dir, "package.json"))),
      };
    });
    rmSync(root, { recursive: true, force: true });
    return { command: INSTALL_COMMAND, ours, baseline };
  }
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = Date.now();
  const loadStart = loadavg()[0];
  if (loadStart > availableParallelism() / 2) {
    log(`the machine is busy (load average ${loadStart.toFixed(2)} on ${availableParallelism()} CPUs): wall times will be inflated`);
  }
  const bench = new Bench(options);
  const p = bench.p;
  if (!existsSync(p.bin)) throw new Error(`${relative(REPO, p.bin)} is missing: the generator is not built into this checkout`);
  ensureCliBuilt(p, log);

  const scaffold = bench.has("scaffold") ? await bench.scaffold() : undefined;
  const project = bench.project();
  const needBaseline = bench.has("baseline");
  const baseline = needBaseline ? prepareBaseline(p, project, log) : undefined;
  let synth: Results["synth"];
  if (bench.has("synth") || needBaseline) {
    synth = { ...(await bench.synth(project, baseline?.dir)), baselineRewrittenImports: baseline?.rewrittenImports };
  }
  const scaling = bench.has("scaling") ? await bench.scaling(project) : undefined;
  const terraform = bench.has("terraform") ? await bench.terraform(project) : undefined;
  const install = bench.has("install") ? await bench.install() : undefined;

  const baselineDir = join(p.work, "baseline");
  const results: Results = {
    date: new Date().toISOString(),
    machine: machine(p, baselineDir),
    load: { start: loadStart, end: loadavg()[0] },
    runs: options.runs,
    warmup: options.warmup,
    quick: options.quick,
    sections: [...options.only],
    commands: {
      oursNpmSynth: String(readJson(join(project, "package.json")).scripts?.synth),
      oursApp: String(readJson(join(project, "cdktf.json")).app),
      baselineNpmSynth: String(readJson(join(p.repo, "bench", "fixtures", "baseline", "package.json")).scripts?.synth),
      baselineApp: String(readJson(join(p.repo, "bench", "fixtures", "baseline", "cdktf.json")).app),
    },
    scaffold,
    synth,
    scaling,
    terraform,
    install,
  };
  writeFileSync(join(p.work, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const reportFile = resolve(REPO, options.report);
  const previous = existsSync(reportFile) ? readFileSync(reportFile, "utf8") : "";
  mkdirSync(resolve(reportFile, ".."), { recursive: true });
  writeFileSync(reportFile, renderReport(results, extractNotes(previous)));
  log(`wrote ${relative(REPO, reportFile)} and .bench/results.json in ${formatSeconds(Date.now() - started)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
