/** Each package manager's commands, from one table: the install step, CI, scripts with arguments, binaries. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import {
  CDKTF_CLI_VERSION,
  cdktfCommand,
  ciInstallCommand,
  ciInstallProductionCommand,
  installArgv,
  installCommand,
  type PACKAGE_MANAGERS,
  packageManagerFromUserAgent,
  packageManagerView,
  runScript,
} from "../generators/package-manager";

describe("package managers", () => {
  it.each([
    ["npm", "npm install", "npm ci", "npm ci --omit=dev", "npm run deploy -- staging", "npm run synth"],
    [
      "pnpm",
      "pnpm install",
      "pnpm install --frozen-lockfile",
      "pnpm install --frozen-lockfile --prod",
      "pnpm run deploy staging",
      "pnpm run synth",
    ],
    ["yarn", "yarn install", "yarn install --immutable", "yarn install --immutable", "yarn run deploy staging", "yarn run synth"],
    [
      "bun",
      "bun install",
      "bun install --frozen-lockfile",
      "bun install --frozen-lockfile --production",
      "bun run deploy staging",
      "bun run synth",
    ],
  ] as const)(
    "%s: install, CI install (all, production only), a script with and without arguments",
    (pm, install, ci, prod, deploy, synth) => {
      expect(installCommand(pm)).toBe(install);
      expect(installArgv(pm).join(" ")).toBe(install);
      expect(ciInstallCommand(pm)).toBe(ci);
      expect(ciInstallProductionCommand(pm)).toBe(prod);
      expect(runScript(pm, "deploy", "staging")).toBe(deploy);
      expect(runScript(pm, "synth")).toBe(synth);
    },
  );

  // The documented on-demand runners: npm exec (npx --package), pnpm dlx (--package before dlx),
  // bunx -p (https://bun.sh/docs/pm/bunx: "-p, --package ... when binary name differs"). Yarn: npx, as
  // `yarn dlx` runs cdktf-cli outside the project, where it cannot see the project's cdktf (review).
  it.each([
    ["npm", "npx --yes --package=cdktf-cli@0.21.0 cdktf deploy staging"],
    ["pnpm", "pnpm --package=cdktf-cli@0.21.0 dlx cdktf deploy staging"],
    ["yarn", "npx --yes --package=cdktf-cli@0.21.0 cdktf deploy staging"],
    ["bun", "bunx -p cdktf-cli@0.21.0 cdktf deploy staging"],
  ] as const)("%s: cdktf-cli on demand, at the version this package is tested with", (pm, command) => {
    expect(cdktfCommand(pm, "deploy", "staging")).toBe(command);
  });

  it("pins the on-demand cdktf-cli to this package's own cdktf-cli", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8"));
    expect(pkg.devDependencies["cdktf-cli"]).toBe(CDKTF_CLI_VERSION);
  });

  it.each([
    ["npm/10.2.4 node/v20.11.0 linux x64 workspaces/false", "npm"],
    ["pnpm/9.1.0 npm/? node/v20.11.0 linux x64", "pnpm"],
    ["yarn/1.22.19 npm/? node/v20.11.0 linux x64", "yarn"],
    ["yarn/4.1.0 npm/? node/v20.11.0 linux x64", "yarn"],
    ["bun/1.1.8 npm/? node/v21.6.0 linux x64", "bun"],
    ["deno/1.40.0", undefined],
    ["", undefined],
    [undefined, undefined],
    ["npmx/1.0", undefined],
  ])("reads %j as %s", (userAgent, pm) => {
    expect(packageManagerFromUserAgent(userAgent)).toBe(pm);
  });

  it("gives templates `pm`, whose run and cdktf take the template's arguments", () => {
    const render = (text: string, pm: (typeof PACKAGE_MANAGERS)[number]) =>
      Handlebars.compile(text, { noEscape: true, strict: true })({ pm: packageManagerView(pm), env: "qa" });
    const text =
      '{{pm.install}} | {{pm.ciInstall}} | {{pm.ciInstallProduction}} | {{pm.run "deploy" env}} | {{pm.run "synth"}} | {{pm.cdktf "deploy" env "--auto-approve"}}';
    expect(render(text, "npm")).toBe(
      "npm install | npm ci | npm ci --omit=dev | npm run deploy -- qa | npm run synth | npx --yes --package=cdktf-cli@0.21.0 cdktf deploy qa --auto-approve",
    );
    expect(render(text, "pnpm")).toBe(
      "pnpm install | pnpm install --frozen-lockfile | pnpm install --frozen-lockfile --prod | pnpm run deploy qa | pnpm run synth | pnpm --package=cdktf-cli@0.21.0 dlx cdktf deploy qa --auto-approve",
    );
    expect(render("{{pm.name}}", "bun")).toBe("bun");
  });
});
