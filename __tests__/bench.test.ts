/**
 * The pure parts of the benchmark (bench/): statistics, formatting, generated configs, the barrel
 * rewrite of the baseline, options, the report and the profile summary. No timing is asserted here.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseBarrelIndex, rewriteToBarrel } from "../bench/lib/barrel";
import { baselineTsconfig } from "../bench/lib/projects";
import { configWithStacks, environmentNames } from "../bench/lib/configs";
import { type CpuProfile, locationOf, summarizeProfile } from "../bench/lib/cpuprofile";
import {
  countInstalledPackages,
  countPackages,
  declaredDependencies,
  INSTALL_BASELINE_FIXTURE,
  installArgs,
  packageSizes,
  treeBytes,
} from "../bench/lib/install";
import { parseOptions, SECTIONS, UsageError } from "../bench/lib/options";
import { extractNotes, installRatios, NOTES_BEGIN, NOTES_END, renderReport, TARGETS, verdicts } from "../bench/lib/report";
import { type Results, toMeasured } from "../bench/lib/results";
import { linearFit, ratio, summarize } from "../bench/lib/stats";
import { formatBytes, formatMiB, formatRatio, formatSeconds, formatSummary, markdownTable, verdict } from "../bench/lib/table";
import { resolveConfig } from "../managed/config-validation";
import { exampleConfigJson, REPO_ROOT } from "./support/synth";

describe("statistics", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(summarize([5, 1, 3])).toEqual({ n: 3, median: 3, min: 1, max: 5 });
  });

  it("averages the two middle values of an even count", () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, median: 2.5, min: 1, max: 4 });
  });

  it("refuses an empty list and non-numbers", () => {
    expect(() => summarize([])).toThrow(/no values/);
    expect(() => summarize([1, NaN])).toThrow(/finite/);
  });

  it("fits a line exactly through collinear points", () => {
    const fit = linearFit([
      [1, 420],
      [10, 600],
      [50, 1400],
    ]);
    expect(fit.slope).toBeCloseTo(20, 10);
    expect(fit.intercept).toBeCloseTo(400, 10);
  });

  it("fits the least-squares line through scattered points", () => {
    // y = x + noise that cancels: (0,1), (1,1), (2,3), (3,3) -> slope 0.8, intercept 0.8
    const fit = linearFit([
      [0, 1],
      [1, 1],
      [2, 3],
      [3, 3],
    ]);
    expect(fit.slope).toBeCloseTo(0.8, 10);
    expect(fit.intercept).toBeCloseTo(0.8, 10);
  });

  it("needs two distinct x values for a slope", () => {
    expect(() =>
      linearFit([
        [10, 1],
        [10, 2],
      ]),
    ).toThrow(/two distinct/);
  });

  it("gives ours/baseline, and nothing for a zero baseline", () => {
    expect(ratio(1, 8)).toBe(0.125);
    expect(ratio(1, 0)).toBeUndefined();
  });
});

describe("formatting", () => {
  it("pads columns, right-aligns numbers and escapes pipes", () => {
    const table = markdownTable(
      [{ header: "command" }, { header: "time", align: "right" }],
      [
        ["a|b", "1.00 s"],
        ["npm run synth", "12.3 s"],
      ],
    );
    expect(table).toBe(
      "| command       |   time |\n" + "| ------------- | -----: |\n" + "| a\\|b          | 1.00 s |\n" + "| npm run synth | 12.3 s |\n",
    );
  });

  it("refuses a row with the wrong number of cells", () => {
    expect(() => markdownTable([{ header: "a" }, { header: "b" }], [["1"]])).toThrow(/row 0 has 1 cells, expected 2/);
  });

  it("formats seconds, MiB, ratios and summaries", () => {
    expect(formatSeconds(443.2)).toBe("0.443 s");
    expect(formatSeconds(2104)).toBe("2.10 s");
    expect(formatSeconds(14_960)).toBe("15.0 s");
    expect(formatMiB(161_792)).toBe("158 MiB");
    expect(formatMiB(60_000)).toBe("58.6 MiB");
    expect(formatRatio(0.0461)).toBe("0.046x");
    expect(formatRatio(0.1234)).toBe("0.12x");
    expect(formatRatio(undefined)).toBe("n/a");
    expect(formatBytes(432_013_312)).toBe("412 MiB");
    expect(formatBytes(61_440_000)).toBe("58.6 MiB");
    expect(formatSummary({ n: 3, median: 500, min: 400, max: 700 }, formatSeconds)).toBe("0.500 s (0.400 s–0.700 s)");
    expect(formatSummary({ n: 1, median: 500, min: 500, max: 500 }, formatSeconds)).toBe("0.500 s");
  });

  it("judges an upper bound inclusively", () => {
    expect(verdict(0.12, 0.12)).toBe("met");
    expect(verdict(0.13, 0.12)).toBe("MISSED");
    expect(verdict(undefined, 0.12)).toBe("not measured");
  });
});

describe("configs for N stacks", () => {
  const base = exampleConfigJson();

  it.each([1, 10, 50])("%i environments, each a valid stack name, all distinct", (n) => {
    const config = configWithStacks(base, n);
    const names = (config.environments as Array<{ name: string }>).map((e) => e.name);
    expect(names).toHaveLength(n);
    expect(new Set(names).size).toBe(n);
    // The real validator accepts it: the bench synthesizes exactly these.
    expect(resolveConfig(config).environments.map((e) => e.name)).toEqual(names);
  });

  it("copies the first environment under new names and keeps everything else", () => {
    const config = configWithStacks(base, 3);
    const first = (base.environments as Array<Record<string, unknown>>)[0];
    expect(config.environments).toEqual(["env-01", "env-02", "env-03"].map((name) => ({ ...first, name })));
    const { environments: _a, ...rest } = config;
    const { environments: _b, ...baseRest } = base;
    expect(rest).toEqual(baseRest);
  });

  it("does not touch its input", () => {
    const before = JSON.stringify(base);
    configWithStacks(base, 5);
    expect(JSON.stringify(base)).toBe(before);
  });

  it("works from a config without environments (the defaults' shape)", () => {
    expect(configWithStacks({ appName: "x" }, 2).environments).toEqual([{ name: "env-01" }, { name: "env-02" }]);
  });

  it("numbers names with enough digits", () => {
    expect(environmentNames(2)).toEqual(["env-01", "env-02"]);
    expect(environmentNames(100)[99]).toBe("env-100");
    expect(() => environmentNames(0)).toThrow(/positive integer/);
  });
});

describe("baseline: deep imports rewritten to the barrel", () => {
  const namespaces = parseBarrelIndex(
    "export * as launchTemplate from './launch-template';\nexport * as provider from './provider';\nexport * as lb from './lb';\n",
  );

  it("reads the namespaces of the package index", () => {
    expect([...namespaces]).toEqual([
      ["launch-template", "launchTemplate"],
      ["provider", "provider"],
      ["lb", "lb"],
    ]);
  });

  it("replaces named, renamed, multi-line and namespace imports, keeping the other lines", () => {
    const source = [
      'import { Construct } from "constructs";',
      'import { LaunchTemplate, LaunchTemplateConfig as Cfg } from "@cdktf/provider-aws/lib/launch-template";',
      "import {",
      "  AwsProvider,",
      '} from "@cdktf/provider-aws/lib/provider";',
      "import * as lbs from '@cdktf/provider-aws/lib/lb';",
      'import { x } from "./local";',
      "",
      'const launchTemplate = new LaunchTemplate(scope, "t", {} as Cfg);',
      "",
    ].join("\n");
    const result = rewriteToBarrel(source, namespaces);
    expect(result.rewritten).toBe(3);
    expect(result.source).toBe(
      [
        'import { Construct } from "constructs";',
        'import { launchTemplate as aws_launchTemplate, provider as aws_provider, lb as aws_lb } from "@cdktf/provider-aws";',
        "import LaunchTemplate = aws_launchTemplate.LaunchTemplate;",
        "import Cfg = aws_launchTemplate.LaunchTemplateConfig;",
        "import AwsProvider = aws_provider.AwsProvider;",
        "import lbs = aws_lb;",
        'import { x } from "./local";',
        "",
        'const launchTemplate = new LaunchTemplate(scope, "t", {} as Cfg);',
        "",
      ].join("\n"),
    );
  });

  it("leaves a file without provider imports as it is", () => {
    const source = 'import { App } from "cdktf";\nnew App();\n';
    expect(rewriteToBarrel(source, namespaces)).toEqual({ source, rewritten: 0 });
  });

  it("refuses a module the index does not export", () => {
    expect(() => rewriteToBarrel('import { Vpc } from "@cdktf/provider-aws/lib/vpc";\n', namespaces)).toThrow(/lib\/vpc is not exported/);
  });

  it("rewrites every provider import of the real stacks", () => {
    const real = parseBarrelIndex(readFileSync(join(REPO_ROOT, "node_modules/@cdktf/provider-aws/lib/index.d.ts"), "utf8"));
    let total = 0;
    for (const file of readdirSync(join(REPO_ROOT, "stacks")).filter((f) => f.endsWith(".ts"))) {
      const result = rewriteToBarrel(readFileSync(join(REPO_ROOT, "stacks", file), "utf8"), real);
      total += result.rewritten;
      expect(result.source).not.toMatch(/@cdktf\/provider-aws\/lib/);
    }
    expect(total).toBeGreaterThan(10);
  });
});

describe("options", () => {
  it("defaults to every section, 1 warm-up and 5 runs, into BENCHMARKS.md", () => {
    const o = parseOptions([]);
    expect([...o.only]).toEqual([...SECTIONS]);
    expect(o).toMatchObject({ runs: 5, warmup: 1, quick: false, report: "BENCHMARKS.md", stackCounts: [1, 10, 50] });
  });

  it("--quick runs once without warm-up and keeps the committed report", () => {
    expect(parseOptions(["--quick"])).toMatchObject({ runs: 1, warmup: 0, report: ".bench/BENCHMARKS.md" });
    expect(parseOptions(["--quick", "--runs", "3"]).runs).toBe(3);
  });

  it("--only selects sections and writes aside", () => {
    const o = parseOptions(["--only", "synth,baseline", "--runs=2"]);
    expect([...o.only]).toEqual(["synth", "baseline"]);
    expect(o.runs).toBe(2);
    expect(o.report).toBe(".bench/BENCHMARKS.md");
  });

  it("reports usage errors by flag", () => {
    expect(() => parseOptions(["--only", "synth,speed"])).toThrow(UsageError);
    expect(() => parseOptions(["--only", "synth,speed"])).toThrow(/speed/);
    expect(() => parseOptions(["--runs", "0"])).toThrow(/--runs needs an integer >= 1/);
    expect(() => parseOptions(["--stacks", "5,5"])).toThrow(/two different/);
    expect(() => parseOptions(["--fast"])).toThrow(/unknown option "--fast"/);
  });

  it("has an install section that runs by default and alone with --only install", () => {
    expect(SECTIONS).toContain("install");
    expect(parseOptions([]).only.has("install")).toBe(true);
    const alone = parseOptions(["--only", "install"]);
    expect([...alone.only]).toEqual(["install"]);
    expect(alone).toMatchObject({ runs: 5, warmup: 1, report: ".bench/BENCHMARKS.md" });
    expect([...parseOptions(["--only=synth,install"]).only]).toEqual(["synth", "install"]);
    expect(parseOptions(["--only", "install", "--quick"])).toMatchObject({ runs: 1, warmup: 0 });
    expect(() => parseOptions(["--only", "installs"])).toThrow(/installs/);
  });

  it("sorts stack counts", () => {
    expect(parseOptions(["--stacks", "50,1,10"]).stackCounts).toEqual([1, 10, 50]);
  });
});

describe("report", () => {
  const sample = (wallMs: number, rssMiB: number) => ({
    wallMs,
    cpuMs: wallMs * 1.1,
    maxRssKib: rssMiB * 1024,
    treeRssKib: rssMiB * 1024 + 10 * 1024,
  });
  const m = (command: string, wallMs: number, rssMiB: number) => toMeasured(command, [sample(wallMs, rssMiB)]);
  const MiB = 1024 * 1024;
  const installSide = (wallMs: number, bytes: number, packages: number, largest: Array<{ name: string; bytes: number }>) => ({
    measured: m("npm install", wallMs, 300),
    bytes: summarize([bytes]),
    packages: summarize([packages]),
    largest,
    dependencies: { cdktf: "0.21.0", tsx: "^4.20.0" },
    devDependencies: { typescript: "~5.9.3" },
  });
  const results: Results = {
    date: "2026-01-02T03:04:05.000Z",
    load: { start: 0.5, end: 1.25 },
    machine: {
      cpus: 2,
      cpuModel: "cpu",
      memoryGiB: 24,
      os: "linux",
      node: "v20",
      npm: "11",
      terraform: "1.11.4",
      packages: { "cdktf-cli": "0.21.0", "ts-node": "10.9.2" },
    },
    runs: 1,
    warmup: 0,
    quick: true,
    sections: ["scaffold", "synth", "baseline", "scaling"],
    commands: {
      oursNpmSynth: "node --import tsx main.ts",
      oursApp: "node --import tsx main.ts",
      baselineNpmSynth: "cdktf synth",
      baselineApp: "npx ts-node main.ts",
    },
    scaffold: { measured: m("create-immutable-app", 150, 60), files: 52 },
    synth: {
      pairs: [
        { name: "npm run synth", ours: m("npm run synth", 700, 160), baseline: m("npm run synth", 10_000, 1500) },
        { name: "cdktf synth", ours: m("cdktf synth", 3000, 270), baseline: m("cdktf synth", 10_000, 1500) },
        { name: "app command", ours: m("node", 450, 158), baseline: m("npx ts-node", 9000, 1450) },
      ],
      identical: true,
      baselineRewrittenImports: 30,
    },
    install: {
      command: "npm install --no-audit --no-fund --cache <fresh empty dir>",
      ours: installSide(20_000, 100 * MiB, 120, [
        { name: "@cdktf/provider-aws", bytes: 60 * MiB },
        { name: "esbuild", bytes: 10 * MiB },
      ]),
      baseline: installSide(40_000, 400 * MiB, 480, [{ name: "cdktf-cli", bytes: 200 * MiB }]),
    },
    scaling: {
      command: "node --import tsx main.ts",
      points: [
        { stacks: 1, measured: m("1", 400, 150) },
        { stacks: 50, measured: m("50", 1400, 180) },
      ],
      wallFit: { slope: 1000 / 49, intercept: 380 },
      cpuFit: { slope: 1100 / 49, intercept: 420 },
      rssFit: { slope: 600, intercept: 150 },
    },
  };

  it("judges each target on the user-facing pairs", () => {
    const v = verdicts(results);
    expect(v.map((x) => [x.target, x.measured, x.verdict])).toEqual([
      // 0.07x of the baseline's time misses the 0.03x target.
      ["synth wall time, `npm run synth`, ours/baseline", "0.070x", "MISSED"],
      ["synth peak RSS (tree), `npm run synth`, ours/baseline", "0.11x", "met"],
      ["scaffold wall time (median)", "0.150 s", "met"],
      ["synth time per added stack (least squares)", "20.4 ms", "MISSED"],
      // 100 of 400 MiB: 0.25x <= 0.6x; 20 of 40 s: 0.5x <= 0.7x.
      ["install footprint, bytes in node_modules, ours/baseline", "0.25x", "met"],
      ["install wall time (cold cache), ours/baseline", "0.50x", "met"],
      // Computed by the release model from the default configuration, whatever the run measured.
      ["release model: a good release of default production (3 instances) at 100 %", "11.0 min", "met"],
      ["release model: a release answering 5 % 5xx, instances that served it, rolled back before the bake ends", "1, yes", "met"],
    ]);
    expect(v.find((x) => x.target.startsWith("synth wall time"))?.limit).toBe("<= 0.03x");
    expect(v.find((x) => x.target.startsWith("install footprint"))?.limit).toBe("<= 0.6x");
    expect(v.find((x) => x.target.startsWith("install wall time"))?.limit).toBe("<= 0.7x");
  });

  it("judges the install targets inclusively, and misses them above the limits", () => {
    expect(TARGETS).toMatchObject({ synthTimeRatio: 0.03, installBytesRatio: 0.6, installTimeRatio: 0.7 });
    const install = (oursWallMs: number, oursBytes: number): Results => ({
      ...results,
      install: { ...results.install!, ours: installSide(oursWallMs, oursBytes, 100, []) },
    });
    const judged = (r: Results) =>
      verdicts(r)
        .filter((x) => x.target.startsWith("install"))
        .map((x) => [x.measured, x.verdict]);
    // Exactly at the limits: 240 of 400 MiB is 0.6x, 28 of 40 s is 0.7x.
    expect(judged(install(28_000, 240 * MiB))).toEqual([
      ["0.60x", "met"],
      ["0.70x", "met"],
    ]);
    expect(judged(install(30_000, 260 * MiB))).toEqual([
      ["0.65x", "MISSED"],
      ["0.75x", "MISSED"],
    ]);
    const withoutBaselineBytes: Results = {
      ...results,
      install: { ...results.install!, baseline: { ...results.install!.baseline, bytes: summarize([0]) } },
    };
    expect(judged(withoutBaselineBytes)[0]).toEqual(["n/a", "not measured"]);
  });

  it("gives the install ratios of the medians", () => {
    expect(installRatios(results.install!)).toEqual({ bytes: 0.25, packages: 0.25, wallMs: 0.5, cpuMs: 0.5 });
  });

  it("says 'not measured' for sections that did not run", () => {
    const v = verdicts({ ...results, synth: undefined, scaffold: undefined, scaling: undefined, install: undefined });
    // The release model's targets are computed, not measured: they are judged in every run.
    expect(v.filter((x) => !x.target.startsWith("release model")).every((x) => x.verdict === "not measured")).toBe(true);
    expect(renderReport(results, "")).toContain("## Release model: default staging and production");
  });

  it("keeps the hand-written notes across rewrites", () => {
    const first = renderReport(results, "Profile: **captureStackTrace** 35%.");
    expect(extractNotes(first)).toBe("Profile: **captureStackTrace** 35%.");
    expect(extractNotes(renderReport(results, extractNotes(first)))).toBe("Profile: **captureStackTrace** 35%.");
    expect(first).toContain(NOTES_BEGIN);
    expect(first).toContain(NOTES_END);
    expect(extractNotes("# no markers")).toBe("");
  });

  it("shows the machine, the commands compared and the identity check", () => {
    const md = renderReport(results, "");
    expect(md).toContain("| CPUs (available parallelism) | 2 ");
    expect(md).toContain("ours runs `node --import tsx main.ts`");
    expect(md).toContain("the baseline runs `cdktf synth`");
    expect(md).toContain("**byte-identical**");
    expect(md).toContain("Quick run");
    expect(md).toContain("Each added stack costs **20.4 ms** of wall time (22.4 ms of CPU)");
    expect(md).toContain("started: 0.50, when it ended: 1.25, on 2 CPUs");
    // cdktf synth minus the app alone: 2.55 s and 112 MiB; over the baseline's 10 s and 1510 MiB.
    expect(md).toContain("cdktf-cli itself adds 2.55 s and 112 MiB");
    expect(md).toContain("cannot go below 0.26x of the baseline's time or 0.074x of its memory");
  });

  it("renders the install footprint: both sides, the ratios, what each side declares and ours' largest packages", () => {
    const md = renderReport(results, "");
    const section = md.slice(md.indexOf("## Install footprint: ours against the cdktf-init way"), md.indexOf("## Scaling"));
    expect(section).toContain("**Cold cache**");
    expect(section).toContain("`npm install --no-audit --no-fund --cache <fresh empty dir>`");
    expect(section).toMatch(/\| ours +\| +20\.0 s \| +22\.0 s \| +310 MiB \| +100 MiB \| +120 \|/);
    expect(section).toMatch(/\| baseline \(cdktf init\) +\| +40\.0 s \| +44\.0 s \| +310 MiB \| +400 MiB \| +480 \|/);
    expect(section).toMatch(/\| ours\/baseline +\| +0\.50x \| +0\.50x \| +1\.00x \| +0\.25x \| +0\.25x \|/);
    expect(section).toContain("dependencies `cdktf@0.21.0`, `tsx@^4.20.0`; devDependencies `typescript@~5.9.3`");
    expect(section).toMatch(/\| `@cdktf\/provider-aws` \| +60\.0 MiB \| +60\.0% \|/);
    expect(section).toMatch(/\| `esbuild` +\| +10\.0 MiB \| +10\.0% \|/);
    expect(section).not.toContain("cdktf-cli");
    expect(renderReport({ ...results, install: undefined }, "")).toMatch(/## Install footprint[^\n]*\n\n_Not run._/);
  });
});

describe("cpu profile summary", () => {
  it("groups self time by package and counts a recursive function once per sample", () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 4000,
      nodes: [
        { id: 1, callFrame: frame("(root)", ""), children: [2] },
        { id: 2, callFrame: frame("synth", "file:///r/node_modules/cdktf/lib/app.js"), children: [3] },
        { id: 3, callFrame: frame("synth", "file:///r/node_modules/cdktf/lib/app.js"), children: [4] },
        { id: 4, callFrame: frame("capture", "file:///r/node_modules/@cdktf/provider-aws/lib/x.js"), children: [] },
      ],
      samples: [4, 4, 3, 2],
      timeDeltas: [1000, 1000, 1000, 1000],
    };
    const s = summarizeProfile(profile, { root: "/r" });
    expect(s.totalMs).toBe(4);
    expect(s.byLocation).toEqual([
      { key: "pkg:@cdktf/provider-aws", ms: 2, share: 0.5 },
      { key: "pkg:cdktf", ms: 2, share: 0.5 },
    ]);
    expect(s.inclusive[0]).toEqual({ key: "synth (pkg:cdktf)", ms: 4, share: 1 });
  });

  it("names locations", () => {
    expect(locationOf({ functionName: "(garbage collector)", url: "", lineNumber: 0 })).toBe("(garbage collector)");
    expect(locationOf({ functionName: "f", url: "node:internal/modules/cjs/loader", lineNumber: 0 })).toBe("node: internals");
    expect(locationOf({ functionName: "f", url: "file:///p/stacks/fleet.ts", lineNumber: 0 }, "/p")).toBe("stacks/fleet.ts");
  });
});

describe("baseline tsconfig", () => {
  it("keeps the template's options but takes target and lib from the project", () => {
    const template = JSON.parse(readFileSync(join(REPO_ROOT, "bench/fixtures/baseline/tsconfig.json"), "utf8"));
    const merged = baselineTsconfig(template, { compilerOptions: { target: "ES2022", lib: ["ES2022"], types: ["node"] } });
    expect(merged.compilerOptions).toEqual({ ...template.compilerOptions, target: "ES2022", lib: ["ES2022"] });
    expect(merged.include).toEqual(["**/*.ts"]);
    expect(template.compilerOptions.target).toBe("ES2018");
  });
});

