#!/usr/bin/env bash
# immutable-app-ready <app>
#
# Runs once per boot as immutable-app-ready@<app>.service, after immutable-app@<app>.service: lets the
# instance join its Auto Scaling group's load balancer only once the app answers, by completing the
# group's launch lifecycle hook (names in /etc/immutable-app/<app>/boot.env, written by the user data):
#   - CONTINUE as soon as http://127.0.0.1:APP_PORT/HEALTH_CHECK_PATH answers 2xx;
#   - ABANDON, after reporting a boot failure (the rollout's boot-failure alarm) and printing the app's
#     journal, when the config or app unit failed, or nothing answered within BOOT_TIMEOUT_SECONDS.
# Why (AWS Auto Scaling User Guide, lifecycle hooks): instances are "registered to the load balancer at the
# end of the lifecycle hook", and "the health check grace period starts as soon as the instance reaches
# the InService state", so a slow start is never counted as unhealthy; ABANDON terminates a launching
# instance (CompleteLifecycleAction). Without the boot-failure metric a refresh whose instances never
# become healthy "keeps retrying for an hour" before it fails (instance-refresh-overview.html).
# The deadline: AWS counts the hook's heartbeat timeout (BOOT_TIMEOUT_SECONDS) from the launch, this script
# runs after the boot, so it gives up the time since boot (/proc/uptime) and a margin earlier: the boot
# failure is reported and the instance abandoned before AWS abandons it silently.
# Warm pools (WARM_POOL): the same hook fires when an instance goes to the pool and when it leaves it for
# InService (ec2-auto-scaling-warm-pools.html); the instance's target state is read from the instance
# metadata (autoscaling/target-lifecycle-state). A Stopped pool instance boots again, and this unit with
# it; a Running or Hibernated one does not, so for those this script stays and completes the hook each
# time the instance moves from the pool to InService (again after a scale-in returns it to the pool).
set -euo pipefail

