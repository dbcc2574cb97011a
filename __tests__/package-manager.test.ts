/** Each package manager's commands, from one table: the install step, CI, scripts with arguments, binaries. */
import Handlebars from "handlebars";
import {
  ciInstallCommand,
  execCommand,
  installArgv,
  installCommand,
  type PACKAGE_MANAGERS,
  packageManagerFromUserAgent,
  packageManagerView,
  runScript,
} from "../generators/package-manager";

describe("package managers", () => {
  it.each([
    ["npm", "npm install", "npm ci", "npm run deploy -- staging", "npm run synth", "npx cdktf synth"],
    ["pnpm", "pnpm install", "pnpm install --frozen-lockfile", "pnpm run deploy staging", "pnpm run synth", "pnpm exec cdktf synth"],
    ["yarn", "yarn install", "yarn install --immutable", "yarn run deploy staging", "yarn run synth", "yarn run cdktf synth"],
    ["bun", "bun install", "bun install --frozen-lockfile", "bun run deploy staging", "bun run synth", "bunx cdktf synth"],
  ] as const)("%s: install, CI install, a script with and without arguments, a binary", (pm, install, ci, deploy, synth, exec) => {
    expect(installCommand(pm)).toBe(install);
    expect(installArgv(pm).join(" ")).toBe(install);
    expect(ciInstallCommand(pm)).toBe(ci);
    expect(runScript(pm, "deploy", "staging")).toBe(deploy);
    expect(runScript(pm, "synth")).toBe(synth);
    expect(execCommand(pm, "cdktf", "synth")).toBe(exec);
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

  it("gives templates `pm`, whose run and exec take the template's arguments", () => {
    const render = (text: string, pm: (typeof PACKAGE_MANAGERS)[number]) =>
      Handlebars.compile(text, { noEscape: true, strict: true })({ pm: packageManagerView(pm), env: "qa" });
    const text =
      '{{pm.install}} | {{pm.ciInstall}} | {{pm.run "deploy" env}} | {{pm.run "synth"}} | {{pm.exec "cdktf" "deploy" env "--auto-approve"}}';
    expect(render(text, "npm")).toBe("npm install | npm ci | npm run deploy -- qa | npm run synth | npx cdktf deploy qa --auto-approve");
    expect(render(text, "pnpm")).toBe(
      "pnpm install | pnpm install --frozen-lockfile | pnpm run deploy qa | pnpm run synth | pnpm exec cdktf deploy qa --auto-approve",
    );
    expect(render("{{pm.name}}", "bun")).toBe("bun");
  });
});
