/**
 * argv -> flags. Every question of the generator has a flag; unknown flags, missing values and
 * malformed numbers are usage errors that name the flag.
 */
import { UsageError } from "./errors";
import { PACKAGE_MANAGERS, type PackageManager } from "./package-manager";

type FlagKind = "string" | "list" | "repeat" | "integer" | "boolean";

interface FlagSpec {
  readonly kind: FlagKind;
  /** `--no-<name>` is accepted (booleans only). */
  readonly negatable?: boolean;
  readonly short?: string;
}

/** Every flag the CLI accepts; help/usage.txt documents exactly these (a test keeps them in sync). */
export const FLAG_SPECS = {
  name: { kind: "string" },
  region: { kind: "string" },
  environments: { kind: "list" },
  "instance-type": { kind: "string" },
  min: { kind: "integer" },
  max: { kind: "integer" },
  port: { kind: "integer" },
  "health-path": { kind: "string" },
  image: { kind: "string" },
  dockerfile: { kind: "boolean", negatable: true },
  "certificate-arn": { kind: "string" },
  "vpc-cidr": { kind: "string" },
  "vpc-id": { kind: "string" },
  "public-subnets": { kind: "list" },
  "private-subnets": { kind: "list" },
  config: { kind: "repeat" },
  secret: { kind: "repeat" },
  "github-repo": { kind: "string" },
  "config-file": { kind: "string" },
  install: { kind: "boolean", negatable: true },
  git: { kind: "boolean", negatable: true },
  "use-npm": { kind: "boolean" },
  "use-pnpm": { kind: "boolean" },
  "use-yarn": { kind: "boolean" },
  "use-bun": { kind: "boolean" },
  yes: { kind: "boolean", short: "y" },
  "dry-run": { kind: "boolean" },
  force: { kind: "boolean" },
  help: { kind: "boolean", short: "h" },
  version: { kind: "boolean", short: "v" },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAG_SPECS;

/** Parsed command line. Absent flags are undefined, so that prompts and defaults can fill them. */
export interface Flags {
  readonly dir?: string;
  readonly name?: string;
  readonly region?: string;
  readonly environments?: readonly string[];
  readonly instanceType?: string;
  readonly min?: number;
  readonly max?: number;
  readonly port?: number;
  readonly healthPath?: string;
  readonly image?: string;
  readonly dockerfile?: boolean;
  readonly certificateArn?: string;
  readonly vpcCidr?: string;
  readonly vpcId?: string;
  readonly publicSubnets?: readonly string[];
  readonly privateSubnets?: readonly string[];
  /** `--config KEY=VALUE`, in order. */
  readonly config?: ReadonlyArray<readonly [string, string]>;
  readonly secrets?: readonly string[];
  /** `--github-repo owner/name`: the repository whose workflows deploy (the bootstrap stack trusts it). */
  readonly githubRepo?: string;
  /** The answers file and the flag it was given with (`--config-file`, or `--config` without `=`). */
  readonly configFile?: { readonly path: string; readonly flag: string };
  readonly install?: boolean;
  readonly git?: boolean;
  /** --use-npm, --use-pnpm, --use-yarn or --use-bun (at most one). */
  readonly packageManager?: PackageManager;
  readonly yes: boolean;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

const SHORT = new Map<string, FlagName>(
  (Object.entries(FLAG_SPECS) as Array<[FlagName, FlagSpec]>).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]),
);

/** `--config KEY=VALUE` when the value starts with a config key and `=`; otherwise an answers file. */
const CONFIG_PAIR = /^[^=\s]+=/;

