/**
 * The real bake scripts (install-app, harden, test-image, cleanup) and the real boot (the stacks'
 * user_data, then the config unit's script) run as root in a throw-away overlay of this machine's
 * root filesystem, with their real paths; the overlay's upper layer shows every file they touched.
 * See support/image-root.ts for what runs for real and what is a stand-in.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  appEnvFile,
  bakedImageName,
  bootEnvFile,
  cloudWatchAgentConfigFile,
  configDir,
  containerName,
  appLogFile,
  logGroupName,
  parameterPath,
  provenanceFile,
  SERVICE_USER,
  readyUnitName,
  resourcePrefix,
  serviceUnitName,
} from "../managed/names";
import { renderUserData } from "../managed/user-data";
import { type Change, ImageRoot, imageRootUnavailable, ROOT_PATH } from "./support/image-root";
import { PACKER_DIR, parseSystemdEnvFile, type RunResult } from "./support/packer";

const unavailable = imageRootUnavailable();
const rootDescribe = unavailable ? describe.skip : describe;
if (unavailable) console.warn(`overlay-root tests skipped: ${unavailable}`);

const BAKE_SCRIPTS = ["install-app.sh", "harden.sh", "test-image.sh", "cleanup.sh"];
const BOOT_ENV = "boot";

/** The variables app.pkr.hcl passes to every provisioner script. */
function bakeEnv(app: string): Record<string, string> {
  return {
    APP_NAME: app,
    APP_VERSION: "1.4.2",
    AWS_REGION: "eu-west-1",
    BASE_OS: "ubuntu-24.04",
    CONTAINER_IMAGE: "registry.example.com/team/app:1.4.2",
    APP_PORT: "8080",
    HEALTH_CHECK_PATH: "/healthz",
    STAGING_DIR: "/tmp/immutable-app",
  };
}

interface Run {
  readonly step: string;
  readonly result: RunResult;
}

/** Bakes the image for `app`, then boots it the way an instance does; returns every step's result. */
function bakeAndBoot(root: ImageRoot, app: string): Run[] {
  const runs: Run[] = BAKE_SCRIPTS.map((script) => ({ step: script, result: root.runScript(script, bakeEnv(app)) }));
  const userData = root.writeTmp(
    "user-data.sh",
    renderUserData({
      appName: app,
      environment: BOOT_ENV,
      region: "eu-west-1",
      appPort: 8080,
      config: { GREETING: "hello" },
      secrets: [],
    }),
  );
  runs.push({ step: "user_data", result: root.run(`bash ${userData}`) });
  // As immutable-app-config@<app>.service runs it (its Environment=PATH, without /snap/bin).
  runs.push({ step: "config unit", result: root.run(`/usr/local/sbin/immutable-app-configure ${app}`, { PATH: ROOT_PATH }) });
  return runs;
}

function failures(runs: readonly Run[]): string[] {
  return runs.filter((r) => r.result.status !== 0).map((r) => `${r.step} exited ${r.result.status}: ${r.result.stderr.trim()}`);
}

/** Lines that `after` has and `before` has not, and the reverse. */
function lineDiff(before: string, after: string): { added: string[]; removed: string[] } {
  const a = new Set(before.split("\n").filter(Boolean));
  const b = new Set(after.split("\n").filter(Boolean));
  return { added: [...b].filter((l) => !a.has(l)), removed: [...a].filter((l) => !b.has(l)) };
}

/** Entries that depend on the host rather than on the scripts (its logs truncated by cleanup.sh). */
const hostNoise = (c: Change) => /^var\/log\//.test(c.path) && !/^var\/log\/immutable-app(\/|$)/.test(c.path);

/** Everything an app's bake and boot left, with the app name replaced by a marker. */
interface Footprint {
  readonly changes: string[];
  readonly calls: string[];
  readonly userDatabase: Record<string, { added: string[]; removed: string[] }>;
  readonly namespacedFiles: Record<string, string>;
}

/**
 * Replaces every name managed/names.ts derives from `app` (and the boot contract's values of it) by
 * the same name of "<APP>". Only those: an app called ssh must not turn /etc/ssh into /etc/<APP>.
 */
function marker(app: string): (text: string) => string {
  const derived = (a: string) => [
    serviceUnitName(a),
    readyUnitName(a),
    containerName(a),
    bakedImageName(a),
    configDir(a).slice(1),
    provenanceFile(a).slice(1),
    appLogFile(a).slice(1),
    logGroupName(a, BOOT_ENV),
    parameterPath(a, BOOT_ENV),
    `APP_NAME=${a}`,
    `APP_NAME="${a}"`,
    `immutable-app-configure ${a}`,
    `immutable-app-ready ${a}`,
    // ASG_NAME, LIFECYCLE_HOOK and METRICS_NAMESPACE of boot.env all start with it.
    resourcePrefix(a, BOOT_ENV),
  ];
  const pairs = derived(app)
    .map((name, i) => [name, derived("<APP>")[i]] as const)
    .sort((x, y) => y[0].length - x[0].length);
  return (text) => pairs.reduce((t, [from, to]) => t.split(from).join(to), text);
}

