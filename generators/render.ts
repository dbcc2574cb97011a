/**
 * model -> file map. Pure: no I/O, same input, same output. Structured files are objects serialized
 * with JSON.stringify; Handlebars (HTML escaping off, strict) renders only the text files whose shape
 * changes with the answers, from this package's own templates; values are escaped for their target.
 */
import Handlebars from "handlebars";
import { CONFIG_FILE, DEFAULTS } from "../managed/config";
import {
  CI_SESSION_SECONDS,
  configParameterName,
  kmsAliasName,
  logGroupName,
  parameterPath,
  resourcePrefix,
  secretParameterName,
} from "../managed/names";
import { CHECKOV_CONFIG_FILE, CHECKOV_VERSION, checkovSkips, renderCheckovConfig } from "../managed/checkov";
import { renderPkrVars } from "../managed/hcl";
import { packerVarsOf, pkrvarsFile } from "../managed/packer-vars";
import { buildManifest, MANIFEST_FILE } from "./manifest";
import type { ProjectModel } from "./model";
import { type PackageManager, packageManagerView, runScript } from "./package-manager";
import type { Sources } from "./package-files";

export interface GeneratedFile {
  readonly contents: string | Buffer;
  /** Written with mode 0755 instead of 0644. */
  readonly executable?: boolean;
}

/** Relative, `/`-separated path -> contents; iteration order is the sorted path order. */
export type FileMap = ReadonlyMap<string, GeneratedFile>;

/** The generated project's version (package.json, AMI version). */
export const PROJECT_VERSION = "0.1.0";

/**
 * What a generated project installs; the versions are read from this package's package.json.
 * dependencies: what synth, deploy and the other scripts load (CI's deploy jobs install only these):
 * cdktf and the provider's classes, esbuild for `npm run synth` (managed/run.js bundles main.ts), tsx
 * for the scripts run as TypeScript. devDependencies: what only the type-check and the tests need.
 * Not installed: cdktf-cli (`npm run synth` does not use it; `cdktf deploy` runs it on demand, see
 * cdktfCommand) and a test framework (the tests run on node:test).
 */
