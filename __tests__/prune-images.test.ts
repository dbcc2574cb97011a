/**
 * managed/prune-images.sh, and `npm run images:prune` (managed/images-prune.ts) in front of it, against
 * the emulated AWS (moto server, __tests__/support/emulated_aws.py): images of an app made the way
 * Packer makes them (CreateImage from an instance, tagged app=<app>), Auto Scaling groups and launch
 * templates of the app that reference some of them in each of the ways the script counts as in use,
 * then a dry run, the prune itself, and a second prune that finds nothing left to do.
 *
 * What moto 5.2.5 fakes or lacks here (read in .venv/lib/python3.11/site-packages/moto):
 * - CreationDate: moto/ec2/models/amis.py Ami.__init__ sets `creation_date = utcnow()`, and
 *   moto/ec2/utils.py format_timestamp writes it as "%Y-%m-%dT%H:%M:%S.000Z": whole seconds, as AWS
 *   reports it. Images made within one second tie. The test waits more than a second before each of
 *   the two newest images, so that those two are strictly newer than the rest and ordered; the older
 *   ones share seconds, and their order among themselves does not matter to what is checked.
 * - Snapshots: every AMI gets one snapshot that moto makes for it (Ami.__init__ calls create_snapshot
 *   with from_ami), and RegisterImage takes only a name and a description (ec2/responses/amis.py), so
 *   two AMIs that share one snapshot cannot be made: the script's "another AMI uses this snapshot"
 *   branch is not exercised. CreateImage refuses TagSpecifications for snapshots (models/amis.py
 *   create_image: NotImplementedError), so these snapshots carry no tags; the script reads none.
 * - DeleteSnapshot refuses the snapshot of a registered AMI (models/elastic_block_store.py
 *   delete_snapshot: InvalidSnapshotInUse), as AWS does; deleting the snapshots of the pruned images
 *   succeeds only because they were deregistered first.
 * - DescribeLaunchTemplateVersions ignores ResolveAlias (responses/launch_templates.py), so a
 *   resolve:ssm image comes back as the parameter name; the script reads the parameter itself, which
 *   works with AWS too. moto does not check that an aws:ec2:image parameter holds an existing AMI.
 * - DescribeLaunchTemplateVersions without a template (the latest and default versions of every
 *   template, which the script asks for in one call) stops at MaxResults, 15 by default, and moto
 *   returns no NextToken (responses/launch_templates.py), where AWS pages: the test has 5 templates.
 * - moto has no instance-refresh API: the recording handler of emulated_aws.py answers it, including
 *   the DesiredConfiguration of a refresh; the refresh here is told to stay InProgress.
 * - moto's default AMIs (owner alias "amazon", moto/ec2/resources/amis.json) exist in every region:
 *   one is the base of the build instance, and `--owners self` must leave them all out.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePruneArgs, type PruneOptions, pruneScriptArgs, UsageError } from "../managed/images-prune";
import { EmulatedAws } from "./support/emulated-aws";
import { tempDir } from "./support/terraform";

const REPO = join(__dirname, "..");
const SCRIPT = join(REPO, "managed", "prune-images.sh");
const ENTRY = join(REPO, "managed", "images-prune.ts");
const REGION = "eu-west-2";
const APP = "shop";
const KEEP = 2;
const PARAMETER = "/shop/image/ami-id";

jest.setTimeout(180_000);

let emu: EmulatedAws;
/** The app's images by role; `remove` are the ones nothing keeps. */
let images: {
  remove: string[];
  groupVersion: string;
  previousRelease: string;
  refreshDesired: string;
  latestViaSsm: string;
  instance: string;
  taggedTemplate: string;
  newest: string;
  secondNewest: string;
};
let otherApp: string;
let untagged: string;
let snapshotOf: Record<string, string[]>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function aws(args: string[]): any {
  return emu.aws(REGION, args);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    env: { ...process.env, ...emu.cliEnv(REGION), GITHUB_ACTIONS: "", ...env },
    encoding: "utf8",
    // A pipe, not a terminal: the script must not wait for an answer.
    input: "",
    timeout: 170_000,
  });
}

function prune(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return run("bash", [SCRIPT, ...args], env);
}

function appImages(app = APP): string[] {
  return aws([
    "ec2",
    "describe-images",
    "--owners",
    "self",
    "--filters",
    `Name=tag:app,Values=${app}`,
    "--query",
    "Images[].ImageId",
  ]).sort();
}

