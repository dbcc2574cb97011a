#!/usr/bin/env bash
# Image tests, run inside the build; any failure fails the build and no AMI is registered.
#   - the boot script's app.env reads back exactly through this OS's own systemd,
#   - immutable-app@<app>.service starts the baked container and answers its health path,
#   - nothing listens on port 22, sshd is masked, the app unit is installed disabled,
#   - nothing changes the instance after the bake: update timers masked, snaps held.
set -euo pipefail

: "${APP_NAME:?}" "${AWS_REGION:?}" "${APP_PORT:?}" "${HEALTH_CHECK_PATH:?}"
export PATH="$PATH:/snap/bin"
# The names install-app.sh gave the app (managed/names.ts): all behind the immutable-app prefix.
unit="immutable-app@$APP_NAME.service"
config_dir="/etc/immutable-app/$APP_NAME"
baked_image="localhost/immutable-app/$APP_NAME:baked"
container="immutable-app-$APP_NAME"
log_file="/var/log/immutable-app/$APP_NAME.log"
fail() {
  printf 'IMAGE TEST FAILED: %s\n' "$*" >&2
  exit 1
}

# --- installed state
[[ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" == disabled ]] || fail "$unit must be installed disabled"
systemctl is-active --quiet docker.service || fail "docker is not running"
[[ "$(systemctl is-enabled docker.service)" == enabled ]] || fail "docker is not enabled"
docker image inspect "$baked_image" >/dev/null || fail "image $baked_image is missing"
command -v aws >/dev/null || fail "the AWS CLI is missing"
command -v jq >/dev/null || fail "jq is missing"
test -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl || fail "the CloudWatch agent is missing"
for ssh_unit in ssh.service sshd.service; do
  state="$(systemctl is-enabled "$ssh_unit" 2>/dev/null || true)"
  [[ -z "$state" || "$state" == masked || "$state" == not-found ]] || fail "$ssh_unit is $state, expected masked"
done

# --- no change after the bake (scripts/harden.sh says why and where each is documented; a test
#     keeps this list equal to harden's)
no_update_units=(
  apt-daily.timer apt-daily.service apt-daily-upgrade.timer apt-daily-upgrade.service
  unattended-upgrades.service motd-news.timer update-notifier-download.timer update-notifier-motd.timer
  fwupd-refresh.timer ua-timer.timer
  dnf-makecache.timer dnf-automatic.timer dnf-automatic-download.timer dnf-automatic-install.timer
  dnf-automatic-notifyonly.timer
)
for no_update_unit in "${no_update_units[@]}"; do
  state="$(systemctl is-enabled "$no_update_unit" 2>/dev/null || true)"
  [[ "$state" == masked ]] || fail "$no_update_unit is ${state:-unknown}, expected masked: it would change instances after the bake"
  ! systemctl is-active --quiet "$no_update_unit" || fail "$no_update_unit is running"
done
if command -v apt-config >/dev/null; then
  for option in APT::Periodic::Update-Package-Lists APT::Periodic::Unattended-Upgrade; do
    value="$(apt-config shell value "$option")"
    [[ "$value" == "value='0'" ]] || fail "$option is ${value#value=}, expected '0'"
  done
fi
# 'snap refresh --time' prints "hold: forever" for an indefinite hold of all snaps' auto-refreshes,
# 'snap list' notes "held" for each held snap (snapd cmd/snap/cmd_snap_op.go, snapcraft.io/docs/managing-updates).
if command -v snap >/dev/null; then
  # Read whole first: grep -q would stop reading early, and with pipefail snap's SIGPIPE would fail.
  refresh_times="$(snap refresh --time)"
  grep -qx 'hold: forever' <<<"$refresh_times" || fail "snap auto-refreshes are not held forever (snap refresh --time)"
  unheld="$(snap list | awk 'NR > 1 && $NF !~ /(^|,)held(,|$)/ { print $1 }' | paste -sd ' ' -)"
  [[ -z "$unheld" ]] || fail "snaps not held: $unheld"
fi
enabled_timers="$(systemctl list-unit-files --type=timer --state=enabled --no-legend 2>/dev/null | awk '{ print $1 }' | paste -sd ' ' -)"
echo "note: enabled timers: ${enabled_timers:-none}"

# --- the boot script on this OS, with a stand-in for SSM and the agent
fake="$(mktemp -d)"
trap 'rm -rf -- "$fake"' EXIT
cat >"$fake/aws" <<'FAKE'
#!/bin/sh
cat <<'JSON'
{"Parameters": [
  {"Name": "/APP/image-test/config/IMAGE_TEST_SPACES", "Type": "String", "Value": "a b  c"},
  {"Name": "/APP/image-test/config/IMAGE_TEST_EQUALS", "Type": "String", "Value": "k=v=w"},
  {"Name": "/APP/image-test/secret/IMAGE_TEST_QUOTES", "Type": "SecureString", "Value": "\"double\" 'single' \\back"},
  {"Name": "/APP/image-test/secret/IMAGE_TEST_NEWLINES", "Type": "SecureString", "Value": "line1\nline2"},
  {"Name": "/APP/image-test/config/IMAGE_TEST_DOLLAR", "Type": "String", "Value": "$HOME ${PATH} `id`"}
]}
JSON
FAKE
sed -i "s|/APP/|/$APP_NAME/|" "$fake/aws"
printf '#!/bin/sh\nexit 0\n' >"$fake/amazon-cloudwatch-agent-ctl"
chmod +x "$fake/aws" "$fake/amazon-cloudwatch-agent-ctl"
cat >"$config_dir/boot.env" <<BOOT
APP_NAME=$APP_NAME
APP_ENV=image-test
AWS_REGION=$AWS_REGION
PARAMETER_PATH=/$APP_NAME/image-test/
LOG_GROUP_NAME=/$APP_NAME/image-test/app
APP_PORT=$APP_PORT
EXPECTED_PARAMETERS=IMAGE_TEST_DOLLAR,IMAGE_TEST_EQUALS,IMAGE_TEST_NEWLINES,IMAGE_TEST_QUOTES,IMAGE_TEST_SPACES
CONFIG_REVISION=0000000000000000
BOOT
PATH="$fake:$PATH" IMMUTABLE_APP_CWAGENT_CTL="$fake/amazon-cloudwatch-agent-ctl" \
  /usr/local/sbin/immutable-app-configure "$APP_NAME" || fail "immutable-app-configure failed"
# boot.env gone: the app unit below must run on the app.env just written, not call SSM.
rm -f "$config_dir/boot.env"

read_back() {
  systemd-run --quiet --wait --pipe -p EnvironmentFile="$config_dir/app.env" /usr/bin/printenv "$1"
}
expect_value() {
  local got
  got="$(read_back "$1")" || fail "systemd did not set $1 from app.env"
  [[ "$got" == "$2" ]] || fail "systemd read $1 as '$got', expected '$2'"
}
expect_value IMAGE_TEST_SPACES 'a b  c'
expect_value IMAGE_TEST_EQUALS 'k=v=w'
expect_value IMAGE_TEST_QUOTES "\"double\" 'single' \\back"
expect_value IMAGE_TEST_NEWLINES $'line1\nline2'
# shellcheck disable=SC2016 # the literal text, unexpanded, is the point
expect_value IMAGE_TEST_DOLLAR '$HOME ${PATH} `id`'
expect_value APP_PORT "$APP_PORT"

# --- the service, started the way user_data starts it but without its SSM dependency
systemctl start --job-mode=ignore-requirements "$unit" || true
url="http://127.0.0.1:${APP_PORT}${HEALTH_CHECK_PATH}"
healthy=""
for _ in $(seq 1 60); do
  if curl -fsS -o /dev/null --max-time 5 "$url"; then
    healthy=yes
    break
  fi
  sleep 2
done
if [[ -z "$healthy" ]]; then
  systemctl status --no-pager "$unit" || true
  journalctl --no-pager -u "$unit" -n 50 || true
  tail -n 50 "$log_file" || true
  fail "$url did not answer 2xx within 120 s"
fi
[[ "$(docker inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")" == true ]] || fail "container root is writable"
[[ -s "$log_file" ]] || echo "note: the app wrote nothing to its log yet"

# --- no SSH: nothing listens on port 22, on any address
listeners="$(ss -ltnH 'sport = :22')"
[[ -z "$listeners" ]] || fail "something listens on port 22: $listeners"

systemctl stop "$unit"
[[ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" == disabled ]] || fail "$unit got enabled during the test"
echo "image tests passed: $url answered, port 22 closed"
