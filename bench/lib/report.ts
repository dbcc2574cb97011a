/** Renders BENCHMARKS.md from the results. Pure: the caller reads the previous report for its notes. */
import type { InstallSide, Measured, Results } from "./results";
import { ratio } from "./stats";
import { defaultReleases, RELEASE_TARGETS, releaseSection } from "./release";
import { type Column, formatBytes, formatMiB, formatMs, formatRatio, formatSeconds, formatSummary, markdownTable, verdict } from "./table";

export const NOTES_BEGIN = "<!-- notes:begin (kept when the bench rewrites this file) -->";
export const NOTES_END = "<!-- notes:end -->";

export const TARGETS = {
  /** ours / baseline, median wall time of the default project's synth. */
  synthTimeRatio: 0.03,
  /** ours / baseline, median peak RSS of the process tree. */
  synthMemoryRatio: 0.15,
  scaffoldMs: 500,
  perStackMs: 20,
  /** ours / baseline, median bytes under node_modules after a fresh `npm install`. */
  installBytesRatio: 0.6,
  /** ours / baseline, median wall time of that install (cold cache). */
  installTimeRatio: 0.7,
} as const;

/** ours / baseline of the install footprint's medians: bytes, packages, wall time, CPU. */
export function installRatios(install: NonNullable<Results["install"]>): {
  bytes?: number;
  packages?: number;
  wallMs?: number;
  cpuMs?: number;
} {
  const { ours: o, baseline: b } = install;
  return {
    bytes: ratio(o.bytes.median, b.bytes.median),
    packages: ratio(o.packages.median, b.packages.median),
    wallMs: ratio(o.measured.wallMs.median, b.measured.wallMs.median),
    cpuMs: ratio(o.measured.cpuMs.median, b.measured.cpuMs.median),
  };
}

/** The hand-written notes between the markers of a previous report, or "" when there are none. */
export function extractNotes(markdown: string): string {
  const begin = markdown.indexOf(NOTES_BEGIN);
  const end = markdown.indexOf(NOTES_END);
  if (begin < 0 || end < begin) return "";
  return markdown.slice(begin + NOTES_BEGIN.length, end).trim();
}

const time = (m: Measured): string => formatSummary(m.wallMs, formatSeconds);
const cpu = (m: Measured): string => formatSummary(m.cpuMs, formatSeconds);
const tree = (m: Measured): string => formatSummary(m.treeRssKib, formatMiB);
const largest = (m: Measured): string => formatSummary(m.maxRssKib, formatMiB);
const R: Column = { header: "", align: "right" };
const col = (header: string, align: "left" | "right" = "right"): Column => ({ ...R, header, align });

export interface Verdict {
  readonly target: string;
  readonly limit: string;
  readonly measured: string;
  readonly verdict: string;
}