readonly APP_RE='^[a-z][a-z0-9-]{0,19}$'
die() {
  printf 'immutable-app-ready: %s\n' "$*" >&2
  exit 1
}
app="${1:-}"
[[ $# -eq 1 && "$app" =~ $APP_RE ]] || die "usage: immutable-app-ready <app>"
config_dir="${IMMUTABLE_APP_CONFIG_DIR:-/etc/immutable-app/$app}"
imds="${IMMUTABLE_APP_IMDS_URL:-http://169.254.169.254}"
poll="${IMMUTABLE_APP_READY_POLL_SECONDS:-2}"
boot_env="$config_dir/boot.env"
[[ -f "$boot_env" ]] || die "$boot_env is missing"

values="$(
  set +u
  # shellcheck disable=SC1090
  . "$boot_env"
  printf '%s\n' "${AWS_REGION-}" "${APP_PORT-}" "${ASG_NAME-}" "${LIFECYCLE_HOOK-}" "${HEALTH_CHECK_PATH-}" \
    "${BOOT_TIMEOUT_SECONDS-}" "${METRICS_NAMESPACE-}" "${WARM_POOL-}" .
)" || die "$boot_env could not be read"
{
  IFS= read -r AWS_REGION
  IFS= read -r APP_PORT
  IFS= read -r ASG_NAME
  IFS= read -r LIFECYCLE_HOOK
  IFS= read -r HEALTH_CHECK_PATH
  IFS= read -r BOOT_TIMEOUT_SECONDS
  IFS= read -r METRICS_NAMESPACE
  IFS= read -r WARM_POOL
  IFS= read -r end
} <<<"$values" || true
[[ "${end:-}" == "." ]] || die "$boot_env has a value with a line break"
[[ "$ASG_NAME" =~ ^[A-Za-z0-9-]{1,255}$ ]] ||
  die "ASG_NAME in $boot_env is missing or invalid: '$ASG_NAME' (boot.env is versioned with the image: deploy it with the stacks of the same create-immutable-app version)"
[[ "$LIFECYCLE_HOOK" =~ ^[A-Za-z0-9-]{1,255}$ ]] || die "LIFECYCLE_HOOK in $boot_env is missing or invalid: '$LIFECYCLE_HOOK'"
[[ "$HEALTH_CHECK_PATH" =~ ^/[A-Za-z0-9/_.~%-]*$ ]] || die "HEALTH_CHECK_PATH in $boot_env is missing or invalid: '$HEALTH_CHECK_PATH'"
[[ "$BOOT_TIMEOUT_SECONDS" =~ ^[1-9][0-9]*$ ]] || die "BOOT_TIMEOUT_SECONDS in $boot_env is missing or invalid: '$BOOT_TIMEOUT_SECONDS'"
[[ "$METRICS_NAMESPACE" =~ ^[A-Za-z0-9/_.-]{1,255}$ ]] || die "METRICS_NAMESPACE in $boot_env is missing or invalid: '$METRICS_NAMESPACE'"
[[ -z "$WARM_POOL" || "$WARM_POOL" =~ ^(Stopped|Running|Hibernated)$ ]] || die "WARM_POOL in $boot_env is invalid: '$WARM_POOL'"
[[ "$APP_PORT" =~ ^[1-9][0-9]{0,4}$ ]] || die "APP_PORT in $boot_env is missing or invalid: '$APP_PORT'"
[[ "$AWS_REGION" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die "AWS_REGION in $boot_env is missing or invalid: '$AWS_REGION'"
export AWS_PAGER="" AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=6

# IMDSv2 (the launch template requires tokens).
metadata() {
  local token
  token="$(curl -fsS --max-time 5 -X PUT "$imds/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')" || return 1
  curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/$1"
}
instance_id="$(metadata instance-id)" || die "cannot read the instance id from the instance metadata"

# The hook's current transition; "" when there is no pending action (the hook was created after this
# instance launched: the first instances of a new group) - not an error.
complete() {
  local result="$1" err
  if err="$(aws autoscaling complete-lifecycle-action --region "$AWS_REGION" --auto-scaling-group-name "$ASG_NAME" \
    --lifecycle-hook-name "$LIFECYCLE_HOOK" --instance-id "$instance_id" --lifecycle-action-result "$result" 2>&1)"; then
    printf 'immutable-app-ready: %s: lifecycle action %s\n' "$instance_id" "$result"
  elif [[ "$err" == *"No active Lifecycle Action found"* ]]; then
    printf 'immutable-app-ready: %s: no lifecycle action is pending (the group had no hook when this instance launched)\n' "$instance_id"
  else
    printf '%s\n' "$err" >&2
    return 1
  fi
}

failed() {
  local why="$1"
  printf 'immutable-app-ready: %s; the instance is abandoned (the group terminates it)\n' "$why" >&2
  journalctl --no-pager -n 40 -u "immutable-app-config@$app.service" -u "immutable-app@$app.service" >&2 || true
  aws cloudwatch put-metric-data --region "$AWS_REGION" --namespace "$METRICS_NAMESPACE" --metric-name BootFailures \
    --dimensions "AutoScalingGroupName=$ASG_NAME" --value 1 --unit Count ||
    printf 'immutable-app-ready: could not report the boot failure to CloudWatch\n' >&2
  complete ABANDON || true
  exit 1
}

url="http://127.0.0.1:$APP_PORT$HEALTH_CHECK_PATH"
uptime_file="${IMMUTABLE_APP_UPTIME_FILE:-/proc/uptime}"
booted="$(cut -d. -f1 "$uptime_file")"
[[ "$booted" =~ ^[0-9]+$ ]] || die "cannot read the time since boot from $uptime_file"
margin=$((BOOT_TIMEOUT_SECONDS / 10 > 60 ? 60 : BOOT_TIMEOUT_SECONDS / 10))
budget=$((BOOT_TIMEOUT_SECONDS - booted - margin))
((budget > 0)) || budget=1
deadline=$((SECONDS + budget))
while :; do
  for unit in "immutable-app-config@$app.service" "immutable-app@$app.service"; do
    if systemctl is-failed --quiet "$unit"; then failed "$unit failed"; fi
  done
  code="$(curl -sS -o /dev/null --max-time 5 -w '%{http_code}' "$url" 2>/dev/null || true)"
  [[ ! "$code" =~ ^2[0-9][0-9]$ ]] || break
  ((SECONDS < deadline)) || failed "$url did not answer 2xx within $budget s (the lifecycle hook's $BOOT_TIMEOUT_SECONDS s from launch, less the $booted s of boot and a $margin s margin; last answer: ${code:-none})"
  sleep "$poll"
done
printf 'immutable-app-ready: %s answers %s\n' "$url" "$code"
# The transition this completion is for, read before it: a pool instance may be moved on right after.
state() { metadata autoscaling/target-lifecycle-state 2>/dev/null || true; }
entered="$(state)"
complete CONTINUE || die "completing the lifecycle action failed (see above); the hook abandons the instance after its timeout"

# A pool instance that keeps running (Running, Hibernated) meets the hook again each time it enters InService.
if [[ "$WARM_POOL" == Running || "$WARM_POOL" == Hibernated ]]; then
  last="$entered"
  [[ "$last" != Warmed:* ]] || printf 'immutable-app-ready: in the warm pool (%s); waiting to enter InService\n' "$last"
  while sleep 5; do
    now="$(state)"
    if [[ "$now" == InService && "$last" == Warmed:* ]]; then
      code="$(curl -sS -o /dev/null --max-time 5 -w '%{http_code}' "$url" 2>/dev/null || true)"
      [[ "$code" =~ ^2[0-9][0-9]$ ]] || failed "$url answers ${code:-nothing} on leaving the warm pool"
      complete CONTINUE || die "completing the lifecycle action failed (see above)"
    fi
    [[ -z "$now" ]] || last="$now"
  done
fi