function ownedSnapshots(): string[] {
  return aws(["ec2", "describe-snapshots", "--owner-ids", "self", "--query", "Snapshots[].SnapshotId"]).sort();
}

/** The images a run lists under "remove", in its order. */
function listedForRemoval(stdout: string): string[] {
  return [...stdout.matchAll(/^ {2}remove {2}(ami-[0-9a-f]+) /gm)].map((m) => m[1]);
}

/** The reasons a run gives for keeping `image`. */
function keptBecause(stdout: string, image: string): string {
  const line = stdout.split("\n").find((l) => l.startsWith(`  keep    ${image} `));
  if (!line) throw new Error(`${image} is not listed as kept:\n${stdout}`);
  return line;
}

beforeAll(async () => {
  emu = await EmulatedAws.start();
  // Packer's way: a build instance from an official image, CreateImage from it, the image tagged.
  const base: string = aws(["ec2", "describe-images", "--owners", "amazon", "--query", "Images[0].ImageId"]);
  const builder: string = aws([
    "ec2",
    "run-instances",
    "--image-id",
    base,
    "--instance-type",
    "t3.small",
    "--query",
    "Instances[0].InstanceId",
  ]);
  let n = 0;
  const bake = (app: string | undefined): string => {
    n += 1;
    const name = `${app ?? "untagged"}-0.${n}.0-2025010100000${n}`;
    const tags = app ? ["--tag-specifications", `ResourceType=image,Tags=[{Key=app,Value=${app}},{Key=Name,Value=${name}}]`] : [];
    return aws(["ec2", "create-image", "--instance-id", builder, "--name", name, ...tags]).ImageId;
  };
  const oldest = bake(APP);
  const groupVersion = bake(APP);
  const previousRelease = bake(APP);
  const refreshDesired = bake(APP);
  const latestViaSsm = bake(APP);
  const instance = bake(APP);
  const middle = bake(APP);
  const taggedTemplate = bake(APP);
  otherApp = bake("other");
  untagged = bake(undefined);
  await sleep(1100);
  const secondNewest = bake(APP);
  await sleep(1100);
  const newest = bake(APP);
  images = {
    remove: [oldest, middle],
    groupVersion,
    previousRelease,
    refreshDesired,
    latestViaSsm,
    instance,
    taggedTemplate,
    newest,
    secondNewest,
  };

  const described = aws([
    "ec2",
    "describe-images",
    "--owners",
    "self",
    "--query",
    "Images[].[ImageId, BlockDeviceMappings[].Ebs.SnapshotId]",
  ]);
  snapshotOf = Object.fromEntries(described.map(([id, snapshots]: [string, string[]]) => [id, snapshots]));

  const template = (name: string, imageId: string, tags: string[] = []): string =>
    aws([
      "ec2",
      "create-launch-template",
      "--launch-template-name",
      name,
      "--launch-template-data",
      JSON.stringify({ ImageId: imageId, InstanceType: "t3.small" }),
      ...tags,
      "--query",
      "LaunchTemplate.LaunchTemplateId",
    ]);
  const version = (id: string, imageId: string): void => {
    aws([
      "ec2",
      "create-launch-template-version",
      "--launch-template-id",
      id,
      "--launch-template-data",
      JSON.stringify({ ImageId: imageId, InstanceType: "t3.small" }),
    ]);
  };
  const group = (name: string, templateId: string, templateVersion: string, app = APP): void => {
    aws([
      "autoscaling",
      "create-auto-scaling-group",
      "--auto-scaling-group-name",
      name,
      "--launch-template",
      `LaunchTemplateId=${templateId},Version=${templateVersion}`,
      // No instances: each image below is kept by one rule only.
      "--min-size",
      "0",
      "--max-size",
      "2",
      "--desired-capacity",
      "0",
      "--availability-zones",
      `${REGION}a`,
      "--tags",
      `Key=app,Value=${app},PropagateAtLaunch=true`,
    ]);
  };

  // qa: on version 1; version 2 (applied, not rolled out yet) takes its image from an SSM parameter.
  const qa = template("shop-qa-", groupVersion);
  aws(["ssm", "put-parameter", "--name", PARAMETER, "--type", "String", "--data-type", "aws:ec2:image", "--value", latestViaSsm]);
  version(qa, `resolve:ssm:${PARAMETER}`);
  group("shop-qa", qa, "1");

  // edge: on version 2 (latest and default, the newest image); a refresh under way takes it back to
  // version 1, the way a rollback by hand does.
  const edge = template("shop-edge-", refreshDesired);
  version(edge, newest);
  aws(["ec2", "modify-launch-template", "--launch-template-id", edge, "--default-version", "2"]);
  group("shop-edge", edge, "2");
  await emu.setRefreshOutcome({ group: "shop-edge", status: "Successful", steps: 1000 });
  aws([
    "autoscaling",
    "start-instance-refresh",
    "--auto-scaling-group-name",
    "shop-edge",
    "--desired-configuration",
    JSON.stringify({ LaunchTemplate: { LaunchTemplateId: edge, Version: "1" } }),
  ]);

  // An instance of one of the app's images with no tag at all: kept through the instance itself.
  aws(["ec2", "run-instances", "--image-id", instance, "--instance-type", "t3.small"]);

  // An environment that lags behind: it runs the second-newest image, and its previous release (its
  // rollback target) is one of the oldest images.
  const prod = template("shop-prod-", previousRelease);
  version(prod, secondNewest);
  aws(["ec2", "modify-launch-template", "--launch-template-id", prod, "--default-version", "2"]);
  group("shop-prod", prod, "2");

  // A template of the app that no group uses (one a team added beside the stack's): the provider's
  // default_tags give it the app tag.
  template("shop-spare-", taggedTemplate, ["--tag-specifications", `ResourceType=launch-template,Tags=[{Key=app,Value=${APP}}]`]);

  // Another app's group on the other app's image: nothing of it is looked at.
  group("other-qa", template("other-qa-", otherApp), "1", "other");
  // Each AWS CLI call starts a Python process: about 30 of them here, seconds each on a busy machine.
}, 300_000);