/** Each target against what this run measured ("not measured" when its section did not run). */
export function verdicts(results: Results): Verdict[] {
  const out: Verdict[] = [];
  const pairs = results.synth?.pairs ?? [];
  // The target is about what users type (`npm run synth`, README and help); the other pairs are context.
  for (const pair of pairs) {
    if (pair.name !== "npm run synth") continue;
    const t = pair.ours && pair.baseline ? ratio(pair.ours.wallMs.median, pair.baseline.wallMs.median) : undefined;
    const m = pair.ours && pair.baseline ? ratio(pair.ours.treeRssKib.median, pair.baseline.treeRssKib.median) : undefined;
    out.push(
      {
        target: `synth wall time, \`${pair.name}\`, ours/baseline`,
        limit: `<= ${TARGETS.synthTimeRatio}x`,
        measured: formatRatio(t),
        verdict: verdict(t, TARGETS.synthTimeRatio),
      },
      {
        target: `synth peak RSS (tree), \`${pair.name}\`, ours/baseline`,
        limit: `<= ${TARGETS.synthMemoryRatio}x`,
        measured: formatRatio(m),
        verdict: verdict(m, TARGETS.synthMemoryRatio),
      },
    );
  }
  if (pairs.length === 0) {
    out.push({
      target: "synth, ours/baseline",
      limit: `<= ${TARGETS.synthTimeRatio}x time, <= ${TARGETS.synthMemoryRatio}x memory`,
      measured: "n/a",
      verdict: "not measured",
    });
  }
  const scaffold = results.scaffold?.measured.wallMs.median;
  out.push({
    target: "scaffold wall time (median)",
    limit: `< ${formatSeconds(TARGETS.scaffoldMs)}`,
    measured: scaffold === undefined ? "n/a" : formatSeconds(scaffold),
    verdict: verdict(scaffold, TARGETS.scaffoldMs),
  });
  const slope = results.scaling?.wallFit.slope;
  out.push({
    target: "synth time per added stack (least squares)",
    limit: `< ${formatMs(TARGETS.perStackMs)}`,
    measured: slope === undefined ? "n/a" : formatMs(slope),
    verdict: verdict(slope, TARGETS.perStackMs),
  });
  const install = results.install ? installRatios(results.install) : undefined;
  out.push(
    {
      target: "install footprint, bytes in node_modules, ours/baseline",
      limit: `<= ${TARGETS.installBytesRatio}x`,
      measured: formatRatio(install?.bytes),
      verdict: verdict(install?.bytes, TARGETS.installBytesRatio),
    },
    {
      target: "install wall time (cold cache), ours/baseline",
      limit: `<= ${TARGETS.installTimeRatio}x`,
      measured: formatRatio(install?.wallMs),
      verdict: verdict(install?.wallMs, TARGETS.installTimeRatio),
    },
  );
  // The release model's targets (computed, so always "measured"): default production, 3 instances.
  const production = defaultReleases().find((f) => f.name === "production")!.timeline;
  const full = production.fullAt / 60;
  out.push(
    {
      target: `release model: a good release of default production (${RELEASE_TARGETS.productionCapacity} instances) at 100 %`,
      limit: `<= ${RELEASE_TARGETS.fullMinutes} min`,
      measured: `${full.toFixed(1)} min`,
      verdict: full <= RELEASE_TARGETS.fullMinutes ? "met" : "MISSED",
    },
    {
      target: "release model: a release answering 5 % 5xx, instances that served it, rolled back before the bake ends",
      limit: "<= 1, yes",
      measured: `${production.erroring.worstInstances}, ${production.erroring.rolledBackAt !== undefined && production.erroring.rolledBackAt < production.completeAt ? "yes" : "no"}`,
      verdict:
        production.erroring.worstInstances <= 1 && (production.erroring.rolledBackAt ?? Infinity) < production.completeAt
          ? "met"
          : "MISSED",
    },
  );
  return out;
}

function machineSection(r: Results): string {
  const m = r.machine;
  const rows: string[][] = [
    ["CPUs (available parallelism)", String(m.cpus)],
    ["CPU", m.cpuModel],
    ["Memory", `${m.memoryGiB} GiB`],
    ["OS", m.os],
    ["Node", m.node],
    ["npm", m.npm],
    ["Terraform", m.terraform],
    ...Object.entries(m.packages).map(([name, v]) => [name, v]),
  ];
  return markdownTable([col("machine", "left"), col("", "left")], rows);
}

