/**
 * The CloudWatch agent of a local image: a package named like AWS's (amazon-cloudwatch-agent) with the
 * one command the image uses, /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl. It
 * ships nothing: it records each call and keeps a copy of the configuration it was given in
 * /var/lib/immutable-app-local/, so a local boot shows what would be shipped, and where. The local VM
 * cannot reach S3, where AWS publishes the agent; an AWS bake always installs AWS's own package.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const STAND_IN_RECORD_DIR = "/var/lib/immutable-app-local";

const CTL = `#!/bin/sh
# Stand-in of amazon-cloudwatch-agent-ctl for local images (create-immutable-app managed/local-vm):
# records the call and the configuration file it names; ships nothing.
set -eu
dir=${STAND_IN_RECORD_DIR}
mkdir -p "$dir"
printf '%s\\n' "$*" >>"$dir/cloudwatch-agent-ctl.log"
while [ $# -gt 0 ]; do
  case "$1" in
  -c) shift; case "$1" in file:*) cp "\${1#file:}" "$dir/cloudwatch-agent.json" ;; esac ;;
  esac
  shift
done
`;

/** Builds the stand-in package into `outFile` with dpkg-deb (Debian and Ubuntu images). */
export function buildStandInAgentDeb(outFile: string, architecture: "amd64" | "arm64" = "amd64"): void {
  const root = mkdtempSync(join(tmpdir(), "cia-agent-"));
  try {
    mkdirSync(join(root, "DEBIAN"));
    writeFileSync(
      join(root, "DEBIAN", "control"),
      [
        "Package: amazon-cloudwatch-agent",
        "Version: 0.0.0-local",
        `Architecture: ${architecture}`,
        "Maintainer: create-immutable-app <local@localhost>",
        "Description: stand-in of the CloudWatch agent for local images (records, ships nothing)",
        "",
      ].join("\n"),
    );
    const bin = join(root, "opt", "aws", "amazon-cloudwatch-agent", "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "amazon-cloudwatch-agent-ctl"), CTL);
    chmodSync(join(bin, "amazon-cloudwatch-agent-ctl"), 0o755);
    const built = spawnSync("dpkg-deb", ["--root-owner-group", "--build", root, outFile], { encoding: "utf8" });
    if (built.error || built.status !== 0) {
      throw new Error(`dpkg-deb could not build the stand-in agent: ${built.error?.message ?? built.stderr}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