function footprint(root: ImageRoot, app: string): Footprint {
  const mark = marker(app);
  const changes = root.changes().filter((c) => !hostNoise(c));
  const userDatabase = Object.fromEntries(["etc/passwd", "etc/group"].map((f) => [f, lineDiff(root.readOriginal(f), root.readFile(f))]));
  const namespacedFiles = Object.fromEntries(
    changes
      .filter((c) => c.type === "f" && /^(etc|usr\/local\/share)\/immutable-app\//.test(c.path))
      .map((c) => [mark(c.path), mark(root.readFile(c.path))]),
  );
  return {
    changes: changes.map((c) => mark(`${c.type} ${c.path}${c.target ? ` -> ${c.target}` : ""}`)),
    calls: root.calls().map(mark),
    userDatabase,
    namespacedFiles,
  };
}

rootDescribe("an app's name on the instance, with the real scripts in an overlay root", () => {
  // A name no OS has, so that every path or argument that contains it was derived from it.
  const REFERENCE = "reference-app";
  let reference: Footprint;
  let referenceRoot: ImageRoot;
  let referenceRuns: Run[];

  beforeAll(() => {
    referenceRoot = new ImageRoot();
    referenceRuns = bakeAndBoot(referenceRoot, REFERENCE);
    reference = footprint(referenceRoot, REFERENCE);
  });
  afterAll(() => referenceRoot?.dispose());

  it("bakes and boots, and gives the app on disk exactly the names of managed/names.ts", () => {
    expect(failures(referenceRuns)).toEqual([]);
    const app = REFERENCE;
    const rel = (path: string) => path.replace(/^\//, "");
    const named = referenceRoot.changes().filter((c) => c.path.includes(app) || c.target?.includes(app));
    expect(named.map((c) => `${c.type} ${c.path}${c.target ? ` -> ${c.target}` : ""}`).sort()).toEqual(
      [
        `d ${rel(configDir(app))}`,
        `f ${rel(bootEnvFile(app))}`,
        `f ${rel(appEnvFile(app))}`,
        `f ${rel(cloudWatchAgentConfigFile(app))}`,
        `f ${rel(provenanceFile(app))}`,
        // `systemctl enable` of the template's instance (systemd.unit(5), [Install]).
        `l etc/systemd/system/multi-user.target.wants/${serviceUnitName(app)} -> /etc/systemd/system/immutable-app@.service`,
        // The unit that completes the launch lifecycle hook, enabled with it by the user data.
        `l etc/systemd/system/multi-user.target.wants/${readyUnitName(app)} -> /etc/systemd/system/immutable-app-ready@.service`,
      ].sort(),
    );
    // The units are the repository's files, installed under their own, fixed names.
    for (const unit of ["immutable-app@.service", "immutable-app-config@.service", "immutable-app-ready@.service"]) {
      expect(referenceRoot.readFile(`etc/systemd/system/${unit}`)).toBe(readFileSync(join(PACKER_DIR, "files", unit), "utf8"));
    }
  });

  it("adds one system user and group, immutable-app, and changes no other account", () => {
    for (const file of ["etc/passwd", "etc/group"]) {
      const { added, removed } = reference.userDatabase[file];
      expect(removed).toEqual([]);
      expect(added.map((line) => line.split(":")[0])).toEqual([SERVICE_USER]);
    }
    const user = reference.userDatabase["etc/passwd"].added[0].split(":");
    expect(user[5]).toBe("/nonexistent");
    expect(user[6]).toMatch(/\/nologin$/);
  });

  it("calls docker, systemctl and aws with the app only inside those names", () => {
    const app = REFERENCE;
    const allowed = new Set([
      serviceUnitName(app),
      readyUnitName(app),
      containerName(app),
      bakedImageName(app),
      parameterPath(app, BOOT_ENV),
      `file:${cloudWatchAgentConfigFile(app)}`,
      `EnvironmentFile=${appEnvFile(app)}`,
    ]);
    const words = referenceRoot
      .calls()
      .flatMap((call) => call.split(" "))
      .filter((word) => word.includes(app));
    expect(words.filter((word) => !allowed.has(word))).toEqual([]);
    // The boot wrote what the app unit reads, where it reads it.
    const env = parseSystemdEnvFile(referenceRoot.readFile(appEnvFile(app)));
    expect([env.get("APP_NAME"), env.get("GREETING")]).toEqual([app, "hello"]);
    const agent = JSON.parse(referenceRoot.readFile(cloudWatchAgentConfigFile(app)));
    expect(agent.logs.logs_collected.files.collect_list[0].file_path).toBe(appLogFile(app));
    expect(referenceRoot.calls()).toContain(`docker tag ${bakeEnv(app).CONTAINER_IMAGE} ${bakedImageName(app)}`);
    expect(referenceRoot.calls()).toContain(`systemctl enable --now ${serviceUnitName(app)} ${readyUnitName(app)}`);
  });

  // Names the base OSes or docker already use for something else.
  it.each(["docker", "systemd", "ssh", "root", "daemon", "immutable-app"])(
    "an app named %s bakes, boots and touches exactly what any app touches, under its own name",
    (app) => {
      const root = new ImageRoot();
      try {
        expect(failures(bakeAndBoot(root, app))).toEqual([]);
        expect(footprint(root, app)).toEqual(reference);
      } finally {
        root.dispose();
      }
    },
  );
});

/** The units harden.sh masks (a test in packer-scripts keeps test-image.sh's list equal). */
function noUpdateUnits(): string[] {
  const script = readFileSync(join(PACKER_DIR, "scripts", "harden.sh"), "utf8");
  return /^no_update_units=\(\n([\s\S]*?)\n\)$/m.exec(script)![1].split(/\s+/).filter(Boolean);
}

rootDescribe("no change after the bake: harden.sh holds it, test-image.sh proves it", () => {
  // What an Ubuntu 24.04 build instance has as snaps once install-runtime.sh added the AWS CLI.
  const SNAPS = ["amazon-ssm-agent", "aws-cli", "core22", "core24", "snapd"];
  const app = "shop";
  let root: ImageRoot;
  let hardened: Run[];

  beforeAll(() => {
    root = new ImageRoot({ snaps: SNAPS });
    hardened = ["install-app.sh", "harden.sh"].map((script) => ({ step: script, result: root.runScript(script, bakeEnv(app)) }));
  });
  afterAll(() => root?.dispose());

  it("masks every update unit, turns apt's periodic runs off, holds every snap, and the image test passes", () => {
    expect(failures(hardened)).toEqual([]);
    const links = root
      .changes()
      .filter((c) => c.type === "l")
      .map((c) => `${c.path} -> ${c.target}`);
    for (const unit of noUpdateUnits()) expect(links).toContain(`etc/systemd/system/${unit} -> /dev/null`);
    for (const option of ["APT::Periodic::Update-Package-Lists", "APT::Periodic::Unattended-Upgrade"]) {
      expect(root.run(`apt-config shell value ${option}`).stdout).toBe("value='0'\n");
    }
    expect(root.calls()).toEqual(expect.arrayContaining(["snap refresh --hold", `snap refresh --hold ${SNAPS.join(" ")}`]));
    const test = root.runScript("test-image.sh", bakeEnv(app));
    expect(test.stderr).toBe("");
    expect(test.status).toBe(0);
  });

  // Each case undoes one part of the hardening, as a package postinst or a hand on the instance
  // would; the image test must fail, naming it. Each case restores what it undid.
  it.each([
    [
      "a timer re-enabled",
      "systemctl unmask apt-daily-upgrade.timer && systemctl enable apt-daily-upgrade.timer",
      "IMAGE TEST FAILED: apt-daily-upgrade.timer is enabled, expected masked",
      "systemctl mask apt-daily-upgrade.timer",
    ],
    [
      "a unit unmasked",
      "systemctl unmask motd-news.timer",
      /IMAGE TEST FAILED: motd-news\.timer is \S+, expected masked/,
      "systemctl mask motd-news.timer",
    ],
    [
      "one snap's hold released",
      "snap refresh --unhold amazon-ssm-agent",
      "IMAGE TEST FAILED: snaps not held: amazon-ssm-agent",
      "snap refresh --hold amazon-ssm-agent",
    ],
    [
      "the hold of all snaps' auto-refreshes released",
      "snap refresh --unhold",
      "IMAGE TEST FAILED: snap auto-refreshes are not held forever",
      "snap refresh --hold",
    ],
    [
      "apt's unattended upgrades switched back on",
      "echo 'APT::Periodic::Unattended-Upgrade \"1\";' >/etc/apt/apt.conf.d/99zz-test",
      "IMAGE TEST FAILED: APT::Periodic::Unattended-Upgrade is '1', expected '0'",
      "rm /etc/apt/apt.conf.d/99zz-test",
    ],
  ] as const)("fails the bake when %s", (_case, undo, message: string | RegExp, restore) => {
    expect(root.run(undo).status).toBe(0);
    try {
      const test = root.runScript("test-image.sh", bakeEnv(app));
      expect(test.status).not.toBe(0);
      if (typeof message === "string") expect(test.stderr).toContain(message);
      else expect(test.stderr).toMatch(message);
    } finally {
      expect(root.run(restore).status).toBe(0);
    }
  });
});