function synthSection(r: Results): string {
  const synth = r.synth;
  if (!synth) return "_Not run (`--only` without synth or baseline)._\n";
  const rows = synth.pairs.map((pair) => {
    const o = pair.ours;
    const b = pair.baseline;
    return [
      `\`${pair.name}\``,
      o ? time(o) : "—",
      b ? time(b) : "—",
      o && b ? formatRatio(ratio(o.wallMs.median, b.wallMs.median)) : "—",
      o ? tree(o) : "—",
      b ? tree(b) : "—",
      o && b ? formatRatio(ratio(o.treeRssKib.median, b.treeRssKib.median)) : "—",
      o ? largest(o) : "—",
      b ? largest(b) : "—",
      o && b ? formatRatio(ratio(o.maxRssKib.median, b.maxRssKib.median)) : "—",
    ];
  });
  const table = markdownTable(
    [
      col("command", "left"),
      col("ours: time"),
      col("baseline: time"),
      col("time ratio"),
      col("ours: RSS tree"),
      col("baseline: RSS tree"),
      col("RSS tree ratio"),
      col("ours: RSS largest process"),
      col("baseline: RSS largest process"),
      col("largest ratio"),
    ],
    rows,
  );
  const c = r.commands;
  const find = (name: string) => synth.pairs.find((pair) => pair.name === name);
  const cli = find("cdktf synth");
  const app = find("app command");
  let floor = "";
  if (cli?.ours && cli.baseline && app?.ours) {
    // cdktf-cli's own cost, the same on both sides, bounds the ratio of `cdktf synth` from below.
    const overheadMs = cli.ours.wallMs.median - app.ours.wallMs.median;
    const overheadKib = cli.ours.treeRssKib.median - app.ours.treeRssKib.median;
    floor =
      `\n\ncdktf-cli itself adds ${formatSeconds(overheadMs)} and ${formatMiB(overheadKib)} (ours: \`cdktf synth\` minus the app alone), ` +
      `the same on both sides; so \`cdktf synth\` cannot go below ${formatRatio(ratio(overheadMs, cli.baseline.wallMs.median))} of the baseline's time ` +
      `or ${formatRatio(ratio(overheadKib, cli.baseline.treeRssKib.median))} of its memory, whatever the app does.`;
  }
  const identity =
    synth.identical === undefined
      ? "Outputs not compared (both sides are needed)."
      : synth.identical
        ? "Both sides synthesized **byte-identical** `cdktf.out/stacks/*/cdk.tf.json` and `manifest.json` from the same config before the timed runs."
        : `**The outputs differ** (${(synth.differing ?? []).join(", ")}): the ratios compare different stacks.`;
  return [
    "Pairs, run alternately (ours, baseline, ours, ...):",
    "",
    `- \`npm run synth\`: ours runs \`${c.oursNpmSynth}\` (the generated package.json); the baseline runs \`${c.baselineNpmSynth}\` (the cdktf-init package.json).`,
    "- `cdktf synth`: the same cdktf-cli on both sides; it runs each project's cdktf.json `app`.",
    `- \`app command\`: the cdktf.json \`app\` alone, through \`sh -c\`: ours \`${c.oursApp}\`, the baseline \`${c.baselineApp}\`.`,
    "",
    table,
    "CPU time (user + system of the whole tree), which other load on the machine disturbs less than wall time:",
    "",
    markdownTable(
      [col("command", "left"), col("ours: CPU"), col("baseline: CPU"), col("CPU ratio")],
      synth.pairs.map((pair) => [
        `\`${pair.name}\``,
        pair.ours ? cpu(pair.ours) : "—",
        pair.baseline ? cpu(pair.baseline) : "—",
        pair.ours && pair.baseline ? formatRatio(ratio(pair.ours.cpuMs.median, pair.baseline.cpuMs.median)) : "—",
      ]),
    ),
    identity +
      (synth.baselineRewrittenImports !== undefined
        ? ` The baseline's copy of stacks/ had ${synth.baselineRewrittenImports} deep imports rewritten to the barrel.`
        : "") +
      floor,
    "",
  ].join("\n");
}

function scalingSection(r: Results): string {
  const s = r.scaling;
  if (!s) return "_Not run._\n";
  const table = markdownTable(
    [col("stacks"), col("wall time"), col("CPU time"), col("RSS largest process"), col("RSS tree")],
    s.points.map((pt) => [String(pt.stacks), time(pt.measured), cpu(pt.measured), largest(pt.measured), tree(pt.measured)]),
  );
  const marginal = s.points.slice(1).map((pt, i) => {
    const prev = s.points[i];
    const ms = (pt.measured.wallMs.median - prev.measured.wallMs.median) / (pt.stacks - prev.stacks);
    return `${prev.stacks} → ${pt.stacks}: ${formatMs(ms)} per stack`;
  });
  return [
    `\`${s.command}\` with \`IMMUTABLE_CONFIG\` naming a config with N environments (copies of the default project's first one, named env-01...), one stack each.`,
    "",
    table,
    `Each added stack costs **${formatMs(s.wallFit.slope)}** of wall time (${formatMs(s.cpuFit.slope)} of CPU) and ${formatMiB(s.rssFit.slope)} ` +
      `(least squares over the medians; fixed cost ${formatSeconds(s.wallFit.intercept)}). Wall time between points: ${marginal.join("; ")}.`,
    "",
  ].join("\n");
}

function terraformSection(r: Results): string {
  const t = r.terraform;
  if (!t) return "_Not run._\n";
  return [
    "Each stack of the default project, synthesized once, run by terraform with the provider from the local filesystem mirror and injected fake credentials (an override file, bench only). `init` starts from no `.terraform` each run.",
    "",
    markdownTable(
      [col("stack", "left"), col("terraform init"), col("terraform validate"), col("terraform plan")],
      t.stacks.map((s) => [s.stack, time(s.init), time(s.validate), time(s.plan)]),
    ),
  ].join("\n");
}