const RUNTIME_DEPENDENCIES = ["cdktf", "@cdktf/provider-aws", "constructs", "esbuild", "tsx"];
const DEV_DEPENDENCIES = ["typescript", "@types/node"];

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function renderProject(model: ProjectModel, sources: Sources): FileMap {
  const { config } = model;
  const files = new Map<string, GeneratedFile>();
  for (const [path, file] of sources.copied) files.set(path, file);

  files.set("package.json", { contents: json(packageJson(model, sources)) });
  files.set("tsconfig.json", { contents: json(TSCONFIG) });
  files.set("cdktf.json", { contents: json({ ...sources.cdktfJson, projectId: config.appName }) });
  files.set(CONFIG_FILE, { contents: json(model.configFile) });
  files.set(pkrvarsFile(config), { contents: renderPkrVars(packerVarsOf(config, PROJECT_VERSION)) });

  const view = templateView(model);
  const render = (name: string): string => compile(sources, name)(view);
  files.set("README.md", { contents: render("README.md.hbs") });
  files.set(".github/workflows/ci.yml", { contents: render("ci.yml.hbs") });
  files.set(".github/workflows/drift.yml", { contents: render("drift.yml.hbs") });
  files.set(".github/workflows/images-prune.yml", { contents: render("images-prune.yml.hbs") });
  files.set(".gitignore", { contents: template(sources, "gitignore") });
  files.set(CHECKOV_CONFIG_FILE, { contents: renderCheckovConfig(config) });
  for (const [name, text] of sources.templates) {
    if (name.startsWith("project/")) files.set(name.slice("project/".length), { contents: text });
  }
  if (model.packageManager === "yarn") {
    // Plug'n'Play has no node_modules: `node managed/run.js`, cdktf-cli and terraform's hand-offs run
    // plain node, outside `yarn run`, and would find no package.
    files.set(".yarnrc.yml", {
      contents: "# node_modules, not Plug'n'Play: the scripts also run with plain node (managed/run.js).\nnodeLinker: node-modules\n",
    });
  }
  if (model.dockerfile) {
    files.set("Dockerfile", { contents: render("Dockerfile.hbs") });
    files.set(".dockerignore", { contents: template(sources, "dockerignore") });
    files.set("app/package.json", { contents: json(appPackageJson(model)) });
    files.set("app/server.js", { contents: template(sources, "app/server.js") });
  }
  // Last: the record of everything above, for `upgrade` (manifest.ts).
  const options = { dockerfile: model.dockerfile, packageManager: model.packageManager };
  files.set(MANIFEST_FILE, { contents: json(buildManifest(files, sources.packageJson.version, options)) });
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function packageJson(model: ProjectModel, sources: Sources): Record<string, unknown> {
  const pinned = { ...sources.packageJson.dependencies, ...sources.packageJson.devDependencies };
  const pick = (names: readonly string[]): Record<string, string> =>
    Object.fromEntries(
      names.map((name) => {
        const version = pinned[name];
        if (version === undefined) throw new Error(`${sources.root}/package.json does not pin ${name}`);
        return [name, version];
      }),
    );
  // Packages the copied scripts import (e.g. the export script's HCL converter) come along, same pins.
  const imported = new Set<string>();
  for (const [path, file] of sources.copied) {
    if (!path.endsWith(".ts")) continue;
    for (const m of file.contents.toString("utf8").matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)["']((?:@[\w.-]+\/)?[\w.-]+)/g)) {
      if (m[1] in pinned && !RUNTIME_DEPENDENCIES.includes(m[1])) imported.add(m[1]);
    }
  }
  const dev = [...new Set([...DEV_DEPENDENCIES, ...imported])].sort();
  return {
    name: model.config.appName,
    version: PROJECT_VERSION,
    private: true,
    description: `Immutable infrastructure for ${model.config.appName}: Packer AMI, CDKTF stacks, ASG instance refresh behind an ALB`,
    // 20.12: vm's USE_MAIN_CONTEXT_DEFAULT_LOADER (managed/run.js), `--import` for tsx (20.6).
    engines: { node: ">=20.12" },
    scripts: {
      build: "tsc --noEmit",
      // main.ts as one esbuild bundle, rebuilt whenever a file it is made of changes (managed/run.js): no
      // cdktf-cli start-up, no type-check (that is `build`). cdktf.json's app is the same command.
      synth: "node managed/run.js main.ts",
      // cdktf 0.21's own HCL output is invalid for strings with interpolation and quotes; the export is tested.
      "synth:hcl": "node --import tsx managed/export.ts --hcl",
      // terraform plan / apply of one environment, then its rollout by instance refresh (managed/deploy.ts).
      plan: "node --import tsx managed/deploy.ts --plan",
      deploy: "node --import tsx managed/deploy.ts",
      // Once per account, with administrator credentials: CI's roles (managed/bootstrap.ts).
      bootstrap: "node --import tsx managed/bootstrap.ts",
      // checkov on every synthesized stack, with the skips of .checkov.yaml (managed/security.ts).
      security: "node --import tsx managed/security.ts",
      // Type-check once, then Node's own test runner (node:test) with tsx for TypeScript.
      test: "tsc --noEmit && node --import tsx --test __tests__/*.test.ts",
      // The Packer variables come from immutable.config.json, the one place to change them.
      "image:build":
        'node --import tsx managed/pkrvars.ts && packer init packer && packer build -var "git_sha=$(git rev-parse --verify -q HEAD || echo unknown)" packer',
      // The same bake in a QEMU VM on this computer, and a boot of the result as <env> (managed/local-vm).
      "image:local": "node --import tsx managed/pkrvars.ts && node --import tsx managed/local-vm/cli.ts image",
      preview: "node --import tsx managed/local-vm/cli.ts preview",
      export: "node --import tsx managed/export.ts",
      "images:prune": "node --import tsx managed/images-prune.ts",
    },
    dependencies: pick(RUNTIME_DEPENDENCIES),
    devDependencies: pick(dev),
  };
}

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "commonjs",
    moduleResolution: "node",
    lib: ["ES2022"],
    strict: true,
    noImplicitReturns: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noFallthroughCasesInSwitch: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    types: ["node"],
    noEmit: true,
  },
  include: ["main.ts", "stacks/**/*.ts", "managed/**/*.ts", "__tests__/**/*.ts"],
  exclude: ["node_modules", "cdktf.out", "terraform"],
};

function appPackageJson(model: ProjectModel): Record<string, unknown> {
  return {
    name: `${model.config.appName}-app`,
    version: PROJECT_VERSION,
    private: true,
    description: "The web app baked into the AMI. Replace server.js with your app; keep answering the health path.",
    main: "server.js",
    scripts: { start: "node server.js" },
    // The app runs in the Dockerfile's image: Node.js 26, the current LTS line.
    engines: { node: ">=26" },
  };
}

