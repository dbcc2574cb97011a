#!/usr/bin/env bash
# The Python tools the tests drive (moto server, checkov, the AWS CLI v1), pinned in
# requirements-test.txt, in a virtual environment inside the checkout (.venv, gitignored). Creates or
# updates it when the requirements changed since the last install; does nothing otherwise, and
# nothing at all when IMMUTABLE_VENV names a virtual environment of your own.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${IMMUTABLE_VENV:-}" ]; then
  [ -x "$IMMUTABLE_VENV/bin/python" ] || { echo "IMMUTABLE_VENV=$IMMUTABLE_VENV has no bin/python" >&2; exit 1; }
  exit 0
fi
venv=.venv
stamp="$venv/.requirements-test.sha256"
want=$(sha256sum requirements-test.txt | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi

command -v python3 >/dev/null || { echo "python3 is needed for the test tools (moto, checkov, awscli)" >&2; exit 1; }
echo "test tools: installing requirements-test.txt into $venv (once)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-test.txt
printf '%s\n' "$want" >"$stamp"