function dependencyList(side: InstallSide): string {
  const list = (group: Readonly<Record<string, string>>): string =>
    Object.entries(group)
      .map(([name, range]) => `\`${name}@${range}\``)
      .join(", ") || "none";
  return `dependencies ${list(side.dependencies)}; devDependencies ${list(side.devDependencies)}`;
}

function installSection(r: Results): string {
  const install = r.install;
  if (!install) return "_Not run._\n";
  const { ours: o, baseline: b } = install;
  const x = installRatios(install);
  const bytes = (s: InstallSide): string => formatSummary(s.bytes, formatBytes);
  const packages = (s: InstallSide): string => formatSummary(s.packages, (n) => String(Math.round(n)));
  const table = markdownTable(
    [col("", "left"), col("install wall time"), col("install CPU"), col("RSS tree"), col("node_modules"), col("packages")],
    [
      ["ours", time(o.measured), cpu(o.measured), tree(o.measured), bytes(o), packages(o)],
      ["baseline (cdktf init)", time(b.measured), cpu(b.measured), tree(b.measured), bytes(b), packages(b)],
      [
        "ours/baseline",
        formatRatio(x.wallMs),
        formatRatio(x.cpuMs),
        formatRatio(ratio(o.measured.treeRssKib.median, b.measured.treeRssKib.median)),
        formatRatio(x.bytes),
        formatRatio(x.packages),
      ],
    ],
  );
  const total = o.bytes.median;
  const largest =
    o.largest.length === 0
      ? "_No packages under ours' node_modules._\n"
      : markdownTable(
          [col("package (ours)", "left"), col("size"), col("share of node_modules")],
          o.largest.map((pkg) => [
            `\`${pkg.name}\``,
            formatBytes(pkg.bytes),
            total > 0 ? `${((100 * pkg.bytes) / total).toFixed(1)}%` : "n/a",
          ]),
        );
  return [
    `Each side in a fresh empty directory, installed with \`${install.command}\`, the sides alternately (ours, baseline, ours, ...). ` +
      "**Cold cache**: every run gets an empty npm cache of its own, and there is no package-lock.json, so npm resolves every " +
      "version and downloads every tarball from the registry, as on a new machine; the time includes the network and " +
      "varies with it. Before each run (unmeasured) node_modules, package-lock.json and the cache are removed.",
    "",
    `- ours: the package.json that \`create-immutable-app bench-app --yes --no-install --no-git\` writes (read at run time): ${dependencyList(o)}.`,
    `- baseline: \`bench/fixtures/install-baseline/package.json\`, what \`cdktf init --template=typescript\` and \`cdktf provider add aws\` leave (template and hook cited in \`bench/lib/install.ts\`): ${dependencyList(b)}.`,
    "",
    table,
    "node_modules: the sum of the sizes of every regular file and symlink under it (lstat, links not followed), in MiB; " +
      "packages: the entries of npm's `node_modules/.package-lock.json`, nested and bundled ones included (cdktf bundles its own dependencies).",
    "",
    "Where ours' bytes go, the 10 largest packages at the top of node_modules (each with its own nested node_modules):",
    "",
    largest,
  ].join("\n");
}

