import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import {
  appEnvFile,
  appLogFile,
  bakedImageName,
  configDir,
  configParameterName,
  configUnitName,
  containerName,
  kmsAliasName,
  logGroupName,
  parameterPath,
  provenanceFile,
  secretParameterName,
  SERVICE_USER,
  serviceUnitName,
} from "../managed/names";
import { SECRET_PLACEHOLDER } from "../stacks/parameters";
import {
  ConfigureSandbox,
  makeTempDir,
  PACKER_DIR,
  packerShellScripts,
  parseSystemdEnvFile,
  prepareSystemdRoot,
  readEnvFileWithBash,
  removeDir,
  run,
  shellQuote,
  systemdVerifyUnavailable,
} from "./support/packer";

const APP = "shop";
const ENV = "prod";

describe("shell scripts", () => {
  it("are all shellcheck clean, bash with set -euo pipefail", () => {
    const scripts = packerShellScripts();
    expect(scripts).toEqual(
      expect.arrayContaining([
        "files/configure-app.sh",
        "scripts/install-runtime.sh",
        "scripts/test-image.sh",
        "scripts/cleanup.sh",
        "scripts/publish-ami-id.sh",
      ]),
    );
    const result = run("shellcheck", ["--severity=style", "--shell=bash", ...scripts], { cwd: PACKER_DIR });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
    for (const script of scripts) {
      const text = readFileSync(join(PACKER_DIR, script), "utf8");
      expect(text.startsWith("#!/usr/bin/env bash\n")).toBe(true);
      expect(text).toMatch(/^set -euo pipefail$/m);
      expect(statSync(join(PACKER_DIR, script)).mode & 0o111).not.toBe(0);
    }
  });
});

describe("names in the scripts", () => {
  // Every variable a script names the app with, and the function of managed/names.ts it must equal.
  const expected: Record<string, (app: string) => string> = {
    service_user: () => SERVICE_USER,
    unit: serviceUnitName,
    container: containerName,
    baked_image: bakedImageName,
    config_dir: configDir,
    log_file: appLogFile,
    provenance_file: provenanceFile,
  };
  const scripts: Record<string, { appVar: string; names: string[] }> = {
    "scripts/install-app.sh": { appVar: "APP_NAME", names: ["service_user", "baked_image", "config_dir", "provenance_file"] },
    "scripts/test-image.sh": { appVar: "APP_NAME", names: ["unit", "config_dir", "baked_image", "container", "log_file"] },
    "scripts/cleanup.sh": { appVar: "APP_NAME", names: ["unit", "container", "config_dir"] },
    "files/configure-app.sh": { appVar: "app", names: ["config_dir", "log_file"] },
  };

  it.each(Object.keys(scripts))("%s names the app as managed/names.ts does, for any valid app name", (script) => {
    const { appVar, names } = scripts[script];
    const text = readFileSync(join(PACKER_DIR, script), "utf8");
    const lines = text.split("\n").filter((line) => new RegExp(`^(readonly )?(${names.join("|")}|log_dir)=`).test(line));
    expect(lines.map((line) => line.replace(/^readonly /, "").split("=")[0]).sort()).toEqual(
      [...names, ...(appVar === "app" ? ["log_dir"] : [])].sort(),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}$/), (app) => {
        const result = run(
          "bash",
          [
            "--norc",
            "-c",
            `set -eu\n${appVar}=${shellQuote(app)}\n${lines.join("\n")}\nprintf '%s\\0' ${names.map((n) => `"$${n}"`).join(" ")}`,
          ],
          { env: { PATH: process.env.PATH } },
        );
        expect(result.stderr).toBe("");
        expect(result.stdout.split("\0").slice(0, -1)).toEqual(names.map((n) => expected[n](app)));
      }),
      { numRuns: 20 },
    );
  });
});

describe("no change after the bake", () => {
  it("harden.sh masks exactly the units test-image.sh checks", () => {
    const units = (script: string) =>
      /^no_update_units=\(\n([\s\S]*?)\n\)$/m
        .exec(readFileSync(join(PACKER_DIR, "scripts", script), "utf8"))![1]
        .split(/\s+/)
        .filter(Boolean);
    expect(units("harden.sh").length).toBeGreaterThanOrEqual(10);
    expect(units("test-image.sh")).toEqual(units("harden.sh"));
  });
});

