/**
 * A local boot of a baked image, as AWS would start an instance of the environment: cloud-init's NoCloud
 * seed carries the launch template's user data byte for byte; the AWS CLI in the VM reaches the emulated
 * AWS on the host under the real service names (vendor data, which EC2 does not have, only adds to
 * /etc/hosts a line for them and gives the AWS CLI a local CA and fixed test credentials, in place of
 * the instance profile); the app's port is forwarded to the host. Success is the health check answering
 * 2xx through the forwarded port; failure carries the config and app units' journal lines.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaseDisk } from "./base-disk";
import { type RunningServer, startTlsFront } from "./host-services";
import { LocalVmError, requirePrograms } from "./tools";
import { type Accelerator, type RunningVm, bootVm, detectAccelerator, powerOff, unitLines } from "./vm";

export interface LocalBootOptions {
  readonly image: string;
  readonly base: BaseDisk;
  /** The launch template's user data, exactly (decoded from its base64). */
  readonly userData: string;
  readonly appName: string;
  readonly region: string;
  readonly appPort: number;
  readonly healthCheckPath: string;
  /** The emulated AWS on the host (plain HTTP on 127.0.0.1). */
  readonly awsPort: number;
  /**
   * A host port that answers as the instance metadata service (token, instance-id, ...): the VM's
   * traffic to 169.254.169.254:80 goes there. Absent: the VM has no instance metadata, so what reads
   * it (the lifecycle hook's completion) fails and says so in the journal.
   */
  readonly imdsPort?: number;
  /** Host port for the app; the URL printed is http://127.0.0.1:<hostPort><path>. */
  readonly hostPort: number;
  /** Folder for the seed, certificates and the serial log. */
  readonly workDir: string;
  /** Bound of the wait for the health check. @default 900_000 (TCG on a shared 2-core machine) */
  readonly timeoutMs?: number;
  readonly accelerator?: Accelerator;
}

export interface LocalBoot {
  readonly vm: RunningVm;
  readonly url: string;
  /** From QEMU's start to the first 2xx of the health check. */
  readonly secondsToHealthy: number;
  readonly serialLog: string;
  stop(): Promise<"shutdown" | "killed">;
}

/** The AWS services the image calls at boot, by host name. */
function serviceHosts(region: string): string[] {
  return ["ssm", "logs", "autoscaling", "monitoring", "kms", "sts"].map((service) => `${service}.${region}.amazonaws.com`);
}

