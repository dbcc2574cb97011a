/**
 * The package manager of a generated project: npm, pnpm, Yarn or Bun. It follows the one that ran the
 * CLI (`npx`, `pnpm create`, `yarn create`, `bun create` set npm_config_user_agent), unless a
 * --use-<pm> flag chooses; npm when neither says. Each manager's commands live here, in one table, for
 * the install step, the next steps and (through the template view's `pm`) the README and CI workflows.
 */

export const PACKAGE_MANAGERS = ["npm", "pnpm", "yarn", "bun"] as const;

export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

export const DEFAULT_PACKAGE_MANAGER: PackageManager = "npm";

/** The cdktf-cli this package is tested with (its own devDependency; a test keeps the two equal). */
export const CDKTF_CLI_VERSION = "0.21.0";

interface Commands {
  /** Installs the dependencies and writes the lockfile (the first install, in a new project). */
  readonly install: readonly string[];
  /** Installs exactly what the lockfile says and fails if it is out of date (CI). */
  readonly ciInstall: readonly string[];
  /** Installs only `dependencies` from the lockfile (CI's deploy jobs: no type-checker, no test tools). */
  readonly ciInstallProduction: readonly string[];
  /**
   * Runs a binary of a package fetched on demand into the manager's cache, not the project's
   * dependencies: `<dlx...> <package spec> <bin> <args>`.
   */
  readonly dlx: (spec: string) => readonly string[];
  /** npm passes arguments to a script only after `--`; the others pass them on as they are. */
  readonly scriptArgsSeparator: boolean;
}

// The on-demand runners, as each manager documents them: `npx --package=<spec> <bin>` (npm exec),
// `pnpm --package=<spec> dlx <bin>`, `bunx -p <spec> <bin>`; Yarn's dlx does not fit (see yarn).
const COMMANDS: Readonly<Record<PackageManager, Commands>> = {
  npm: {
    install: ["npm", "install"],
    ciInstall: ["npm", "ci"],
    ciInstallProduction: ["npm", "ci", "--omit=dev"],
    dlx: (spec) => ["npx", "--yes", `--package=${spec}`],
    scriptArgsSeparator: true,
  },
  pnpm: {
    install: ["pnpm", "install"],
    ciInstall: ["pnpm", "install", "--frozen-lockfile"],
    ciInstallProduction: ["pnpm", "install", "--frozen-lockfile", "--prod"],
    dlx: (spec) => ["pnpm", `--package=${spec}`, "dlx"],
    scriptArgsSeparator: false,
  },
  // --immutable is Yarn 2+ (Berry), which corepack installs; Yarn 1 spells it --frozen-lockfile. Yarn
  // has no production-only install short of `workspaces focus` (a plugin before Yarn 4): it installs all.
  yarn: {
    install: ["yarn", "install"],
    ciInstall: ["yarn", "install", "--immutable"],
    ciInstallProduction: ["yarn", "install", "--immutable"],
    // yarn dlx runs a package in a throwaway project of its own, where cdktf-cli finds neither the
    // project's cdktf nor its peers: npx, which comes with Node.js, runs it in the project instead.
    dlx: (spec) => ["npx", "--yes", `--package=${spec}`],
    scriptArgsSeparator: false,
  },
  bun: {
    install: ["bun", "install"],
    ciInstall: ["bun", "install", "--frozen-lockfile"],
    ciInstallProduction: ["bun", "install", "--frozen-lockfile", "--production"],
    dlx: (spec) => ["bunx", "-p", spec],
    scriptArgsSeparator: false,
  },
};

export function isPackageManager(value: string): value is PackageManager {
  return (PACKAGE_MANAGERS as readonly string[]).includes(value);
}

/**
 * The package manager named first in npm_config_user_agent ("pnpm/9.1.0 npm/? node/v20.11.0 linux x64"),
 * or undefined when it names none of ours (or is unset: the CLI was started with node directly).
 */
export function packageManagerFromUserAgent(userAgent: string | undefined): PackageManager | undefined {
  const name = /^\s*([a-z]+)\//.exec(userAgent ?? "")?.[1];
  return name !== undefined && isPackageManager(name) ? name : undefined;
}

/** The install step's command and arguments, for spawn. */
export function installArgv(pm: PackageManager): readonly string[] {
  return COMMANDS[pm].install;
}

/** `npm install`, `pnpm install`, ... */
export function installCommand(pm: PackageManager): string {
  return COMMANDS[pm].install.join(" ");
}

/** `npm ci`, `pnpm install --frozen-lockfile`, `yarn install --immutable`, `bun install --frozen-lockfile`. */
export function ciInstallCommand(pm: PackageManager): string {
  return COMMANDS[pm].ciInstall.join(" ");
}

/** `npm ci --omit=dev`, `pnpm install --frozen-lockfile --prod`, ... */
export function ciInstallProductionCommand(pm: PackageManager): string {
  return COMMANDS[pm].ciInstallProduction.join(" ");
}

/**
 * cdktf-cli, which a generated project does not install (`npm run synth` does without it), run on
 * demand at the version this package was tested with: `npx --yes --package=cdktf-cli@0.21.0 cdktf deploy staging`.
 * It runs the project's cdktf.json `app`, the same command as `npm run synth`.
 */
export function cdktfCommand(pm: PackageManager, ...args: readonly string[]): string {
  return [...COMMANDS[pm].dlx(`cdktf-cli@${CDKTF_CLI_VERSION}`), "cdktf", ...args].join(" ");
}

/**
 * `npm run deploy -- staging`, `pnpm run deploy staging`, `yarn run deploy staging`, `bun run deploy staging`.
 * The arguments are put in as given (callers pass shell words or placeholders such as `<env>`).
 */
export function runScript(pm: PackageManager, script: string, ...args: readonly string[]): string {
  const words = [pm, "run", script];
  if (args.length > 0) words.push(...(COMMANDS[pm].scriptArgsSeparator ? ["--"] : []), ...args);
  return words.join(" ");
}

/**
 * What templates see as `pm`: `{{pm.install}}`, `{{pm.ciInstall}}`, `{{pm.ciInstallProduction}}`,
 * `{{pm.run "deploy" name}}`, `{{pm.cdktf "deploy" name}}`.
 */
export interface PackageManagerView {
  readonly name: PackageManager;
  readonly install: string;
  readonly ciInstall: string;
  readonly ciInstallProduction: string;
  /** Called by Handlebars with the template's arguments and, last, its options object (ignored). */
  readonly run: (script: string, ...args: unknown[]) => string;
  readonly cdktf: (...args: unknown[]) => string;
}

export function packageManagerView(pm: PackageManager): PackageManagerView {
  // Handlebars passes its options object as the last argument: keep only the template's own words.
  const words = (args: readonly unknown[]): string[] => args.filter((a) => typeof a === "string" || typeof a === "number").map(String);
  return {
    name: pm,
    install: installCommand(pm),
    ciInstall: ciInstallCommand(pm),
    ciInstallProduction: ciInstallProductionCommand(pm),
    run: (script, ...args) => runScript(pm, script, ...words(args)),
    cdktf: (...args) => cdktfCommand(pm, ...words(args)),
  };
}
