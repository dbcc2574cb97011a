/**
 * Both sides of the boot contract at once: the boot.env that the stacks' user_data writes, read by the
 * image's boot script (packer/files/configure-app.sh) against the parameters the stacks create.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootEnvFile, configDir, configParameterName, readyUnitName, secretParameterName, serviceUnitName } from "../managed/names";
import { SECRET_PLACEHOLDER } from "../stacks/parameters";
import { renderUserData, type UserDataProps } from "../managed/user-data";
import { ConfigureSandbox, type FakeSsmPage, PACKER_DIR, parseSystemdEnvFile, run } from "./support/packer";

const APP = "shop";
const ENV = "prod";

/** The heredoc body that user_data writes to boot.env. */
function bootEnvOf(userData: string): string {
  const match = /<<'BOOT_ENV'\n([\s\S]*?)\nBOOT_ENV\n/.exec(userData);
  if (!match) throw new Error(`no boot.env heredoc in:\n${userData}`);
  return `${match[1]}\n`;
}

/** What the Parameters construct creates, with the secrets' values set (or left as the placeholder). */
function parametersOf(props: UserDataProps, secretValue: string): FakeSsmPage {
  return {
    parameters: [
      ...Object.entries(props.config).map(([key, value]) => ({ name: configParameterName(APP, ENV, key), value })),
      ...props.secrets.map((name) => ({ name: secretParameterName(APP, ENV, name), value: secretValue, type: "SecureString" })),
    ],
  };
}

function boot(props: UserDataProps, secretValue: string) {
  const box = new ConfigureSandbox(APP, ENV);
  writeFileSync(join(box.configDir, "boot.env"), bootEnvOf(renderUserData(props)));
  box.setPages([parametersOf(props, secretValue)]);
  return { box, result: box.runConfigure() };
}

const base = { appName: APP, environment: ENV, region: "eu-west-1", appPort: 8080 };

describe("user_data's boot.env read by the image's boot script", () => {
  it("a default project (no config, no secrets) starts", () => {
    const { box, result } = boot({ ...base, config: {}, secrets: [] }, "");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(parseSystemdEnvFile(readFileSync(box.appEnvFile, "utf8")).get("APP_ENV")).toBe(ENV);
    box.dispose();
  });

  it("config values and set secrets reach the app's environment literally", () => {
    const props = { ...base, config: { GREETING: 'Hello, ${name}: 100% "literal"', LOG_LEVEL: "warn" }, secrets: ["DATABASE_PASSWORD"] };
    const { box, result } = boot(props, "s3cr3t value");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const env = parseSystemdEnvFile(readFileSync(box.appEnvFile, "utf8"));
    expect(env.get("GREETING")).toBe(props.config.GREETING);
    expect(env.get("LOG_LEVEL")).toBe("warn");
    expect(env.get("DATABASE_PASSWORD")).toBe("s3cr3t value");
    box.dispose();
  });

  it("a secret still holding the stacks' placeholder stops the boot with how to set it", () => {
    const { box, result } = boot({ ...base, config: {}, secrets: ["API_TOKEN"] }, SECRET_PLACEHOLDER);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("aws ssm put-parameter");
    expect(result.stderr).toContain(secretParameterName(APP, ENV, "API_TOKEN"));
    box.dispose();
  });
});

describe("user_data and the image agree on where things are", () => {
  it.each(["shop", "docker", "systemd"])(
    "%s: boot.env is written where the boot script reads it, and the units enabled are ones the image has",
    (app) => {
      const userData = renderUserData({ ...base, appName: app, config: {}, secrets: [] });
      expect(userData).toContain(`\ninstall -d -m 0755 ${configDir(app)}\n`);
      expect(/^cat > (\S+) <<'BOOT_ENV'$/m.exec(userData)?.[1]).toBe(bootEnvFile(app));
      const enabled = /^systemctl enable --now (.+)$/m.exec(userData)?.[1].split(" ") ?? [];
      // The app and the unit that completes the launch lifecycle hook once the app answers.
      expect(enabled).toEqual([serviceUnitName(app), readyUnitName(app)]);
      const installApp = readFileSync(join(PACKER_DIR, "scripts", "install-app.sh"), "utf8");
      for (const unit of enabled) {
        // The image installs the template; the unit user_data enables is its instance for this app.
        const template = unit.replace(/@[^.]+\./, "@.");
        expect(existsSync(join(PACKER_DIR, "files", template))).toBe(true);
        expect(installApp).toContain(`/etc/systemd/system/${template}`);
      }
      // The boot script's own default (no test override): it looks for boot.env at that same path.
      const result = run("bash", ["--norc", join(PACKER_DIR, "files", "configure-app.sh"), app], { env: { PATH: process.env.PATH } });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(
        `${bootEnvFile(app)} is missing: the launch template's user_data writes it before starting ${serviceUnitName(app)}`,
      );
    },
  );
});