export function renderReport(r: Results, notes: string): string {
  const v = verdicts(r);
  const scaffold = r.scaffold
    ? `\`create-immutable-app bench-app --yes --no-install --no-git\` into a fresh directory (${r.scaffold.files} files written):\n\n` +
      markdownTable(
        [col("wall time"), col("RSS largest process"), col("RSS tree")],
        [[time(r.scaffold.measured), largest(r.scaffold.measured), tree(r.scaffold.measured)]],
      )
    : "_Not run._\n";
  return `# Benchmarks

Generated by \`npm run bench\` on ${r.date.slice(0, 10)} (${r.date}). Every number is from that run; the
notes section is written by hand and kept when the bench rewrites this file.
${r.quick ? "\n**Quick run (`--quick`): one run per command, no warm-up. Smoke test only, not for comparison.**\n" : ""}
${machineSection(r)}
Load average (1 min) when the run started: ${r.load.start.toFixed(2)}, when it ended: ${r.load.end.toFixed(2)}, on ${r.machine.cpus} CPUs.
Other work on the machine inflates wall times; CPU times are shown beside them.

Each command ran ${r.warmup} time(s) unmeasured, then ${r.runs} measured time(s); cells are **median (min–max)**.

## Targets

${markdownTable(
  [col("target", "left"), col("limit"), col("measured"), col("verdict", "left")],
  v.map((x) => [x.target, x.limit, x.measured, x.verdict]),
)}
## Scaffold

${scaffold}
## Synth of the default project: ours against the cdktf-init way

${synthSection(r)}
## Install footprint: ours against the cdktf-init way

${installSection(r)}
## Scaling with the number of stacks

${scalingSection(r)}
## Terraform per stack

${terraformSection(r)}
## Release model: default staging and production

${releaseSection()}
## Notes

${NOTES_BEGIN}
${notes}
${NOTES_END}

## What is measured

- **Whole processes**, as a user starts them: each command is spawned (through \`sh -c\` where it is a
  shell command line) under \`/usr/bin/time\`, with no update checks or telemetry
  (\`CHECKPOINT_DISABLE=1\`, \`npm_config_update_notifier=false\`) and terraform's CLI config pointing
  at the offline mirror.
- **Wall time**: from spawn to exit, monotonic clock of the bench process.
- **RSS tree**: the peak of the *sum* of the resident sets of every process of the tree (npm, sh,
  cdktf-cli, npx, the app, terraform and its provider), sampled from \`/proc\` every 20 ms. Pages shared
  between processes (the node binary) count once per process. The synth targets are judged on this.
- **RSS largest process**: GNU time's \`%M\` (the kernel's \`ru_maxrss\` over the waited-for tree),
  the peak of the largest single process, exact but blind to the others.
- Ratios are ours/baseline of the medians, pair by pair; the pairs run alternately so both sides see
  the same machine state.

## The baseline

\`bench/fixtures/baseline/\` holds what \`cdktf init --template typescript\` (cdktf-cli ${r.machine.packages["cdktf-cli"] ?? ""})
writes that matters to synth: its \`tsconfig.json\`, its \`package.json\` scripts
(\`"synth": "cdktf synth"\`) and a \`cdktf.json\` whose app is \`npx ts-node main.ts\` (type-checking,
as the template does). The tsconfig is the template's except \`target\` and \`lib\`, taken from the
project at bench time: the stacks call ES2022 library functions (\`Object.hasOwn\`) that the template's
ES2018 does not declare; the type-checking work is the same. At bench time \`.bench/baseline/\` is assembled from that fixture and the
scaffolded project's own \`main.ts\`, \`immutable.config.json\` and \`stacks/\`, with every deep import
rewritten to the barrel, the way the cdktf docs and \`cdktf init\` projects write it:

\`\`\`ts
// ours (stacks/fleet.ts)
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
// baseline (generated from it)
import { launchTemplate as aws_launchTemplate } from "@cdktf/provider-aws";
import LaunchTemplate = aws_launchTemplate.LaunchTemplate;
\`\`\`

So the baseline never drifts from the stacks: same constructs, same config, same resources; the bench
checks that both synthesize byte-identical JSON before timing. The only differences are the import
style (the barrel loads and type-checks all ~2,100 resource modules of the provider) and the app
command (ts-node with type-checking instead of tsx without). ts-node ${r.machine.packages["ts-node"] ?? ""} is installed once into
\`.bench/baseline/node_modules\` (\`npm install --no-save\`); cdktf, the provider, typescript and the
\`@types\` packages resolve from this repository's \`node_modules\` one level up, which is where Node
and TypeScript look next.

## How to reproduce

\`\`\`sh
npm ci
npm run bench                          # everything, 1 warm-up + 5 runs: writes BENCHMARKS.md
npm run bench -- --quick               # 1 run each, a smoke test: writes .bench/BENCHMARKS.md
npm run bench -- --only synth,baseline --runs 3
npm run bench -- --only install --runs 1 --warmup 0   # the install footprint alone, once each side
npm run bench -- --help
\`\`\`

Needs GNU time (\`/usr/bin/time\`), terraform and the AWS provider in a filesystem mirror
(\`IMMUTABLE_TF_MIRROR\`, default \`/opt/tf-plugins\`), and npm registry access: once for ts-node, and for
every run of the install section (\`--only\` without \`install\` skips it).
Raw samples: \`.bench/results.json\`. The numbers depend on the machine; compare ratios, not seconds.
`;
}