export function parseArgs(argv: readonly string[]): Flags {
  const values = new Map<FlagName, unknown>();
  const positionals: string[] = [];
  const pairs: Array<[string, string]> = [];
  const secrets: string[] = [];
  let configFile: { path: string; flag: string } | undefined;

  const set = (name: FlagName, value: unknown): void => {
    if (values.has(name)) throw new UsageError(`--${name}`, "is given more than once");
    values.set(name, value);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      if (arg.length !== 2 || !SHORT.has(arg[1])) throw new UsageError(shown(arg), "is not a known option");
      name = SHORT.get(arg[1])!;
    }
    let negated = false;
    if (
      !Object.hasOwn(FLAG_SPECS, name) &&
      name.startsWith("no-") &&
      Object.hasOwn(FLAG_SPECS, name.slice(3)) &&
      (FLAG_SPECS as Record<string, FlagSpec>)[name.slice(3)].negatable
    ) {
      negated = true;
      name = name.slice(3);
    }
    // hasOwn: `--constructor` or `--__proto__` must not find Object.prototype's members.
    if (!Object.hasOwn(FLAG_SPECS, name)) {
      throw new UsageError(shown(`--${name}`), `is not a known option${suggest(name)}`);
    }
    const flag = name as FlagName;
    const spec: FlagSpec = FLAG_SPECS[flag];
    if (spec.kind === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${flag}`, `takes no value (got ${JSON.stringify(inline)})`);
      set(flag, !negated);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A negative number is the value of a number flag (and then refused as not a whole number), not a flag.
      const negativeNumber = spec.kind === "integer" && next !== undefined && /^-\d/.test(next);
      if (next === undefined || (next.startsWith("-") && next !== "-" && !negativeNumber))
        throw new UsageError(`--${flag}`, "needs a value");
      value = next;
      i++;
    }
    switch (spec.kind) {
      case "string":
        if (flag === "config-file") {
          if (configFile) throw new UsageError(`--${flag}`, `an answers file is already given with ${configFile.flag}`);
          configFile = { path: value, flag: "--config-file" };
        } else {
          set(flag, value);
        }
        break;
      case "integer":
        if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${flag}`, `must be a whole number, got ${JSON.stringify(value)}`);
        set(flag, Number(value));
        break;
      case "list": {
        const items = value.split(",").map((s) => s.trim());
        if (items.some((s) => s === ""))
          throw new UsageError(`--${flag}`, `has an empty entry in ${JSON.stringify(value)}; separate names with commas`);
        set(flag, items);
        break;
      }
      case "repeat":
        if (flag === "secret") {
          secrets.push(value);
        } else if (CONFIG_PAIR.test(value)) {
          const eq = value.indexOf("=");
          const key = value.slice(0, eq);
          if (pairs.some(([k]) => k === key)) throw new UsageError("--config", `${key} is given more than once`);
          pairs.push([key, value.slice(eq + 1)]);
        } else {
          // The issue's `--config answers.json`: a value without KEY= is the answers file.
          if (configFile) throw new UsageError("--config", `an answers file is already given with ${configFile.flag}`);
          configFile = { path: value, flag: "--config" };
        }
        break;
    }
  }
  if (positionals.length > 1) {
    throw new UsageError("[dir]", `only one target directory is accepted, got ${positionals.map((p) => JSON.stringify(p)).join(", ")}`);
  }
  const get = <T>(name: FlagName): T | undefined => values.get(name) as T | undefined;
  const chosen = PACKAGE_MANAGERS.filter((pm) => values.get(`use-${pm}`) === true);
  if (chosen.length > 1) {
    throw new UsageError(`--use-${chosen[1]}`, `cannot be combined with --use-${chosen[0]}; choose one package manager`);
  }
  return {
    dir: positionals[0],
    name: get("name"),
    region: get("region"),
    environments: get("environments"),
    instanceType: get("instance-type"),
    min: get("min"),
    max: get("max"),
    port: get("port"),
    healthPath: get("health-path"),
    image: get("image"),
    dockerfile: get("dockerfile"),
    certificateArn: get("certificate-arn"),
    vpcCidr: get("vpc-cidr"),
    vpcId: get("vpc-id"),
    publicSubnets: get("public-subnets"),
    privateSubnets: get("private-subnets"),
    config: pairs.length > 0 ? pairs : undefined,
    secrets: secrets.length > 0 ? secrets : undefined,
    githubRepo: get("github-repo"),
    configFile,
    install: get("install"),
    git: get("git"),
    packageManager: chosen[0],
    yes: get("yes") ?? false,
    dryRun: get("dry-run") ?? false,
    force: get("force") ?? false,
    help: get("help") ?? false,
    version: get("version") ?? false,
  };
}