describe("the baked image's name", () => {
  // docs.docker.com/reference/cli/docker/image/tag names distribution/reference as the grammar:
  // domain "/" path-component ("/" path-component)* ":" tag, where a first component that is
  // "localhost" is a domain (normalize.go, splitDockerDomain) and a path component is
  // [a-z0-9]+ joined by ".", "_", "__" or runs of "-" (regexp.go).
  const component = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
  const reference = new RegExp(`^localhost/${component}(?:/${component})*:[\\w][\\w.-]{0,127}$`);

  it("is a reference on the registry host localhost, never Docker Hub or the reserved name scratch, for any app name", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9]{0,9}(-[a-z0-9]{1,4}){0,2}$/), (app) => {
        const name = bakedImageName(app);
        expect(name).toMatch(reference);
        expect(name.split("/")[0]).toBe("localhost");
        expect(name.split(":")[0]).not.toBe("scratch");
      }),
      { numRuns: 200 },
    );
    expect(bakedImageName("scratch")).toBe("localhost/immutable-app/scratch:baked");
  });
});

describe("boot script (files/configure-app.sh) with a fake aws", () => {
  let box: ConfigureSandbox;
  beforeEach(() => {
    box = new ConfigureSandbox(APP, ENV);
  });
  afterEach(() => box.dispose());

  const tricky: Record<string, string> = {
    SPACES: "  two  spaces inside and around  ",
    QUOTES: `"double" and 'single' and \`back\``,
    EQUALS: "a=b==c=",
    NEWLINES: "line one\nline two\n\nend\n",
    DOLLARS: "$HOME ${PATH} $(id) \\$ %{x} $",
    BACKSLASHES: "C:\\path\\n\\\\share\\",
    UNICODE: "héllo 日本 😀 \u202e",
    TAB_CR: "a\tb\rc",
    HASH: "# not a comment ; nor this",
  };

  function trickyPages() {
    const entries = Object.entries(tricky);
    return [
      { parameters: entries.slice(0, 4).map(([k, v]) => ({ name: configParameterName(APP, ENV, k), value: v })) },
      { parameters: entries.slice(4, 7).map(([k, v]) => ({ name: secretParameterName(APP, ENV, k), value: v, type: "SecureString" })) },
      { parameters: entries.slice(7).map(([k, v]) => ({ name: configParameterName(APP, ENV, k), value: v })) },
    ];
  }

  it("writes every parameter of every page, values intact for systemd's and the shell's reader", () => {
    box.writeBootEnv({ expected: Object.keys(tricky), revision: "00ff00ff00ff00ff" });
    box.setPages(trickyPages());
    const result = box.runConfigure();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `immutable-app-configure: wrote ${box.configDir}/app.env (9 parameters from ${parameterPath(APP, ENV)}, config revision 00ff00ff00ff00ff)\n`,
    );

    const text = readFileSync(box.appEnvFile, "utf8");
    const expected = new Map<string, string>([
      ["APP_NAME", APP],
      ["APP_ENV", ENV],
      ["AWS_REGION", "eu-west-1"],
      ["APP_PORT", "8080"],
      ...Object.entries(tricky),
    ]);
    for (const reader of [parseSystemdEnvFile(text), readEnvFileWithBash(box.appEnvFile)]) {
      for (const [name, value] of expected) expect([name, reader.get(name)]).toEqual([name, value]);
    }
    // The container gets exactly these names (docker run --env=NAME copies them from systemd's env).
    const dockerArgs = parseSystemdEnvFile(text).get("APP_DOCKER_ENV_ARGS")!.split(" ");
    expect(dockerArgs.sort()).toEqual([...expected.keys()].map((k) => `--env=${k}`).sort());
    expect(statSync(box.appEnvFile).mode & 0o777).toBe(0o600);
    expect(box.configFiles()).toEqual(["app.env", "boot.env", "cloudwatch-agent.json"]);
  });

  it("starts a project without config or secrets: nothing expected, nothing found", () => {
    box.setPages([{ parameters: [] }]);
    const result = box.runConfigure();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`(0 parameters from ${parameterPath(APP, ENV)}, config revision 0123456789abcdef)`);
    const text = readFileSync(box.appEnvFile, "utf8");
    const fixed = new Map([
      ["APP_NAME", APP],
      ["APP_ENV", ENV],
      ["AWS_REGION", "eu-west-1"],
      ["APP_PORT", "8080"],
      ["APP_DOCKER_ENV_ARGS", "--env=APP_NAME --env=APP_ENV --env=AWS_REGION --env=APP_PORT"],
    ]);
    expect(parseSystemdEnvFile(text)).toEqual(fixed);
    const bash = readEnvFileWithBash(box.appEnvFile);
    for (const [name, value] of fixed) expect([name, bash.get(name)]).toEqual([name, value]);
    expect(box.configFiles()).toEqual(["app.env", "boot.env", "cloudwatch-agent.json"]);
    expect(readFileSync(box.ctlCalls, "utf8")).toContain("fetch-config");
  });

  it("exports a parameter the stack did not create (added out of band), and says so", () => {
    box.writeBootEnv({ expected: ["GREETING"] });
    box.setPages([
      {
        parameters: [
          { name: configParameterName(APP, ENV, "GREETING"), value: "hello" },
          { name: secretParameterName(APP, ENV, "EXTRA_TOKEN"), value: "t0ken", type: "SecureString" },
        ],
      },
    ]);
    const result = box.runConfigure();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("also exporting parameters the stack did not create (set out of band): EXTRA_TOKEN\n");
    const env = parseSystemdEnvFile(readFileSync(box.appEnvFile, "utf8"));
    expect(env.get("GREETING")).toBe("hello");
    expect(env.get("EXTRA_TOKEN")).toBe("t0ken");
    expect(env.get("APP_DOCKER_ENV_ARGS")).toContain("--env=EXTRA_TOKEN");
  });

  // What a first boot can meet before the route to SSM or the instance profile's permissions are
  // there (IAM is eventually consistent); each fails twice, then SSM answers.
  it.each([
    ["no route to SSM yet", 255, '\nCould not connect to the endpoint URL: "https://ssm.eu-west-1.amazonaws.com/"\n'],
    ["no instance credentials yet", 253, '\nUnable to locate credentials. You can configure credentials by running "aws configure".\n'],
    [
      "the role's policy not yet visible",
      254,
      "\nAn error occurred (AccessDeniedException) when calling the GetParametersByPath operation: User: arn:aws:sts::123456789012:assumed-role/shop-prod/i-0 is not authorized to perform: ssm:GetParametersByPath\n",
    ],
    [
      "throttling beyond the CLI's own retries",
      254,
      "\nAn error occurred (ThrottlingException) when calling the GetParametersByPath operation (reached max retries: 5): Rate exceeded\n",
    ],
  ])("retries %s and then starts: two failures, then the answer", (_case, exit, stderr) => {
    box.writeBootEnv({ expected: ["GREETING"] });
    box.setPages([
      {
        failures: [
          { stderr, exit },
          { stderr, exit },
        ],
        parameters: [{ name: configParameterName(APP, ENV, "GREETING"), value: "hello" }],
      },
    ]);
    const result = box.runConfigure();
    expect(result.status).toBe(0);
    expect(box.awsCallsFor(0)).toBe(3);
    expect(
      result.stderr.match(
        /^immutable-app-configure: reading \/shop\/prod\/ from SSM failed \(attempt \d, exit \d+.*\); retrying in [\d.]+ s$/gm,
      ),
    ).toHaveLength(2);
    expect(result.stderr).toContain(stderr.trim());
    expect(parseSystemdEnvFile(readFileSync(box.appEnvFile, "utf8")).get("GREETING")).toBe("hello");
  });

  it("retries within a bound that the config unit's start timeout stays above", () => {
    const script = readFileSync(join(PACKER_DIR, "files", "configure-app.sh"), "utf8");
    const bound = Number(/^readonly AWS_RETRY_SECONDS=(\d+)$/m.exec(script)![1]);
    expect(bound).toBe(300);
    const unit = readFileSync(join(PACKER_DIR, "files", "immutable-app-config@.service"), "utf8");
    const [, amount, suffix] = /^TimeoutStartSec=(\d+)(min|s)?$/m.exec(unit)!;
    const timeout = Number(amount) * (suffix === "min" ? 60 : 1);
    // Room for the CloudWatch agent to start after the last call (systemd.time(7): "min" is minutes).
    expect(timeout).toBeGreaterThanOrEqual(bound + 60);
    expect(unit).not.toMatch(/^Restart=/m);
  });

  it("refuses the secret placeholder of stacks/parameters.ts (the literal is the same)", () => {
    const script = readFileSync(join(PACKER_DIR, "files", "configure-app.sh"), "utf8");
    expect(/^readonly SECRET_PLACEHOLDER='(.*)'$/m.exec(script)?.[1]).toBe(SECRET_PLACEHOLDER);
  });

  it("asks SSM for the whole path, recursive and decrypted, following the page tokens", () => {
    box.setPages(trickyPages());
    expect(box.runConfigure().status).toBe(0);
    const calls = readFileSync(box.awsCalls, "utf8").trim().split("\n");
    expect(calls).toHaveLength(3);
    for (const call of calls) {
      expect(call).toMatch(/^ssm get-parameters-by-path --region eu-west-1 --path \/shop\/prod\/ --recursive --with-decryption /);
    }
    expect(calls[0]).not.toContain("--starting-token");
    expect(calls[1]).toMatch(/--starting-token 1$/);
    expect(calls[2]).toMatch(/--starting-token 2$/);
  });

  it("configures the CloudWatch agent for the app's log file and the environment's log group", () => {
    box.setPages(trickyPages());
    expect(box.runConfigure().status).toBe(0);
    const config = JSON.parse(readFileSync(join(box.configDir, "cloudwatch-agent.json"), "utf8"));
    expect(config.logs.logs_collected.files.collect_list).toEqual([
      { file_path: appLogFile(APP), log_group_name: logGroupName(APP, ENV), log_stream_name: "{instance_id}" },
    ]);
    expect(readFileSync(box.ctlCalls, "utf8")).toBe(`-a fetch-config -m ec2 -s -c file:${box.configDir}/cloudwatch-agent.json\n`);
  });

  describe("fails loudly and leaves the previous app.env untouched", () => {
    const OLD = 'OLD="previous boot"\n';
    beforeEach(() => writeFileSync(box.appEnvFile, OLD));

    // Failures that are retried until the bound get a bound of 1 s.
    const ONE_SECOND_BOUND = { IMMUTABLE_APP_AWS_RETRY_SECONDS: "1" };

    function expectFailure(messagePattern: RegExp, env: NodeJS.ProcessEnv = {}) {
      const result = box.runConfigure(env);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(messagePattern);
      expect(readFileSync(box.appEnvFile, "utf8")).toBe(OLD);
      // No temp file left behind, no agent started.
      expect(box.configFiles()).toEqual(["app.env", "boot.env"]);
      expect(() => readFileSync(box.ctlCalls)).toThrow();
      return result;
    }

    it("when an expected parameter is missing, naming each missing one (and an empty path is no exception)", () => {
      box.writeBootEnv({ expected: ["DATABASE_PASSWORD", "GREETING", "LOG_LEVEL"] });
      box.setPages([{ parameters: [{ name: configParameterName(APP, ENV, "GREETING"), value: "hi" }] }]);
      const result = expectFailure(/refusing to start shop with the parameters under \/shop\/prod\/:/);
      expect(result.stderr).toContain(
        "DATABASE_PASSWORD: missing (the stack creates /shop/prod/config/DATABASE_PASSWORD or /shop/prod/secret/DATABASE_PASSWORD)",
      );
      expect(result.stderr).toContain("LOG_LEVEL: missing");
      expect(result.stderr).not.toContain("GREETING");

      box.setPages([{ parameters: [] }]);
      const empty = expectFailure(/refusing to start shop/);
      for (const name of ["DATABASE_PASSWORD", "GREETING", "LOG_LEVEL"]) expect(empty.stderr).toContain(`${name}: missing`);
    });

    it("when a secret still holds the placeholder, telling how to set it", () => {
      box.writeBootEnv({ expected: ["DATABASE_PASSWORD", "GREETING"] });
      box.setPages([
        {
          parameters: [
            { name: secretParameterName(APP, ENV, "DATABASE_PASSWORD"), value: SECRET_PLACEHOLDER, type: "SecureString" },
            // A plain value that happens to equal the placeholder is a value like any other.
            { name: configParameterName(APP, ENV, "GREETING"), value: SECRET_PLACEHOLDER },
          ],
        },
      ]);
      const result = expectFailure(/\/shop\/prod\/secret\/DATABASE_PASSWORD: still holds the placeholder SET-OUT-OF-BAND/);
      expect(result.stderr).toContain(
        `aws ssm put-parameter --region eu-west-1 --overwrite --type SecureString --key-id ${kmsAliasName(APP, ENV)} --name ${secretParameterName(APP, ENV, "DATABASE_PASSWORD")} --value "$VALUE"`,
      );
      expect(result.stderr).not.toContain("GREETING");
    });

    it("when boot.env comes from an older user_data (no EXPECTED_PARAMETERS), before calling SSM", () => {
      box.writeBootEnv({ expected: null });
      box.setPages([{ parameters: [] }]);
      const result = expectFailure(
        /boot\.env has no EXPECTED_PARAMETERS line: it was written by the user_data of an older create-immutable-app version/,
      );
      expect(result.stderr).toContain("boot.env is versioned with the image");
      expect(() => readFileSync(box.awsCalls)).toThrow();
    });

    it("when EXPECTED_PARAMETERS or CONFIG_REVISION is malformed", () => {
      box.setPages([{ parameters: [] }]);
      box.writeBootEnv({ expected: ["GOOD", "bad-name"] });
      expectFailure(/EXPECTED_PARAMETERS in .*boot\.env is invalid: 'GOOD,bad-name'/);
      writeFileSync(
        join(box.configDir, "boot.env"),
        readFileSync(join(box.configDir, "boot.env"), "utf8").replace("EXPECTED_PARAMETERS=GOOD,bad-name", "EXPECTED_PARAMETERS=A,,B"),
      );
      expectFailure(/EXPECTED_PARAMETERS in .*boot\.env is invalid: 'A,,B'/);
      box.writeBootEnv({ revision: "" });
      expectFailure(/CONFIG_REVISION in .*boot\.env is missing or invalid: ''/);
      box.writeBootEnv({ revision: "0123456789ABCDEF" });
      expectFailure(/CONFIG_REVISION in .*boot\.env is missing or invalid/);
    });

    it("when access is denied (and shows the aws error)", () => {
      const denied =
        "An error occurred (AccessDeniedException) when calling the GetParametersByPath operation: User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: ssm:GetParametersByPath\n";
      box.setPages([{ error: denied }]);
      const result = expectFailure(/reading \/shop\/prod\/ from SSM failed/, ONE_SECOND_BOUND);
      expect(result.stderr).toContain("AccessDeniedException");
    });

    it("when a later page fails (never half-written)", () => {
      box.setPages([trickyPages()[0], { error: "An error occurred (KMS.AccessDeniedException) when decrypting\n" }]);
      expectFailure(/KMS\.AccessDeniedException[\s\S]*from SSM failed/, ONE_SECOND_BOUND);
    });

    it("when a name cannot be an environment variable", () => {
      box.setPages([
        {
          parameters: [
            { name: "/shop/prod/config/bad-name", value: "x" },
            { name: "/shop/prod/other/KEY", value: "y" },
          ],
        },
      ]);
      const result = expectFailure(/refusing to start shop with the parameters under \/shop\/prod\/:/);
      expect(result.stderr).toContain("/shop/prod/config/bad-name: not");
      expect(result.stderr).toContain("/shop/prod/other/KEY: not");
    });

    it("when a config key and a secret share a name", () => {
      box.setPages([
        {
          parameters: [
            { name: configParameterName(APP, ENV, "DB"), value: "a" },
            { name: secretParameterName(APP, ENV, "DB"), value: "b" },
          ],
        },
      ]);
      expectFailure(/\/shop\/prod\/config\/DB and \/shop\/prod\/secret\/DB: same variable name/);
    });

    it("when a name would override the unit's own environment", () => {
      box.setPages([
        {
          parameters: ["PATH", "LD_PRELOAD", "DOCKER_HOST", "APP_PORT"].map((k) => ({
            name: configParameterName(APP, ENV, k),
            value: "x",
          })),
        },
      ]);
      const result = expectFailure(/PATH is reserved/);
      for (const name of ["LD_PRELOAD", "DOCKER_HOST", "APP_PORT"]) expect(result.stderr).toContain(`${name} is reserved`);
    });

    it("when boot.env is incomplete, does not match the app, or is missing", () => {
      box.setPages(trickyPages());
      const bootEnv = join(box.configDir, "boot.env");
      writeFileSync(bootEnv, "APP_NAME=other\nAPP_ENV=prod\n");
      expectFailure(/APP_NAME in .*boot\.env is 'other', expected 'shop'/);
      writeFileSync(bootEnv, "APP_NAME=shop\nAPP_ENV=prod\n");
      expectFailure(/AWS_REGION in .*boot\.env is missing or invalid/);
      writeFileSync(bootEnv, "APP_NAME=shop\nAPP_ENV='prod\nx'\n");
      expectFailure(/boot\.env has a value with a line break/);
      removeDir(bootEnv);
      const result = box.runConfigure();
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/boot\.env is missing: the launch template's user_data writes it/);
    });

    it("when SSM keeps failing in a way that may heal: retried until the bound, then given up, quickly here", () => {
      box.setPages([
        {
          failures: Array.from({ length: 50 }, () => ({
            stderr: '\nCould not connect to the endpoint URL: "https://ssm.eu-west-1.amazonaws.com/"\n',
            exit: 255,
          })),
        },
      ]);
      const started = Date.now();
      // Given up between two attempts, or, on a loaded machine, during the last one, which the bound
      // cuts short (the attempt timeout is what is left of the bound): both are the bound reached.
      const result = expectFailure(
        /reading \/shop\/prod\/ from SSM failed (\d+ times in [\d.]+ s and the bound of 1 s is reached|: no answer within the bound of 1 s \([3-9]\d* attempts\))/,
        ONE_SECOND_BOUND,
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(box.awsCallsFor(0)).toBeGreaterThanOrEqual(3);
      expect(result.stderr).toContain("Could not connect to the endpoint URL");
      expect(result.stderr).toMatch(/retrying in 0\.050 s\n[\s\S]*retrying in 0\.100 s\n/);
    });

    it("when a call hangs: timed out at the bound, however long the call would take", () => {
      box.setPages([{ hang: true }]);
      const started = Date.now();
      expectFailure(/reading \/shop\/prod\/ from SSM failed: no answer within the bound of 1 s \(1 attempts\)/, ONE_SECOND_BOUND);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it.each([
      [
        "a request SSM rejects",
        254,
        "An error occurred (ValidationException) when calling the GetParametersByPath operation: 1 validation error detected",
      ],
      ["a command line the CLI rejects", 252, "aws: error: argument --max-items: expected one argument"],
    ])("at once, without retrying, for %s", (_case, exit, stderr) => {
      box.setPages([{ failures: [{ stderr: `${stderr}\n`, exit }] }]);
      const result = expectFailure(new RegExp(`from SSM failed \\(see the aws error above; exit ${exit}[^)]*does not heal by waiting\\)`));
      expect(result.stderr).toContain(stderr);
      expect(box.awsCallsFor(0)).toBe(1);
    });

    it("when the CloudWatch agent does not start (app.env is complete, the unit still fails)", () => {
      box.setPages(trickyPages());
      const result = box.runConfigure({ FAKE_CTL_EXIT: "3" });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("the CloudWatch agent did not start");
    });
  });

  it("round-trips arbitrary values exactly (fast-check, 10 runs of up to 25 values)", () => {
    const value = fc.oneof(
      fc.string({ unit: "binary", minLength: 1 }),
      fc
        .array(fc.constantFrom('"', "'", "\\", "$", "`", "=", "\n", " ", "\t", "#", ";", "${", "é", "x"), { minLength: 1, maxLength: 12 })
        .map((p) => p.join("")),
    );
    fc.assert(
      fc.property(
        fc.array(
          value.filter((v) => !v.includes("\u0000")),
          { minLength: 1, maxLength: 25 },
        ),
        (values) => {
          const sandbox = new ConfigureSandbox(APP, ENV);
          try {
            sandbox.setPages([{ parameters: values.map((v, i) => ({ name: secretParameterName(APP, ENV, `V${i}`), value: v })) }]);
            const result = sandbox.runConfigure();
            expect(result.stderr).toBe("");
            const systemd = parseSystemdEnvFile(readFileSync(sandbox.appEnvFile, "utf8"));
            const bash = readEnvFileWithBash(sandbox.appEnvFile);
            values.forEach((v, i) => {
              expect(systemd.get(`V${i}`)).toBe(v);
              expect(bash.get(`V${i}`)).toBe(v);
            });
          } finally {
            sandbox.dispose();
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  // Where systemd is not PID 1 (containers, most CI runners) systemd-run cannot start a unit; the
  // image test (scripts/test-image.sh) repeats this check with systemd-run on the real base OS.
  const systemdRunning = existsSync("/run/systemd/system");
  (systemdRunning ? it : it.skip)(
    `is read by the real systemd through systemd-run${systemdRunning ? "" : " (skipped: systemd is not PID 1 here)"}`,
    () => {
      box.setPages(trickyPages());
      expect(box.runConfigure().status).toBe(0);
      for (const [name, value] of Object.entries(tricky)) {
        const result = run("systemd-run", [
          "--quiet",
          "--wait",
          "--pipe",
          "-p",
          `EnvironmentFile=${box.appEnvFile}`,
          "/usr/bin/printenv",
          name,
        ]);
        expect(result.stdout).toBe(`${value}\n`);
      }
    },
  );
});

describe("image test (scripts/test-image.sh)", () => {
  it("expects of systemd exactly what its own SSM stand-in makes the boot script write", () => {
    // The build runs this check against the base OS's systemd; here its fixtures are checked against
    // each other, so that a build fails only for a real reason.
    const script = readFileSync(join(PACKER_DIR, "scripts", "test-image.sh"), "utf8");
    const fakeAws = /cat >"\$fake\/aws" <<'FAKE'\n([\s\S]*?)\nFAKE\n/.exec(script)![1].replace(/\/APP\//g, `/${APP}/`);
    const expectations = script.split("\n").filter((line) => line.startsWith("expect_value "));
    expect(expectations.length).toBeGreaterThanOrEqual(5);
    const expected = run("bash", ["-c", `APP_PORT=8080\nexpect_value() { printf '%s\\0%s\\0' "$1" "$2"; }\n${expectations.join("\n")}`]);
    expect(expected.status).toBe(0);
    const fields = expected.stdout.split("\0");

    // Its boot.env as the build writes it: the script's heredoc, expanded by bash.
    const bootHeredoc = /\ncat >"\$config_dir\/boot.env" <<BOOT\n[\s\S]*?\nBOOT\n/
      .exec(script)![0]
      .replace('"$config_dir/boot.env"', '"$1"');

    const box = new ConfigureSandbox(APP, "image-test");
    try {
      writeFileSync(join(box.binDir, "aws"), `${fakeAws}\n`);
      const bootEnv = join(box.configDir, "boot.env");
      const written = run("bash", ["-c", `APP_NAME=${APP} AWS_REGION=eu-west-1 APP_PORT=8080\n${bootHeredoc}`, "bash", bootEnv]);
      expect(written.stderr).toBe("");
      expect(readFileSync(bootEnv, "utf8")).toMatch(/^EXPECTED_PARAMETERS=IMAGE_TEST_/m);
      const result = box.runConfigure();
      expect(result.stderr).toBe("");
      // Every parameter of the stand-in is expected, so nothing is reported as set out of band.
      expect(result.stdout).not.toContain("out of band");
      const env = parseSystemdEnvFile(readFileSync(box.appEnvFile, "utf8"));
      for (let i = 0; i + 1 < fields.length; i += 2) expect([fields[i], env.get(fields[i])]).toEqual([fields[i], fields[i + 1]]);
      expect(env.get("IMAGE_TEST_NEWLINES")).toBe("line1\nline2");
    } finally {
      box.dispose();
    }
  });
});

describe("publish step (scripts/publish-ami-id.sh) with a fake aws", () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir("publish");
    writeFileSync(join(dir, "aws"), `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >>${shellQuote(join(dir, "calls.log"))}\n`);
    run("chmod", ["+x", join(dir, "aws")]);
    writeFileSync(
      join(dir, "packer-manifest.json"),
      JSON.stringify({
        builds: [
          { name: "app", artifact_id: "eu-west-1:ami-0aaaaaaaaaaaaaaaa", packer_run_uuid: "old-run" },
          { name: "app", artifact_id: "us-east-1:ami-0cccccccccccccccc,eu-west-1:ami-0123456789abcdef0", packer_run_uuid: "this-run" },
        ],
        last_run_uuid: "this-run",
      }),
    );
  });
  afterEach(() => removeDir(dir));

  function publish(parameter: string) {
    return run("bash", [join(PACKER_DIR, "scripts", "publish-ami-id.sh")], {
      env: {
        PATH: `${dir}:${process.env.PATH}`,
        AMI_SSM_PARAMETER: parameter,
        AWS_REGION: "eu-west-1",
        MANIFEST: join(dir, "packer-manifest.json"),
      },
    });
  }

  it("writes this run's AMI id for the build region as an aws:ec2:image parameter", () => {
    const result = publish("/shop/image/ami-id");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, "calls.log"), "utf8")).toBe(
      "ssm put-parameter --region eu-west-1 --name /shop/image/ami-id --type String --data-type aws:ec2:image --value ami-0123456789abcdef0 --overwrite\n",
    );
  });

  it("does nothing when no parameter is configured", () => {
    const result = publish("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("not publishing");
    expect(() => readFileSync(join(dir, "calls.log"))).toThrow();
  });

  it("fails when the manifest has no AMI for the region", () => {
    writeFileSync(join(dir, "packer-manifest.json"), JSON.stringify({ builds: [], last_run_uuid: "x" }));
    const result = publish("/shop/image/ami-id");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("no AMI id for eu-west-1");
  });
});

describe("systemd units (files/*.service)", () => {
  const unavailable = systemdVerifyUnavailable();
  const verifyIt = unavailable ? it.skip : it;
  if (unavailable) console.warn(`systemd-analyze verify skipped: ${unavailable}`);
  const appUnitFile = () => readFileSync(join(PACKER_DIR, "files", "immutable-app@.service"), "utf8");
  const configUnitFile = () => readFileSync(join(PACKER_DIR, "files", "immutable-app-config@.service"), "utf8");

  function verify(appUnit: string, app: string): ReturnType<typeof run> {
    const root = makeTempDir("units");
    try {
      prepareSystemdRoot(
        root,
        {
          "immutable-app@.service": appUnit,
          "immutable-app-config@.service": configUnitFile(),
          "docker.service": "[Unit]\nDescription=stand-in for the docker package's unit\n[Service]\nExecStart=/usr/bin/dockerd\n",
        },
        ["/usr/bin/docker", "/usr/bin/dockerd", "/usr/local/sbin/immutable-app-configure"],
      );
      return run("systemd-analyze", ["verify", "--man=no", `--root=${root}`, serviceUnitName(app), configUnitName(app)]);
    } finally {
      removeDir(root);
    }
  }

  verifyIt("pass systemd-analyze verify as installed, also for apps named like OS units (immutable-app@<app>.service)", () => {
    for (const app of [APP, "docker", "systemd", "ssh"]) {
      const result = verify(appUnitFile(), app);
      expect([app, result.stderr]).toEqual([app, ""]);
      expect(result.status).toBe(0);
    }
  });

  verifyIt("would catch a bad unit: an unknown key is reported", () => {
    const result = verify(appUnitFile().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"), APP);
    expect(result.stderr).toContain("Unknown key 'NoNewPrivilege'");
  });

  it("harden the app unit and tie it to the config unit", () => {
    const unit = appUnitFile();
    for (const line of [
      "Restart=always",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "CapabilityBoundingSet=",
      "Requires=docker.service immutable-app-config@%i.service",
      "After=docker.service immutable-app-config@%i.service network-online.target",
    ]) {
      expect(unit).toMatch(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    }
    // The container: the baked image only, no capabilities, no privilege escalation, read-only root.
    expect(unit).toContain("--pull=never");
    expect(unit).toMatch(/--cap-drop ALL --security-opt no-new-privileges/);
    expect(unit).toContain("--read-only");
    const config = configUnitFile();
    expect(config).toMatch(/^Type=oneshot$/m);
    expect(config).toMatch(/^RemainAfterExit=yes$/m);
    expect(config).toMatch(/^ExecStart=\/usr\/local\/sbin\/immutable-app-configure %i$/m);
  });

  // systemd.unit(5), "Specifiers": %i is the instance name, the part between "@" and the suffix.
  const instantiate = (text: string, app: string) => text.replace(/%i/g, app);
  const setting = (text: string, key: string) =>
    [...text.replace(/\\\n\s*/g, " ").matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]);

  it.each(["shop", "docker", "systemd", "root"])("give app %s exactly the names of managed/names.ts, each behind the prefix", (app) => {
    const unit = instantiate(appUnitFile(), app);
    expect(setting(unit, "User")).toEqual([SERVICE_USER]);
    expect(setting(unit, "Group")).toEqual([SERVICE_USER]);
    expect(setting(unit, "EnvironmentFile")).toEqual([appEnvFile(app)]);
    expect(setting(unit, "StandardOutput")).toEqual([`append:${appLogFile(app)}`]);
    expect(setting(unit, "Requires")[0].split(" ")).toContain(configUnitName(app));
    expect(setting(unit, "ExecStartPre")).toEqual([`-/usr/bin/docker rm --force ${containerName(app)}`]);
    expect(setting(unit, "ExecStop")).toEqual([`/usr/bin/docker stop --time 20 ${containerName(app)}`]);
    const start = setting(unit, "ExecStart")[0].split(/\s+/);
    expect(start[start.indexOf("--name") + 1]).toBe(containerName(app));
    expect(start[start.length - 1]).toBe(bakedImageName(app));
    const config = instantiate(configUnitFile(), app);
    expect(setting(config, "Before")).toEqual([serviceUnitName(app)]);
    expect(setting(config, "ExecStart")).toEqual([`/usr/local/sbin/immutable-app-configure ${app}`]);
  });

  it("use the app name nowhere but in those names", () => {
    const app = "zq-app";
    const names = [
      serviceUnitName(app),
      configUnitName(app),
      appEnvFile(app),
      configDir(app),
      appLogFile(app),
      bakedImageName(app),
      containerName(app),
      `immutable-app-configure ${app}`,
    ];
    for (const text of [instantiate(appUnitFile(), app), instantiate(configUnitFile(), app)]) {
      const rest = names.reduce(
        (t, name) => t.split(name).join(""),
        text
          .split("\n")
          .filter((l) => !/^(#|Description=)/.test(l))
          .join("\n"),
      );
      expect(rest).not.toContain(app);
    }
  });
});