/** A CA and a certificate for the service names, made with openssl, valid for the run. */
function makeCertificates(dir: string, hosts: readonly string[]): { ca: string; key: string; cert: string } {
  const run = (args: string[]) => {
    const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (result.status !== 0) throw new LocalVmError(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=create-immutable-app local CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${hosts[0]}`, "-keyout", "aws.key", "-out", "aws.csr"]);
  writeFileSync(join(dir, "san.ext"), `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}\n`);
  run([
    "x509",
    "-req",
    "-in",
    "aws.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "aws.pem",
  ]);
  return { ca: join(dir, "ca.pem"), key: join(dir, "aws.key"), cert: join(dir, "aws.pem") };
}

/** Where the VM keeps the local CA that signed the emulated AWS's certificate. */
const LOCAL_CA = "/etc/immutable-app-local/aws-ca.pem";

function vendorData(caPem: string, hosts: readonly string[], imdsPort?: number): string {
  const indent = (text: string, n: number) =>
    text
      .trimEnd()
      .split("\n")
      .map((line) => " ".repeat(n) + line)
      .join("\n");
  return [
    "#cloud-config",
    "# Local boot only (create-immutable-app managed/local-vm): the emulated AWS under the real names.",
    "bootcmd:",
    `  - [sh, -c, "grep -q local-vm-aws /etc/hosts || echo '10.0.2.2 ${hosts.join(" ")} # local-vm-aws' >>/etc/hosts"]`,
    // iptables comes with docker.io; the rule lives until the VM stops.
    ...(imdsPort
      ? [
          `  - [iptables, -t, nat, -A, OUTPUT, -d, 169.254.169.254/32, -p, tcp, --dport, "80", -j, DNAT, --to-destination, "10.0.2.2:${imdsPort}"]`,
        ]
      : []),
    "write_files:",
    // The CLI's own CA setting ("the profile setting ca_bundle", AWS CLI User Guide, "Command line
    // options"), not the system's trust store: cloud-init's ca_certs rehashes every CA, minutes under TCG.
    `  - path: ${LOCAL_CA}`,
    "    permissions: '0644'",
    "    content: |",
    indent(caPem, 6),
    "  - path: /root/.aws/config",
    "    permissions: '0600'",
    "    content: |",
    "      [default]",
    `      ca_bundle = ${LOCAL_CA}`,
    "  - path: /root/.aws/credentials",
    "    permissions: '0600'",
    "    content: |",
    "      [default]",
    "      aws_access_key_id = testing",
    "      aws_secret_access_key = testing",
    "",
  ].join("\n");
}

export async function bootLocal(options: LocalBootOptions): Promise<LocalBoot> {
  requirePrograms(["qemu-system-x86_64", "cloud-localds", "openssl"]);
  const dir = options.workDir;
  mkdirSync(dir, { recursive: true });
  const hosts = serviceHosts(options.region);
  const certs = makeCertificates(dir, hosts);
  writeFileSync(join(dir, "user-data"), options.userData);
  writeFileSync(join(dir, "meta-data"), `instance-id: i-local${Date.now().toString(16)}\nlocal-hostname: ${options.appName}-local\n`);
  writeFileSync(join(dir, "vendor-data"), vendorData(readFileSync(certs.ca, "utf8"), hosts, options.imdsPort));
  const seed = join(dir, "seed.iso");
  const localds = spawnSync(
    "cloud-localds",
    ["--vendor-data", join(dir, "vendor-data"), seed, join(dir, "user-data"), join(dir, "meta-data")],
    { encoding: "utf8" },
  );
  if (localds.status !== 0) throw new LocalVmError(`cloud-localds failed: ${localds.stderr}`);

  // The AWS CLI calls https://<service>.<region>.amazonaws.com (port 443) on 10.0.2.2: the host's loopback.
  const front: RunningServer = await startTlsFront(443, certs.key, certs.cert, options.awsPort);
  const serialLog = join(dir, "serial.log");
  const started = Date.now();
  const vm = bootVm({
    disk: options.image,
    base: options.base,
    seedIso: seed,
    accelerator: options.accelerator ?? detectAccelerator(options.base),
    hostPort: options.hostPort,
    guestPort: options.appPort,
    serialLog,
    monitorSocket: join(dir, "monitor.sock"),
  });
  const stop = async () => {
    const how = await powerOff(vm);
    // Bounded: a connection the VM left half-open must not hold the caller.
    await Promise.race([front.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    return how;
  };
  const url = `http://127.0.0.1:${options.hostPort}${options.healthCheckPath}`;
  const deadline = started + (options.timeoutMs ?? 900_000);
  const units = [
    `immutable-app-config@${options.appName}`,
    `immutable-app@${options.appName}`,
    `immutable-app-ready@${options.appName}`,
    "immutable-app-configure",
    "immutable-app-ready",
  ];
  // Failure is final before the bound when the config unit failed (it has no retry left) or the app
  // unit was restarted three times (Restart=always would go on forever).
  const failedEarly = () =>
    unitLines(serialLog, units, 400).some(
      (line) => line.includes(`immutable-app-config@${options.appName}.service: Failed`) || /restart counter is at [3-9]/.test(line),
    );
  while (Date.now() < deadline && vm.child.exitCode === null && !failedEarly()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return { vm, url, secondsToHealthy: (Date.now() - started) / 1000, serialLog, stop };
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const lines = unitLines(serialLog, units);
  await stop();
  throw new LocalVmError(
    `${url} did not answer 2xx within ${Math.round((Date.now() - started) / 1000)} s. The units' journal lines (from the VM's console, ${serialLog}):\n${lines.join("\n") || "(none: did the VM boot? see the console log)"}`,
  );
}