describe("install footprint", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bench-install-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A node_modules of two packages, one scoped one nested, .bin links and npm's hidden lockfile. */
  const tree = (): string => {
    const nm = join(dir, "node_modules");
    mkdirSync(join(nm, "a", "node_modules", "b"), { recursive: true });
    mkdirSync(join(nm, "@s", "c", "lib"), { recursive: true });
    mkdirSync(join(nm, ".bin"), { recursive: true });
    writeFileSync(join(nm, "a", "index.js"), "x".repeat(100));
    writeFileSync(join(nm, "a", "node_modules", "b", "index.js"), "x".repeat(50));
    writeFileSync(join(nm, "@s", "c", "lib", "c.js"), "x".repeat(1000));
    writeFileSync(join(nm, ".package-lock.json"), "{}");
    // A symlink counts as its own size (the length of its target path), never the target's bytes.
    symlinkSync("../a/index.js", join(nm, ".bin", "a"));
    return nm;
  };

  it("counts regular files and symlinks by lstat, without following links", () => {
    const nm = tree();
    const big = join(dir, "outside.bin");
    writeFileSync(big, Buffer.alloc(10_000));
    symlinkSync(big, join(nm, "a", "big"));
    symlinkSync(join(dir, "missing"), join(nm, "a", "dangling"));
    symlinkSync(join(dir), join(nm, "a", "loop"), "dir");
    const links = "../a/index.js".length + big.length + join(dir, "missing").length + dir.length;
    expect(treeBytes(nm)).toBe(100 + 50 + 1000 + 2 + links);
    expect(treeBytes(join(nm, "a", "index.js"))).toBe(100);
    expect(treeBytes(join(dir, "nowhere"))).toBe(0);
  });

  it("counts the packages of npm's hidden lockfile, not the root", () => {
    const lock = {
      name: "bench-app",
      lockfileVersion: 3,
      requires: true,
      packages: {
        "node_modules/cdktf": { version: "0.21.0" },
        "node_modules/@cdktf/provider-aws": { version: "20.1.0" },
        "node_modules/cdktf/node_modules/semver": { version: "7.7.2", inBundle: true },
        "node_modules/@esbuild/linux-x64": { version: "0.28.0", optional: true },
      },
    };
    expect(countPackages(lock)).toBe(4);
    expect(countPackages({ packages: { "": { name: "x" }, "node_modules/a": {} } })).toBe(1);
    expect(countPackages({ packages: {} })).toBe(0);
    expect(() => countPackages({ lockfileVersion: 3 })).toThrow(/no packages object/);
    expect(() => countPackages(null)).toThrow(/no packages object/);
  });

  it("reads the hidden lockfile of a node_modules, and says when npm wrote none", () => {
    const nm = tree();
    writeFileSync(
      join(nm, ".package-lock.json"),
      JSON.stringify({ packages: { "node_modules/a": {}, "node_modules/a/node_modules/b": {} } }),
    );
    expect(countInstalledPackages(nm)).toBe(2);
    expect(() => countInstalledPackages(join(dir, "empty"))).toThrow(/hidden lockfile/);
  });

  it("sizes each top-level package, scoped ones by scope/name, nested node_modules included, largest first", () => {
    const nm = tree();
    mkdirSync(join(nm, "z"));
    writeFileSync(join(nm, "z", "index.js"), "x".repeat(150));
    expect(packageSizes(nm)).toEqual([
      { name: "@s/c", bytes: 1000 },
      { name: "a", bytes: 150 },
      { name: "z", bytes: 150 },
    ]);
    expect(packageSizes(join(dir, "nowhere"))).toEqual([]);
  });

  it("lists what a package.json declares, sorted", () => {
    expect(declaredDependencies({ dependencies: { tsx: "^4", cdktf: "0.21.0" } })).toEqual({
      dependencies: { cdktf: "0.21.0", tsx: "^4" },
      devDependencies: {},
    });
  });

  it("installs with a cache of its own", () => {
    expect(installArgs("/tmp/c")).toEqual(["install", "--no-audit", "--no-fund", "--cache", "/tmp/c"]);
  });

  it("has a baseline fixture shaped like cdktf init --template=typescript plus cdktf provider add aws", () => {
    const fixture = JSON.parse(readFileSync(join(REPO_ROOT, INSTALL_BASELINE_FIXTURE), "utf8"));
    const synthFixture = JSON.parse(readFileSync(join(REPO_ROOT, "bench/fixtures/baseline/package.json"), "utf8"));
    expect(fixture.scripts).toEqual(synthFixture.scripts);
    expect(fixture.dependencies).toEqual({ "@cdktf/provider-aws": "20.1.0", cdktf: "0.21.0", constructs: "^10.4.2" });
    expect(Object.keys(fixture.devDependencies).sort()).toEqual([
      "@types/jest",
      "@types/node",
      "cdktf-cli",
      "jest",
      "ts-jest",
      "ts-node",
      "typescript",
    ]);
    expect(fixture.devDependencies["ts-node"]).toBe("10.9.2");
    expect(fixture.devDependencies.typescript).toBe("~5.9.3");
  });
});