/** Shows a flag as typed, but never raw control characters. */
function shown(text: string): string {
  return /^[\x21-\x7e]*$/.test(text) ? text : JSON.stringify(text);
}

/** Every spelling the parser accepts, without the leading dashes: `name`, `no-install`, ... */
const KNOWN_SPELLINGS: readonly string[] = (Object.entries(FLAG_SPECS) as Array<[FlagName, FlagSpec]>).flatMap(([name, spec]) =>
  spec.negatable ? [name, `no-${name}`] : [name],
);

/** " (did you mean --region?)" for a near miss: case, `_` for `-`, or a few typed characters off. */
function suggest(name: string): string {
  const typed = name.toLowerCase().replace(/_/g, "-");
  const exact = KNOWN_SPELLINGS.find((k) => k === typed || k.replace(/-/g, "") === typed.replace(/-/g, ""));
  if (exact) return ` (did you mean --${exact}?)`;
  // One edit in four characters at most, so that short names do not suggest everything.
  const limit = Math.max(1, Math.floor(typed.length / 4));
  let best: { spelling: string; distance: number } | undefined;
  for (const spelling of KNOWN_SPELLINGS) {
    const distance = editDistance(typed, spelling);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { spelling, distance };
  }
  return best ? ` (did you mean --${best.spelling}?)` : "";
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two adjacent
 * characters each count 1 (`regoin` is one swap from `region`).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The flags of `create-immutable-app upgrade`, a subset of FLAG_SPECS (help/usage.txt documents them). */
export const UPGRADE_FLAGS = ["dry-run", "yes", "help", "restore"] as const;

export interface UpgradeFlags {
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly help: boolean;
  /** --restore <path> (repeatable): files the team deleted that this run writes again. */
  readonly restore: readonly string[];
}

/** argv after `upgrade`. The answers come from the project's immutable.config.json, so no answer flag is accepted. */
export function parseUpgradeArgs(argv: readonly string[]): UpgradeFlags {
  const seen = new Set<string>();
  const restore: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--restore" || arg.startsWith("--restore=")) {
      const value = arg === "--restore" ? argv[++i] : arg.slice("--restore=".length);
      if (value === undefined || value === "" || (arg === "--restore" && value.startsWith("-"))) {
        throw new UsageError("--restore", "needs the path of a file you deleted, e.g. --restore .github/workflows/prune.yml");
      }
      restore.push(value);
      continue;
    }
    const short = /^-([a-zA-Z])$/.exec(arg)?.[1];
    const name = short !== undefined ? SHORT.get(short) : arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name === undefined) {
      if (arg.startsWith("-") && arg !== "-") throw new UsageError(shown(arg), "is not an option of upgrade");
      throw new UsageError(
        shown(arg),
        "upgrade takes no directory: run it in the project's root directory (where immutable.config.json is)",
      );
    }
    if ((UPGRADE_FLAGS as readonly string[]).includes(name) && name !== "restore") {
      if (seen.has(name)) throw new UsageError(`--${name}`, "is given more than once");
      seen.add(name);
      continue;
    }
    const bare = name.split("=")[0];
    if ((UPGRADE_FLAGS as readonly string[]).includes(bare)) throw new UsageError(`--${bare}`, "takes no value");
    if (Object.hasOwn(FLAG_SPECS, bare) || (bare.startsWith("no-") && Object.hasOwn(FLAG_SPECS, bare.slice(3)))) {
      throw new UsageError(
        `--${bare}`,
        "is not an option of upgrade, which takes only --dry-run, --yes, --restore and --help (the answers come from immutable.config.json: change them there)",
      );
    }
    const near = UPGRADE_FLAGS.find((f) => editDistance(bare.toLowerCase(), f) <= 2);
    throw new UsageError(shown(`--${bare}`), `is not an option of upgrade${near ? ` (did you mean --${near}?)` : ""}`);
  }
  return { dryRun: seen.has("dry-run"), yes: seen.has("yes"), help: seen.has("help"), restore };
}
