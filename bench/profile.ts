/**
 * `node --import tsx bench/profile.ts <file.cpuprofile>... [--root DIR] [--top N]`: where the time of a
 * `node --cpu-prof` run went, by package (self time) and by function (inclusive).
 */
import { readFileSync } from "node:fs";
import { type CpuProfile, summarizeProfile } from "./lib/cpuprofile";
import { markdownTable } from "./lib/table";

const args = process.argv.slice(2);
let root = process.cwd();
let top = 15;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--root") root = args[++i];
  else if (args[i] === "--top") top = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  process.stderr.write("usage: node --import tsx bench/profile.ts <file.cpuprofile>... [--root DIR] [--top N]\n");
  process.exit(2);
}
for (const file of files) {
  const s = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, { root, top });
  const rows = (list: typeof s.byLocation) => list.map((r) => [r.key, r.ms.toFixed(1), `${(r.share * 100).toFixed(1)}%`]);
  process.stdout.write(`## ${file}: ${s.totalMs.toFixed(0)} ms sampled\n\nSelf time by location:\n\n`);
  process.stdout.write(
    markdownTable([{ header: "location" }, { header: "ms", align: "right" }, { header: "share", align: "right" }], rows(s.byLocation)),
  );
  process.stdout.write("\nInclusive time by function:\n\n");
  process.stdout.write(
    markdownTable(
      [{ header: "function (location)" }, { header: "ms", align: "right" }, { header: "share", align: "right" }],
      rows(s.inclusive),
    ),
  );
  process.stdout.write("\n");
}
