/**
 * What the local-VM test gives the VM in place of the internet: a registry on the host (Debian's
 * docker-registry, reached from the VM at 10.0.2.2) holding a small app image assembled here from
 * Debian's static busybox (no Docker on the host), pushed with Debian's skopeo.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { resolveConfig } from "../../managed/config-validation";
import type { BaseDisk } from "../../managed/local-vm/base-disk";
import { bootLocal, type LocalBoot } from "../../managed/local-vm/boot";
import { exampleConfigJson, REPO_ROOT, synthProject } from "./synth";
import { resourcesOf, TerraformDir, writeCliConfig } from "./terraform";

/** The app: answers its health path with busybox httpd, shows GREETING from its config at /greeting, crashes at start when CRASH_AT_START is set. */
const APP_SH = `#!/bin/sh
if [ -n "\${CRASH_AT_START:-}" ]; then
  echo "app: crashing at start: CRASH_AT_START=$CRASH_AT_START" >&2
  exit 3
fi
mkdir -p /tmp/www
echo ok >/tmp/www/index.html
printf '%s\\n' "\${GREETING:-}" >/tmp/www/greeting
echo "app: listening on $APP_PORT"
exec /bin/busybox httpd -f -v -p "$APP_PORT" -h /tmp/www
`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function must(command: string, args: string[], cwd?: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.error || result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed: ${result.error?.message ?? result.stderr}`);
  return result.stdout;
}

/** An OCI image layout in `dir` (tag "1"): busybox, /bin/sh, /app.sh as the entrypoint. */
export function buildAppImage(dir: string, appPort: number): void {
  const root = join(dir, "rootfs");
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  must("ln", ["-sf", "busybox", join(root, "bin", "sh")]);
  writeFileSync(join(root, "app.sh"), APP_SH, { mode: 0o755 });
  const blobs = join(dir, "layout", "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const tarFile = join(dir, "layer.tar");
  must("tar", ["--owner=0", "--group=0", "--numeric-owner", "--sort=name", "-C", root, "-cf", tarFile, "."]);
  const tar = readFileSync(tarFile);
  must("gzip", ["-n", "-k", "-f", tarFile]);
  const gz = readFileSync(`${tarFile}.gz`);
  const put = (data: Buffer | string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const layer = put(gz);
  const config = put(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Entrypoint: ["/bin/sh", "/app.sh"], ExposedPorts: { [`${appPort}/tcp`]: {} } },
      rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
    }),
  );
  const manifest = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    }),
  );
  writeFileSync(join(dir, "layout", "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "layout", "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "1" } },
      ],
    }),
  );
  statSync(join(dir, "layout", "index.json"));
}

/** Debian's docker-registry on 127.0.0.1:`port`, storing in `dir`. */
export class LocalRegistry {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(dir: string, port: number): Promise<LocalRegistry> {
    mkdirSync(dir, { recursive: true });
    const config = join(dir, "config.yml");
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    const child = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/v2/`);
        if (response.ok) return new LocalRegistry(port, child);
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill();
    throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within 10 s`);
  }

  /** Pushes the OCI layout's tag "1" as <name>:<tag>. */
  push(layoutDir: string, name: string, tag: string): void {
    must("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layoutDir}:1`, `docker://127.0.0.1:${this.port}/${name}:${tag}`]);
  }

  stop(): void {
    this.child.kill("SIGTERM");
  }
}

/** The test project of the local VM (test and bench): app "shop", debian-12, its image in a local registry. */
export interface LocalVmProject {
  readonly registry: LocalRegistry;
  /** packer/ of the repository plus shop.auto.pkrvars.hcl. */
  readonly packerDir: string;
  /** The staging launch template's user data as terraform plans it (base64-decoded). */
  readonly userData: string;
}

export const LOCAL_VM_REGION = "eu-west-1";
export const LOCAL_VM_APP_PORT = 8080;

export async function prepareLocalVmProject(
  work: string,
  config: Readonly<Record<string, string>>,
  secrets: readonly string[],
): Promise<LocalVmProject> {
  const registryPort = await freePort();
  const registry = await LocalRegistry.start(join(work, "registry"), registryPort);
  const image = `10.0.2.2:${registryPort}/shop:1`;
  buildAppImage(join(work, "app"), LOCAL_VM_APP_PORT);
  registry.push(join(work, "app", "layout"), "shop", "1");
  const configJson = {
    ...exampleConfigJson(),
    appName: "shop",
    region: LOCAL_VM_REGION,
    config,
    secrets,
    image: { containerImage: image, baseOs: "debian-12" },
  };
  const root = join(work, "project");
  const dirs = synthProject(root, resolveConfig(configJson));
  const tf = new TerraformDir(dirs.staging, writeCliConfig(root));
  tf.makeOffline();
  const [template] = resourcesOf(tf.plan({ ami_id: "ami-0123456789abcdef0" }), "aws_launch_template");
  const userData = Buffer.from(template.values.user_data, "base64").toString("utf8");
  const packerDir = join(work, "packer");
  cpSync(join(REPO_ROOT, "packer"), packerDir, { recursive: true });
  writeFileSync(
    join(packerDir, "shop.auto.pkrvars.hcl"),
    `app_name = "shop"\napp_version = "1.0.0"\naws_region = "${LOCAL_VM_REGION}"\nbase_os = "debian-12"\ncontainer_image = "${image}"\napp_port = ${LOCAL_VM_APP_PORT}\nhealth_check_path = "/"\n`,
  );
  return { registry, packerDir, userData };
}

/** A fresh boot of `image` as a new staging instance of the project, its AWS (and instance metadata) at awsPort. */
export async function bootLocalVmProject(
  project: LocalVmProject,
  image: string,
  base: BaseDisk,
  awsPort: number,
  workDir: string,
): Promise<LocalBoot> {
  return bootLocal({
    image,
    base,
    userData: project.userData,
    appName: "shop",
    region: LOCAL_VM_REGION,
    appPort: LOCAL_VM_APP_PORT,
    healthCheckPath: "/",
    awsPort,
    // The tests' emulated AWS answers as the instance metadata service too (emulated_aws.py).
    imdsPort: awsPort,
    hostPort: await freePort(),
    workDir,
  });
}