/** Everything the templates may use; every value here is validated or derived from validated values. */
export function templateView(model: ProjectModel): Record<string, unknown> {
  const { config } = model;
  const app = config.appName;
  const firstEnv = config.environments[0].name;
  const branch = config.github?.branch ?? DEFAULTS.github.branch;
  const environments = config.environments.map((env, i) => {
    const amiParameter = env.amiSource.mode === "ssm" ? env.amiSource.parameter : "";
    const previous = i > 0 ? config.environments[i - 1].amiSource : undefined;
    const previousParameter = previous?.mode === "ssm" ? previous.parameter : "";
    const bakePublishes = amiParameter !== "" && amiParameter === config.image.amiParameter;
    return {
      name: env.name,
      /** The job of its deploy in ci.yml (and of its plan in drift.yml, as drift-<name>). */
      job: `deploy-${env.name}`,
      previous: i > 0 ? config.environments[i - 1].name : "",
      instanceType: env.instanceType,
      min: env.minCapacity,
      max: env.maxCapacity,
      deletionProtection: env.deletionProtection,
      parameterPath: parameterPath(app, env.name),
      logGroup: logGroupName(app, env.name),
      kmsAlias: kmsAliasName(app, env.name),
      asgName: resourcePrefix(app, env.name),
      /** The launch template says resolve:ssm:<amiParameter>: no ami_id variable, the image comes at launch. */
      ssm: amiParameter !== "",
      amiParameter,
      /** The bake writes this environment's parameter: a new image reaches it with every bake. */
      bakePublishes,
      /** CI promotes the image into this environment's parameter, which the bake does not write. */
      promote: amiParameter !== "" && !bakePublishes,
      /** Where the promotion copies the AMI id from: the previous environment's parameter; "" = the bake's AMI id. */
      promoteFrom: previousParameter,
      /** The previous environment resolves this same parameter: its job has promoted the image already. */
      promotedBefore: amiParameter !== "" && previousParameter === amiParameter,
      /** health_check_url is https://<ALB DNS name>/..., which the certificate (for the user's domain) does not cover. */
      https: env.certificateArn !== undefined,
      natGateways: env.natGateways,
      waf: env.waf,
      /** CI's deploy of this environment: the baked image by --ami, or none for resolve:ssm. */
      deployCommand:
        amiParameter !== ""
          ? runScript(model.packageManager, "deploy", env.name, "--auto-approve")
          : runScript(model.packageManager, "deploy", env.name, "--ami", '"$AMI_ID"', "--auto-approve"),
    };
  });
  const ssmEnvironments = environments.filter((e) => e.ssm);
  const byParameter = new Map<string, string[]>();
  for (const e of ssmEnvironments) byParameter.set(e.amiParameter, [...(byParameter.get(e.amiParameter) ?? []), e.name]);
  return {
    app,
    region: config.region,
    port: config.appPort,
    defaultPort: DEFAULTS.appPort,
    healthPath: config.healthCheckPath,
    defaultHealthPath: DEFAULTS.healthCheckPath,
    image: config.image.containerImage,
    // With --dockerfile the image is built from app/ by CI, whatever image.containerImage still says.
    placeholderImage: !model.dockerfile && config.image.containerImage === DEFAULTS.image.containerImage,
    baseOs: config.image.baseOs,
    /** The docker platform of the AMI's architecture: CI builds the app image for it, emulated on arm64. */
    platform: config.image.architecture === "arm64" ? "linux/arm64" : "linux/amd64",
    amiParameter: config.image.amiParameter,
    https: config.certificateArn !== undefined,
    anyHttps: environments.some((e) => e.https),
    backend: config.backend !== undefined,
    configFile: CONFIG_FILE,
    pkrvarsFile: pkrvarsFile(config),
    dockerfile: model.dockerfile,
    firstEnv,
    first: environments[0],
    networkNew: config.network.mode === "new",
    environments,
    variableEnvironments: environments.filter((e) => !e.ssm),
    ssmEnvironments,
    bakeReaches: ssmEnvironments.filter((e) => e.bakePublishes),
    bakeReachesSeveral: ssmEnvironments.filter((e) => e.bakePublishes).length > 1,
    /** Environments whose CI job copies the image into their parameter (one that the bake does not write). */
    promotions: environments.filter((e) => e.promote && !e.promotedBefore),
    /** Parameters that more than one environment resolves: a bake reaches all of them at their next launch. */
    sharedParameters: [...byParameter]
      .filter(([, names]) => names.length > 1)
      .map(([parameter, names]) => ({ parameter, names: names.join(", ") })),
    configKeys: Object.keys(config.config)
      .sort()
      .map((key) => ({ key, parameter: configParameterName(app, firstEnv, key) })),
    secrets: config.secrets.map((name) => ({ name, parameter: secretParameterName(app, firstEnv, name) })),
    exampleSecret: secretParameterName(app, firstEnv, config.secrets[0] ?? "EXAMPLE_SECRET"),
    firstKmsAlias: kmsAliasName(app, firstEnv),
    pm: packageManagerView(model.packageManager),
    /** The project has a bootstrap stack (GitHub OIDC roles): github.repository is set. */
    bootstrap: config.github !== undefined,
    keepImages: config.image.keepImages,
    checkovSkips: checkovSkips(config),
    /** The branch whose pushes bake and deploy: github.branch, or its default before there is a github block. */
    branch,
    /** The jobs that assume a role run only for this (never for a pull request). */
    onBranch: `(github.event_name == 'push' || github.event_name == 'workflow_dispatch') && github.ref == 'refs/heads/${branch}'`,
    ciSessionSeconds: CI_SESSION_SECONDS,
    checkovVersion: CHECKOV_VERSION,
    ci: ciSetup(model.packageManager),
    /** Commands the workflows' shared steps run, whatever job (and context) they are in. */
    commands: {
      bootstrap: runScript(model.packageManager, "bootstrap"),
      synth: runScript(model.packageManager, "synth"),
    },
  };
}

