#!/usr/bin/env bash
# Bake step 1: OS updates and the runtime every instance needs, installed once here instead of at boot:
# Docker, the AWS CLI and jq (used by immutable-app-configure), curl, the CloudWatch agent.
# CLOUDWATCH_AGENT_URL is set by the local bake only (packer/local): its VM has no way to S3, and it
# installs a stand-in agent that records what it is asked to ship (managed/local-vm/stand-in-agent.ts).
set -euo pipefail

: "${BASE_OS:?}" "${AWS_REGION:?}"

# cloud-init may still be installing packages on first boot of the build instance.
cloud-init status --wait >/dev/null || true

case "$BASE_OS" in
ubuntu-24.04)
  export DEBIAN_FRONTEND=noninteractive
  apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y "$@"; }
  apt_get update
  apt_get upgrade
  apt_get install --no-install-recommends docker.io jq curl ca-certificates
  # The AWS CLI v2 is published by AWS as a classic snap; Ubuntu 24.04 has no deb of it.
  snap install aws-cli --classic
  arch="$(dpkg --print-architecture)"
  # The region's own bucket: reachable through an S3 gateway endpoint from a private subnet.
  deb="$(mktemp --suffix=.deb)"
  curl -fsSL --retry 5 -o "$deb" \
    "${CLOUDWATCH_AGENT_URL:-https://amazoncloudwatch-agent-${AWS_REGION}.s3.${AWS_REGION}.amazonaws.com/ubuntu/${arch}/latest/amazon-cloudwatch-agent.deb}"
  apt_get install "$deb"
  rm -f "$deb"
  ;;
debian-12)
  export DEBIAN_FRONTEND=noninteractive
  apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y "$@"; }
  apt_get update
  apt_get upgrade
  # Debian 12 packages the AWS CLI v2 (awscli 2.9.19 in bookworm, apt-cache policy awscli); no snap.
  # apparmor: Debian's kernel enables AppArmor, and dockerd then refuses to run a container without
  # apparmor_parser to load its docker-default profile ("AppArmor enabled on system but the
  # docker-default profile could not be loaded"), which docker.io only recommends (seen in the local bake).
  apt_get install --no-install-recommends docker.io apparmor jq curl ca-certificates awscli
  arch="$(dpkg --print-architecture)"
  deb="$(mktemp --suffix=.deb)"
  # The debian/ folder of the same bucket as ubuntu/ above. (AWS's download page, which lists the
  # folders, was not among the references searched: an unverified path until a real Debian bake.)
  curl -fsSL --retry 5 -o "$deb" \
    "${CLOUDWATCH_AGENT_URL:-https://amazoncloudwatch-agent-${AWS_REGION}.s3.${AWS_REGION}.amazonaws.com/debian/${arch}/latest/amazon-cloudwatch-agent.deb}"
  apt_get install "$deb"
  rm -f "$deb"
  ;;
al2023)
  dnf -y upgrade --releasever=latest
  # The AWS CLI v2 and curl ship with Amazon Linux 2023.
  dnf -y install docker jq amazon-cloudwatch-agent
  ;;
*)
  echo "install-runtime: unknown BASE_OS '$BASE_OS'" >&2
  exit 1
  ;;
esac

systemctl enable --now docker.service
PATH="$PATH:/snap/bin" aws --version
docker version
test -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