afterAll(async () => {
  await emu?.stop();
});

describe("prune-images.sh: usage", () => {
  it.each([
    [["--region", REGION, "--keep", "2"], /--app is required/],
    [["--app", "Shop!", "--region", REGION, "--keep", "2"], /--app Shop! is not an app name/],
    [["--app", APP, "--keep", "2"], /--region is required/],
    [["--app", APP, "--region", "mars", "--keep", "2"], /--region mars is not an AWS region/],
    [["--app", APP, "--region", REGION], /--keep is required/],
    [["--app", APP, "--region", REGION, "--keep", "0"], /--keep 0 is not a whole number from 1 to 1000/],
    [["--app", APP, "--region", REGION, "--keep", "1001"], /--keep 1001 is not a whole number/],
    [["--app", APP, "--region", REGION, "--keep", "many"], /--keep many is not a whole number/],
    [["--app", APP, "--region", REGION, "--keep", "--dry-run"], /--keep needs a value/],
    [["--app", APP, "--region", REGION, "--keep", "2", "--force"], /unknown argument --force/],
  ])("%j exits 2 naming the flag", (args, message) => {
    const result = prune(args);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(2);
  });

  it("refuses to remove without --yes when it cannot ask (no terminal), before any AWS call", () => {
    const before = appImages();
    const result = prune(["--app", APP, "--region", REGION, "--keep", "2"], { AWS_ENDPOINT_URL: "http://127.0.0.1:9" });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/pass --yes to remove without asking \(CI\), or --dry-run/);
    expect(appImages()).toEqual(before);
  });

  it("--help prints the usage and exits 0", () => {
    const result = prune(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^prune-images\.sh --app NAME --region REGION --keep N \[--dry-run\] \[--yes\]/);
  });

  it("exits 1 when AWS cannot be reached, and removes nothing", () => {
    const result = prune(["--app", APP, "--region", REGION, "--keep", "2", "--yes"], {
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      AWS_MAX_ATTEMPTS: "1",
    });
    expect(result.stderr).toMatch(/cannot list the images of the account/);
    expect(result.status).toBe(1);
  });
});

