/**
 * The local VM section (issue 22), run on its own: `node --import tsx bench/lib/local-vm.ts [--cold]`.
 * Measures, on this machine and its accelerator (KVM when it works, else TCG):
 *   - base disk: debootstrap-base.sh into a fresh folder (cold; with --cold only, it downloads from
 *     Debian's mirror) and the check of an existing one (cached);
 *   - local bake of the test project (busybox app from a local registry): with an empty apt cache
 *     (cold) and again with the packages the first bake fetched (cached);
 *   - boot to healthy: a fresh boot of the baked image with the staging user data until its health
 *     check answers through the forwarded port, twice (the first after the bake: cold page cache).
 * Needs root and what __tests__/local-vm-e2e.test.ts needs. Writes .bench/local-vm.json and prints a
 * Markdown table. Not part of `npm run bench`: one run takes half an hour under TCG.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EmulatedAws } from "../../__tests__/support/emulated-aws";
import { bootLocalVmProject, LOCAL_VM_REGION, prepareLocalVmProject } from "../../__tests__/support/local-vm";
import { baseDiskState, debootstrapBaseDisk } from "../../managed/local-vm/base-disk";
import { bakeLocal } from "../../managed/local-vm/bake";
import { detectAccelerator } from "../../managed/local-vm/vm";

const REPO = resolve(__dirname, "..", "..");

function seconds(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

async function main(): Promise<void> {
  const cold = process.argv.includes("--cold");
  const work = mkdtempSync(join(tmpdir(), "cia-bench-vm-"));
  const results: Record<string, number | string> = {};
  try {
    const baseDir = cold ? join(work, "base") : join(REPO, ".local-vm", "base-debian-12");
    if (cold || baseDiskState(baseDir) !== "ready") {
      const t = Date.now();
      const built = spawnSync("bash", [join(REPO, "managed", "local-vm", "debootstrap-base.sh"), baseDir], { stdio: "inherit" });
      if (built.status !== 0) throw new Error("debootstrap-base.sh failed");
      results["base disk, cold (s)"] = seconds(t);
    }
    const t = Date.now();
    const base = debootstrapBaseDisk(baseDir);
    results["base disk, cached (s)"] = seconds(t);
    results.accelerator = detectAccelerator(base);

    const project = await prepareLocalVmProject(work, { GREETING: "bench" }, []);
    const { packerDir } = project;
    const aptCache = join(work, "apt-cache");
    let image = "";
    for (const label of ["cold", "cached"]) {
      const baked = await bakeLocal({ packerDir, base, outputDir: join(work, `baked-${label}`), aptCacheDir: aptCache });
      results[`local bake, ${label} apt cache (s)`] = Math.round(baked.seconds * 10) / 10;
      image = baked.image;
    }
    project.registry.stop();
    const aws = await EmulatedAws.start();
    aws.aws(LOCAL_VM_REGION, ["ssm", "put-parameter", "--name", "/shop/staging/config/GREETING", "--type", "String", "--value", "bench"]);
    const awsPort = Number(new URL(aws.url).port);
    for (const label of ["first", "second"]) {
      const boot = await bootLocalVmProject(project, image, base, awsPort, join(work, `boot-${label}`));
      results[`boot to healthy, ${label} boot (s)`] = Math.round(boot.secondsToHealthy * 10) / 10;
      await boot.stop();
    }
    await aws.stop();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(join(REPO, ".bench"), { recursive: true });
  writeFileSync(join(REPO, ".bench", "local-vm.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("| Local VM | Value |\n| --- | --- |");
  for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v} |`);
}

main().catch((error) => {
  console.error(`bench local-vm: ${(error as Error).message}`);
  process.exitCode = 1;
});