/** How a CI job gets the package manager and caches its downloads. */
function ciSetup(pm: PackageManager): Record<string, unknown> {
  switch (pm) {
    case "npm":
      return { corepack: false, bun: false, cachePath: "" };
    // pnpm and Yarn (Berry) come with Node.js through corepack; setup-node's own cache needs them first.
    case "pnpm":
      return { corepack: true, bun: false, cachePath: "~/.local/share/pnpm/store", lockfileHash: "hashFiles('pnpm-lock.yaml')" };
    case "yarn":
      return { corepack: true, bun: false, cachePath: "~/.yarn/berry/cache", lockfileHash: "hashFiles('yarn.lock')" };
    case "bun":
      return { corepack: false, bun: true, cachePath: "~/.bun/install/cache", lockfileHash: "hashFiles('bun.lock', 'bun.lockb')" };
  }
}

/** One template or partial of `sources`, rendered with the project's view (a partial as `{{> name}}` renders it). */
export function renderTemplate(model: ProjectModel, sources: Sources, name: string): string {
  return compile(sources, name)(templateView(model));
}

const hbs = Handlebars.create();
// GitHub Actions expressions `${{ ... }}` collide with Handlebars: templates write {{gha "expr"}}.
hbs.registerHelper("gha", (expr: string) => `\${{ ${expr} }}`);
// A YAML/JSON double-quoted scalar: JSON string syntax is valid in both.
hbs.registerHelper("quote", (value: unknown) => JSON.stringify(String(value)));
hbs.registerHelper("join", (list: Array<{ name: string }>, sep: string) => list.map((x) => x.name).join(sep));
hbs.registerHelper("concat", (...args: unknown[]) => args.slice(0, -1).map(String).join(""));

const compiled = new Map<string, Handlebars.TemplateDelegate>();

function compile(sources: Sources, name: string): Handlebars.TemplateDelegate {
  const key = `${sources.root}:${name}`;
  let fn = compiled.get(key);
  if (!fn) {
    // templates/partials/<name>.md.hbs is `{{> <name>}}` in any template, from the same sources.
    for (const [path, text] of sources.templates) {
      const partial = /^partials\/(.+?)(\.[a-z]+)?\.hbs$/.exec(path);
      if (partial) hbs.registerPartial(partial[1], text);
    }
    fn = hbs.compile(template(sources, name), { noEscape: true, strict: true });
    compiled.set(key, fn);
  }
  return fn;
}

function template(sources: Sources, name: string): string {
  const text = sources.templates.get(name);
  if (text === undefined) throw new Error(`missing template ${name} in ${sources.root}/templates`);
  return text;
}