describe("prune-images.sh against the emulated AWS", () => {
  let dryRun: SpawnSyncReturns<string>;
  let snapshotsBefore: string[];

  beforeAll(() => {
    snapshotsBefore = ownedSnapshots();
    dryRun = prune(["--app", APP, "--region", REGION, "--keep", String(KEEP), "--dry-run"]);
  });

  it("--dry-run lists the images it would remove, and changes nothing", () => {
    expect(dryRun.stderr).toBe("");
    expect(dryRun.status).toBe(0);
    expect(dryRun.stdout).toMatch(
      /^shop in eu-west-2: 10 image\(s\) of this app \(owner self, tag app=shop\); keeping the newest 2 and every image in use$/m,
    );
    expect(listedForRemoval(dryRun.stdout).sort()).toEqual([...images.remove].sort());
    for (const image of images.remove) {
      expect(dryRun.stdout).toContain(`older than the newest 2, not in use; snapshots: ${snapshotOf[image].join(",")}`);
    }
    expect(dryRun.stdout).toMatch(/^dry run: would deregister 2 image\(s\) and delete their snapshots; nothing was changed$/m);
    expect(appImages()).toHaveLength(10);
    expect(ownedSnapshots()).toEqual(snapshotsBefore);
  });

  it("--dry-run says why each kept image is kept", () => {
    const out = dryRun.stdout;
    expect(keptBecause(out, images.newest)).toMatch(
      /: newest \(1 of 2\); in use: launch template lt-\w+ version 2: the version of group shop-edge, the template's latest \(what the next rollout rolls out\), the template's default$/,
    );
    expect(keptBecause(out, images.secondNewest)).toMatch(
      /: newest \(2 of 2\); in use: launch template lt-\w+ version 2: the version of group shop-prod, the template's latest \(what the next rollout rolls out\), the template's default$/,
    );
    expect(keptBecause(out, images.previousRelease)).toMatch(
      /: in use: launch template lt-\w+ version 1: the version before group shop-prod's \(its rollback target\)$/,
    );
    expect(keptBecause(out, images.groupVersion)).toMatch(
      /: in use: launch template lt-\w+ version 1: the version of group shop-qa, the template's default$/,
    );
    expect(keptBecause(out, images.latestViaSsm)).toMatch(
      /: in use: launch template lt-\w+ version 2 \(image from resolve:ssm:\/shop\/image\/ami-id\): the template's latest \(what the next rollout rolls out\)$/,
    );
    expect(keptBecause(out, images.refreshDesired)).toMatch(
      /: in use: launch template lt-\w+ version 1: the version before group shop-edge's \(its rollback target\), the desired version of instance refresh [0-9a-f-]+ of group shop-edge \(InProgress\)$/,
    );
    expect(keptBecause(out, images.instance)).toMatch(/: in use: instance i-\w+ \(running\)$/);
    expect(keptBecause(out, images.taggedTemplate)).toMatch(
      /: in use: launch template lt-\w+ version 1: the template's latest \(what the next rollout rolls out\), the template's default$/,
    );
    // Only this app's images are listed: not the other app's, not an untagged one, not moto's defaults.
    expect(out).not.toContain(otherApp);
    expect(out).not.toContain(untagged);
    expect(out.split("\n").filter((l) => /^ {2}(keep|remove) /.test(l))).toHaveLength(10);
  });

  it("npm run images:prune hands the script the config's app, region and keepImages", () => {
    const dir = tempDir("prune-config");
    const config = join(dir, "immutable.config.json");
    writeFileSync(config, JSON.stringify({ appName: APP, region: REGION, image: { keepImages: 10 } }));
    const result = run(process.execPath, ["--import", "tsx", ENTRY, "--dry-run"], { IMMUTABLE_CONFIG: config });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "shop in eu-west-2: 10 image(s) of this app (owner self, tag app=shop); keeping the newest 10 and every image in use",
    );
    expect(result.stdout).toContain("nothing to remove");
  });

  it("in a terminal without --yes, asks first; any answer but yes removes nothing", () => {
    const dir = tempDir("prune-pty");
    const script = join(dir, "answers.json");
    writeFileSync(script, JSON.stringify([["Deregister these 2 image\\(s\\) and delete their snapshots\\? \\[y/N\\] ", "n\r"]]));
    const result = run(
      "python3",
      [join(__dirname, "support", "cli-pty.py"), script, "--", "bash", SCRIPT, "--app", APP, "--region", REGION, "--keep", String(KEEP)],
      { CLI_PTY_TIMEOUT: "150" },
    );
    const transcript = result.stdout.replace(/\r\n/g, "\n");
    expect(transcript).toMatch(/^nothing removed$/m);
    expect(result.status).toBe(0);
    expect(listedForRemoval(transcript)).toEqual(listedForRemoval(dryRun.stdout));
    expect(appImages()).toHaveLength(10);
  });

  it("--yes deregisters exactly what the dry run listed, with their snapshots, and keeps the rest", () => {
    const result = prune(["--app", APP, "--region", REGION, "--keep", String(KEEP), "--yes"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(listedForRemoval(result.stdout)).toEqual(listedForRemoval(dryRun.stdout));
    const removedSnapshots = images.remove.flatMap((image) => snapshotOf[image]);
    expect(removedSnapshots).toHaveLength(2);
    expect(result.stdout).toMatch(/^removed 2 image\(s\) and 2 snapshot\(s\)$/m);

    const kept = [
      images.groupVersion,
      images.previousRelease,
      images.refreshDesired,
      images.latestViaSsm,
      images.instance,
      images.taggedTemplate,
      images.secondNewest,
      images.newest,
    ];
    expect(appImages()).toEqual([...kept].sort());
    const snapshotsAfter = ownedSnapshots();
    expect(snapshotsAfter).toEqual(snapshotsBefore.filter((s) => !removedSnapshots.includes(s)));
    // The other app's image and the untagged one are untouched, and so are the kept images' snapshots.
    expect(appImages("other")).toEqual([otherApp]);
    expect(aws(["ec2", "describe-images", "--image-ids", untagged, "--query", "Images[].ImageId"])).toEqual([untagged]);
    for (const image of [otherApp, untagged, ...kept]) expect(snapshotsAfter).toEqual(expect.arrayContaining(snapshotOf[image]));
  });

  it("a second run finds nothing to remove", () => {
    const result = prune(["--app", APP, "--region", REGION, "--keep", String(KEEP), "--yes"]);
    expect(result.status).toBe(0);
    expect(listedForRemoval(result.stdout)).toEqual([]);
    expect(result.stdout).toMatch(/^nothing to remove$/m);
    expect(appImages()).toHaveLength(8);
  });
});

describe("npm run images:prune: its flags", () => {
  const config = { appName: APP, region: REGION, image: { keepImages: 5 } } as const;

  it("passes the config's app, region and keepImages; --keep overrides; --dry-run and --yes pass through", () => {
    expect(pruneScriptArgs(config, parsePruneArgs([]) as PruneOptions)).toEqual(["--app", APP, "--region", REGION, "--keep", "5"]);
    expect(pruneScriptArgs(config, parsePruneArgs(["--keep", "3", "--dry-run"]) as PruneOptions)).toEqual([
      "--app",
      APP,
      "--region",
      REGION,
      "--keep",
      "3",
      "--dry-run",
    ]);
    expect(pruneScriptArgs(config, parsePruneArgs(["--keep=12", "--yes"]) as PruneOptions)).toEqual([
      "--app",
      APP,
      "--region",
      REGION,
      "--keep",
      "12",
      "--yes",
    ]);
    expect(parsePruneArgs(["--dry-run", "--help"])).toBe("help");
  });

  it.each([
    [["--keep", "0"], /--keep "0" is not a whole number from 1 to 1000/],
    [["--keep", "1001"], /--keep "1001" is not a whole number/],
    [["--keep=two"], /--keep "two" is not a whole number/],
    [["--keep"], /--keep needs a number/],
    [["--keep", "--yes"], /--keep needs a number/],
    [["--all"], /unknown argument --all/],
  ])("%j is a usage error naming the flag", (args, message) => {
    expect(() => parsePruneArgs(args)).toThrow(UsageError);
    expect(() => parsePruneArgs(args)).toThrow(message);
  });

  it("exits 2 on a bad flag, before reading the config", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", ENTRY, "--keep", "0"], {
      encoding: "utf8",
      env: { ...process.env, IMMUTABLE_CONFIG: "/nonexistent/immutable.config.json" },
      timeout: 60_000,
    });
    expect(result.stderr).toMatch(/^images:prune: --keep "0" is not a whole number from 1 to 1000$/m);
    expect(result.status).toBe(2);
  });
});

describe("prune-images.sh: the script itself", () => {
  it("is shellcheck clean", () => {
    const result = spawnSync("shellcheck", ["--severity=style", "--shell=bash", SCRIPT], { encoding: "utf8" });
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
