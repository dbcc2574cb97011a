/**
 * What the CLI tells the user around the write: the summary to confirm (interactive runs), the list
 * of what was created, and the next steps (help/next-steps.txt). Pure: text in, text out.
 */
import { basename } from "node:path";
import Handlebars from "handlebars";
import type { EnvironmentConfig } from "../managed/config";
import type { Palette } from "./colour";
import type { ProjectModel } from "./model";
import { installCommand, runScript } from "./package-manager";
import type { Sources } from "./package-files";
import type { FileMap } from "./render";
import type { WritePlan } from "./write";

/** Quotes a path for the shell only when it needs it. */
export function shellWord(text: string): string {
  // `cd -x` would read the directory as an option: a relative path starting with - gets ./ in front.
  const path = text.startsWith("-") ? `./${text}` : text;
  return /^[A-Za-z0-9_./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}

/** The answers, where the project goes and how many files, shown before "Create the project?". */
export function confirmationSummary(model: ProjectModel, files: FileMap, plan: WritePlan, colour: Palette): string {
  const { config } = model;
  const network =
    config.network.mode === "new"
      ? `a new VPC, ${config.network.cidr} over ${config.network.azCount} zones`
      : `the existing VPC ${config.network.vpcId} (public ${config.network.publicSubnetIds.join(", ")}; private ${config.network.privateSubnetIds.join(", ")})`;
  const after = [...(model.install ? [installCommand(model.packageManager)] : []), ...(model.git ? ["git init and a first commit"] : [])];
  const rows: Array<[string, string]> = [
    ["App name", `${config.appName}, in ${config.region}`],
    ["Environments", environments(config.environments)],
    ["App", `port ${config.appPort}, health check ${config.healthCheckPath}`],
    ["Image", model.dockerfile ? "built by CI from app/ (Dockerfile)" : config.image.containerImage],
    ["HTTPS", config.certificateArn ?? "no (plain HTTP)"],
    ["Network", network],
    ["Config", Object.keys(config.config).length > 0 ? `${Object.keys(config.config).join(", ")} (SSM String parameters)` : "none"],
    ["Secrets", config.secrets.length > 0 ? `${config.secrets.join(", ")} (names only; values are set out of band)` : "none"],
    ["Then", after.length > 0 ? after.join("; ") : "nothing (no install, no git)"],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const where =
    plan.mode === "merge"
      ? `${plan.targetDir}, beside its files (--force): ${plan.replaced.length} replaced${plan.backups.size > 0 ? `, old contents kept as <file>.orig` : ""}`
      : `${plan.targetDir} (${plan.mode === "new" ? "a new directory" : "an empty directory"})`;
  return [
    "",
    colour.bold("Summary"),
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`),
    "",
    colour.bold(`Writes ${files.size} files to ${where}`),
    "",
  ].join("\n");
}

/** `staging, production: t3.small, 2 to 4 instances each`, or one entry per environment when they differ. */
function environments(envs: readonly EnvironmentConfig[]): string {
  const shape = (e: EnvironmentConfig): string => `${e.instanceType}, ${e.minCapacity} to ${e.maxCapacity} instances`;
  if (envs.every((e) => shape(e) === shape(envs[0]))) {
    return `${envs.map((e) => e.name).join(", ")}: ${shape(envs[0])}${envs.length > 1 ? " each" : ""}`;
  }
  return envs.map((e) => `${e.name} (${shape(e)})`).join("; ");
}

/**
 * Legal values that are probably not what was meant, one line each, naming the flag (or file field) as
 * the errors do: an environment with no instance at its minimum serves nothing until it is scaled up.
 */
export function riskyValues(model: ProjectModel, subjectOf: (field: string) => string): string[] {
  return model.config.environments.flatMap((env, i) =>
    env.minCapacity === 0
      ? [
          `${subjectOf(`environments[${i}].minCapacity`)}: ${env.name} keeps no instance running at its minimum (0): nothing serves the app until its group is scaled up; give 1 or more unless that is what you want`,
        ]
      : [],
  );
}

/** "Created shop (64 files):", by top-level entry, and every file --force replaced. */
export function printCreated(out: (t: string) => void, files: FileMap, plan: WritePlan, dir: string): void {
  const groups = new Map<string, number>();
  for (const path of files.keys()) {
    const top = path.includes("/") ? `${path.split("/")[0]}/` : path;
    groups.set(top, (groups.get(top) ?? 0) + 1);
  }
  out(`Created ${dir === "." ? `${basename(plan.targetDir)} (this directory)` : dir} (${files.size} files):\n`);
  for (const [top, count] of groups) out(`  ${top}${count > 1 || top.endsWith("/") ? ` (${count} file${count === 1 ? "" : "s"})` : ""}\n`);
  const { replaced, backups } = plan;
  if (replaced.length > 0) {
    // Only the files whose contents changed are named; the ones rewritten identically are counted.
    const changed = replaced.filter((p) => backups.has(p));
    const same = replaced.length - changed.length;
    out(
      `Replaced ${replaced.length} existing file(s) (--force)` +
        `${changed.length > 0 ? `; ${changed.length} changed, their old contents kept:\n${changed.map((p) => `  ${p} (old contents kept as ${backups.get(p)})\n`).join("")}` : ":\n"}` +
        `${same > 0 ? `  ${same} unchanged (the same contents as before)\n` : ""}`,
    );
  }
}

/**
 * help/next-steps.txt, filled in: the commands (in the project's package manager's syntax) padded to
 * one column so that their comments line up, coloured when the terminal allows.
 * @param installed whether the install step ran and succeeded (otherwise its command is listed)
 */
export function nextSteps(sources: Sources, model: ProjectModel, dir: string, installed: boolean, colour: Palette): string {
  const pm = model.packageManager;
  const commands = {
    install: installCommand(pm),
    synth: runScript(pm, "synth"),
    imageBuild: runScript(pm, "image:build"),
    deploy: runScript(pm, "deploy", model.config.environments[0].name),
  };
  const shown = Object.entries(commands)
    .filter(([key]) => key !== "install" || !installed)
    .map(([, command]) => command);
  const width = Math.max(...shown.map((c) => c.length)) + 3;
  const padded = Object.fromEntries(
    Object.entries(commands).map(([key, command]) => [key, colour.cyan(command) + " ".repeat(width - command.length)]),
  );
  const template = Handlebars.compile(sources.help["next-steps"] ?? "", { noEscape: true, strict: true });
  return template({
    ...padded,
    cd: dir === "." ? "" : colour.cyan(`cd ${shellWord(dir)}`),
    installed,
    installNote: model.install ? "the install failed above" : "the install was skipped (--no-install)",
  });
}
