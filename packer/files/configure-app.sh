#!/usr/bin/env bash
# immutable-app-configure <app>
#
# Runs once per boot as immutable-app-config@<app>.service, before immutable-app@<app>.service starts:
#   1. reads /etc/immutable-app/<app>/boot.env (written by the launch template's user_data),
#   2. reads every parameter under PARAMETER_PATH from SSM (recursive, decrypted, page by page) and
#      checks it against EXPECTED_PARAMETERS, the names the stack created parameters for,
#   3. writes /etc/immutable-app/<app>/app.env atomically (temp file + rename): all of it or nothing,
#   4. configures and starts the CloudWatch agent to ship the app's log to LOG_GROUP_NAME.
# Any problem exits non-zero with a message; the app unit then does not start, the instance fails
# its health check and the rollout stops. An unreadable config is never "no config": access denied
# or an API error fails (after a bounded retry of what may heal by waiting, see step 2), and so does
# an expected name that is missing or a secret never set. A path that holds nothing is fine only
# when nothing is expected (a project without config or secrets).
#
# boot.env is a contract between the stacks' user_data and this image, versioned together: the
# user_data of one create-immutable-app version writes exactly what this script of the same version
# reads (APP_NAME, APP_ENV, AWS_REGION, PARAMETER_PATH, LOG_GROUP_NAME, APP_PORT,
# EXPECTED_PARAMETERS, CONFIG_REVISION; and, for immutable-app-ready, ASG_NAME, LIFECYCLE_HOOK,
# HEALTH_CHECK_PATH, BOOT_TIMEOUT_SECONDS, METRICS_NAMESPACE). CONFIG_REVISION only makes a config change a new launch
# template version (an instance refresh); it is logged and means nothing else here.
#
# app.env format: systemd EnvironmentFile, every value in double quotes with \ " ` $ escaped by a
# backslash; newlines stay literal inside the quotes. systemd (>= 250, both base images) reads this
# back exactly, and so does a POSIX shell. The container receives the variables named in
# APP_DOCKER_ENV_ARGS (docker run --env=NAME copies NAME from the environment systemd built), so values
# may contain newlines, which docker's own --env-file format cannot carry.
set -euo pipefail

readonly APP_RE='^[a-z][a-z0-9-]{0,19}$'
# Names that would change the unit's own docker client or the values it sets itself.
readonly RESERVED_RE='^(APP_NAME|APP_ENV|AWS_REGION|APP_PORT|APP_DOCKER_ENV_ARGS|PATH|HOME|LD_[A-Z0-9_]*|DOCKER_[A-Z0-9_]*)$'
# What Terraform writes into a secret parameter until someone sets it (stacks/parameters.ts; a test
# keeps the two equal).
readonly SECRET_PLACEHOLDER='SET-OUT-OF-BAND'
readonly NAME_RE='[A-Za-z][A-Za-z0-9_]{0,127}'

die() {
  printf 'immutable-app-configure: %s\n' "$*" >&2
  exit 1
}

app="${1:-}"
[[ $# -eq 1 && "$app" =~ $APP_RE ]] || die "usage: immutable-app-configure <app>"

# Every name on the instance is the app name behind the immutable-app prefix (managed/names.ts), so
# that no app name can be that of something the OS has. Overridable for tests only; the unit sets
# none of these.
config_dir="${IMMUTABLE_APP_CONFIG_DIR:-/etc/immutable-app/$app}"
log_dir="${IMMUTABLE_APP_LOG_DIR:-/var/log/immutable-app}"
log_file="$log_dir/$app.log"
cwagent_ctl="${IMMUTABLE_APP_CWAGENT_CTL:-/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl}"

boot_env="$config_dir/boot.env"
[[ -f "$boot_env" ]] || die "$boot_env is missing: the launch template's user_data writes it before starting immutable-app@$app.service"

# boot.env is root-written shell assignments; read it in a subshell and keep only the known names.
boot_values="$(
  set +u
  # shellcheck disable=SC1090
  . "$boot_env"
  # The final "." keeps empty trailing values (command substitution strips trailing newlines).
  printf '%s\n' "${APP_NAME-}" "${APP_ENV-}" "${AWS_REGION-}" "${PARAMETER_PATH-}" "${LOG_GROUP_NAME-}" "${APP_PORT-}" \
    "${EXPECTED_PARAMETERS+set}" "${EXPECTED_PARAMETERS-}" "${CONFIG_REVISION-}" .
)" || die "$boot_env could not be read"
end=""
{
  IFS= read -r APP_NAME
  IFS= read -r APP_ENV
  IFS= read -r AWS_REGION
  IFS= read -r PARAMETER_PATH
  IFS= read -r LOG_GROUP_NAME
  IFS= read -r APP_PORT
  IFS= read -r expected_set
  IFS= read -r EXPECTED_PARAMETERS
  IFS= read -r CONFIG_REVISION
  IFS= read -r end
} <<<"$boot_values" || true
# A value with a newline would shift the lines; every value is single-line by contract.
[[ "$end" == "." ]] || die "$boot_env has a value with a line break"

[[ "$APP_NAME" == "$app" ]] || die "APP_NAME in $boot_env is '$APP_NAME', expected '$app'"
[[ "$APP_ENV" =~ $APP_RE ]] || die "APP_ENV in $boot_env is missing or invalid: '$APP_ENV'"
[[ "$AWS_REGION" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die "AWS_REGION in $boot_env is missing or invalid: '$AWS_REGION'"
[[ "$PARAMETER_PATH" == "/$app/$APP_ENV/" ]] || die "PARAMETER_PATH in $boot_env is '$PARAMETER_PATH', expected '/$app/$APP_ENV/'"
[[ "$LOG_GROUP_NAME" =~ ^[A-Za-z0-9_./#-]{1,512}$ ]] || die "LOG_GROUP_NAME in $boot_env is missing or invalid: '$LOG_GROUP_NAME'"
if ! [[ "$APP_PORT" =~ ^[1-9][0-9]{0,4}$ ]] || ((APP_PORT > 65535)); then
  die "APP_PORT in $boot_env is missing or invalid: '$APP_PORT'"
fi
# Without it this script cannot tell "nothing configured" from "configuration lost", so it refuses.
[[ "$expected_set" == set ]] ||
  die "$boot_env has no EXPECTED_PARAMETERS line: it was written by the user_data of an older create-immutable-app version. boot.env is versioned with the image: deploy this image with the stacks of the same version (or keep the older image with the older stacks)"
[[ -z "$EXPECTED_PARAMETERS" || "$EXPECTED_PARAMETERS" =~ ^$NAME_RE(,$NAME_RE)*$ ]] ||
  die "EXPECTED_PARAMETERS in $boot_env is invalid: '$EXPECTED_PARAMETERS' (comma-separated names, empty when there are none)"
[[ "$CONFIG_REVISION" =~ ^[0-9a-f]{16}$ ]] ||
  die "CONFIG_REVISION in $boot_env is missing or invalid: '$CONFIG_REVISION' (16 hex digits; boot.env is versioned with the image: deploy it with the stacks of the same create-immutable-app version)"

work="$(mktemp -d)"
tmp_env=""
tmp_cw=""
cleanup() {
  rm -rf -- "$work"
  [[ -z "$tmp_env" ]] || rm -f -- "$tmp_env"
  [[ -z "$tmp_cw" ]] || rm -f -- "$tmp_cw"
}
trap cleanup EXIT

# --- 2. SSM, one page per file (no value ever passes through argv, which limits one argument to 128 KiB).
#
# Bounded retry. The first boot of a fresh deploy can come before the instance's route to the AWS
# APIs works (a NAT gateway still coming up) or before the new instance profile's role and policy are
# visible everywhere: IAM is eventually consistent, "Changes that I make are not always immediately
# visible" (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html). So the
# failures that can heal by waiting are retried, with exponential backoff, for at most
# AWS_RETRY_SECONDS over all calls together; every other failure, and the last one, fails loudly.
# immutable-app-config@.service's TimeoutStartSec stays above this bound (a test keeps it so).
readonly AWS_RETRY_SECONDS=300
readonly AWS_RETRY_FIRST_DELAY_MS=2000 AWS_RETRY_MAX_DELAY_MS=30000
# Test-only overrides (the unit sets neither): the bound in seconds, the first delay in milliseconds.
retry_seconds="${IMMUTABLE_APP_AWS_RETRY_SECONDS:-$AWS_RETRY_SECONDS}"
retry_first_delay_ms="${IMMUTABLE_APP_AWS_RETRY_DELAY_MS:-$AWS_RETRY_FIRST_DELAY_MS}"
[[ "$retry_seconds" =~ ^[1-9][0-9]*$ && "$retry_first_delay_ms" =~ ^[1-9][0-9]*$ ]] ||
  die "IMMUTABLE_APP_AWS_RETRY_SECONDS and IMMUTABLE_APP_AWS_RETRY_DELAY_MS must be positive integers"

# AWS CLI return codes (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html):
# 253 the environment or configuration is invalid, such as credentials not (yet) found (the instance
# profile's credentials not yet in the instance metadata); 255 the command failed, such as an endpoint
# that cannot be reached; 254 the service answered with an error: retried for the codes below only
# (denied or unknown credentials while IAM propagates, throttling, server errors), not for a wrong
# request. The CLI already retries throttling, 5xx and connection errors a few times itself (standard
# mode, https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-retries.html); this loop adds
# what it does not retry, and time.
readonly RETRYABLE_ERROR_RE='^(KMS\.)?(AccessDenied|AccessDeniedException|UnrecognizedClientException|InvalidClientTokenId|ExpiredToken|ExpiredTokenException|Throttling|ThrottlingException|ThrottledException|TooManyRequestsException|RequestLimitExceeded|InternalServerError|InternalFailure|ServiceUnavailable|ServiceUnavailableException)$'

now_ms() {
  local t="${EPOCHREALTIME/[.,]/}"
  echo $((10#$t / 1000))
}
as_seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# aws_call OUT ARGS...: aws ARGS into OUT, retried as above until the deadline. Each attempt runs
# under timeout(1) with the time that is left, so not even a hanging connection outlasts the bound.
aws_call() {
  local out="$1" attempt=0 status code left_ms delay_ms="$retry_first_delay_ms"
  shift
  while :; do
    attempt=$((attempt + 1))
    left_ms=$((deadline_ms - $(now_ms)))
    ((left_ms > 0)) || left_ms=1
    status=0
    timeout --kill-after=5 "$(as_seconds "$left_ms")" aws "$@" >"$out" 2>"$work/aws.err" || status=$?
    ((status != 0)) || return 0
    cat "$work/aws.err" >&2
    if ((status == 124 || status == 137)); then
      die "reading $PARAMETER_PATH from SSM failed: no answer within the bound of $retry_seconds s ($attempt attempts); check the route to SSM (NAT gateway or VPC endpoint)"
    fi
    code="$(sed -nE 's/.*An error occurred \(([A-Za-z0-9.]+)\).*/\1/p' "$work/aws.err" | head -n 1)"
    if ! ((status == 253 || status == 255)) && ! [[ $status -eq 254 && "$code" =~ $RETRYABLE_ERROR_RE ]]; then
      die "reading $PARAMETER_PATH from SSM failed (see the aws error above; exit $status${code:+, $code} does not heal by waiting); check the instance role and the KMS key policy"
    fi
    left_ms=$((deadline_ms - $(now_ms)))
    if ((left_ms <= delay_ms)); then
      die "reading $PARAMETER_PATH from SSM failed $attempt times in $(as_seconds $((retry_seconds * 1000 - left_ms))) s and the bound of $retry_seconds s is reached (see the aws errors above); check the instance role, the KMS key policy and the route to SSM"
    fi
    printf 'immutable-app-configure: reading %s from SSM failed (attempt %d, exit %d%s); retrying in %s s\n' \
      "$PARAMETER_PATH" "$attempt" "$status" "${code:+, $code}" "$(as_seconds "$delay_ms")" >&2
    sleep "$(as_seconds "$delay_ms")"
    delay_ms=$((delay_ms * 2 > AWS_RETRY_MAX_DELAY_MS ? AWS_RETRY_MAX_DELAY_MS : delay_ms * 2))
  done
}

# --cli-connect-timeout: 10 s instead of the CLI's 60 s per connection attempt, so that an
# unreachable endpoint costs an attempt, not the bound
# (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-options.html).
export AWS_PAGER="" AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=6
deadline_ms=$(($(now_ms) + retry_seconds * 1000))
page=0
token=""
while :; do
  args=(ssm get-parameters-by-path --region "$AWS_REGION" --path "$PARAMETER_PATH"
    --recursive --with-decryption --max-items 50 --output json --cli-connect-timeout 10)
  [[ -z "$token" ]] || args+=(--starting-token "$token")
  aws_call "$work/page-$page.json" "${args[@]}"
  token="$(jq -r '.NextToken // empty' "$work/page-$page.json")" || die "SSM returned invalid JSON"
  page=$((page + 1))
  [[ -n "$token" ]] || break
done

# All parameters as [{env, value, name, type}], sorted by name; name rules as in stacks/names.ts.
jq -s --arg path "$PARAMETER_PATH" '
  [.[].Parameters[]] | map({
    name: .Name,
    value: .Value,
    type: .Type,
    env: ((.Name | ltrimstr($path)) as $rel
      | if ($rel | test("^(config|secret)/[A-Za-z][A-Za-z0-9_]{0,127}$")) then ($rel | split("/")[1]) else null end)
  }) | sort_by(.name)' "$work"/page-*.json >"$work/params.json" || die "SSM returned invalid JSON"

# Every problem at once. The put-parameter hint names the environment's key (stacks/names.ts
# kmsAliasName), as the project README does: without --key-id SSM would switch to aws/ssm.
problems="$(jq -r --arg reserved "$RESERVED_RE" --arg path "$PARAMETER_PATH" --arg expected "$EXPECTED_PARAMETERS" \
  --arg placeholder "$SECRET_PLACEHOLDER" --arg region "$AWS_REGION" --arg key "alias/$app-$APP_ENV-secrets" '
  (if $expected == "" then [] else $expected | split(",") end) as $expected
  | (.[] | select(.env == null) | "\(.name): not <path>config/<KEY> or <path>secret/<NAME> with a name matching ^[A-Za-z][A-Za-z0-9_]{0,127}$"),
  (.[] | select(.env != null and (.env | test($reserved))) | "\(.name): \(.env) is reserved"),
  (.[] | select(.value | type != "string" or (explode | any(. == 0))) | "\(.name): value is not text"),
  (group_by(.env)[] | select(.[0].env != null and length > 1) | "\(map(.name) | join(" and ")): same variable name"),
  (($expected - map(.env)) | unique[] | "\(.): missing (the stack creates \($path)config/\(.) or \($path)secret/\(.)); was it deleted, or does this instance read the wrong path?"),
  (.[] | select(.type == "SecureString" and .value == $placeholder)
    | "\(.name): still holds the placeholder \($placeholder); set the secret, and a new instance will read it:\n  aws ssm put-parameter --region \($region) --overwrite --type SecureString --key-id \($key) --name \(.name) --value \"$VALUE\"")
' "$work/params.json")" || die "SSM returned invalid JSON"
[[ -z "$problems" ]] || die "refusing to start $app with the parameters under $PARAMETER_PATH:
$problems"

# Parameters the stack did not create (added out of band) are exported like any other.
extra="$(jq -r --arg expected "$EXPECTED_PARAMETERS" '
  (if $expected == "" then [] else $expected | split(",") end) as $expected
  | map(.env) - $expected | join(" ")' "$work/params.json")" || die "SSM returned invalid JSON"
[[ -z "$extra" ]] ||
  printf 'immutable-app-configure: also exporting parameters the stack did not create (set out of band): %s\n' "$extra"

# --- 3. app.env. The temp file lives in the target directory so that rename(2) replaces atomically.
install -d -m 0755 "$config_dir"
tmp_env="$(mktemp "$config_dir/.app.env.XXXXXX")"
chmod 0600 "$tmp_env"
jq -r --arg app "$APP_NAME" --arg env "$APP_ENV" --arg region "$AWS_REGION" --arg port "$APP_PORT" '
  def quoted: "\"" + ([explode[] | if . == 34 or . == 36 or . == 92 or . == 96 then 92, . else . end] | implode) + "\"";
  ([["APP_NAME", $app], ["APP_ENV", $env], ["AWS_REGION", $region], ["APP_PORT", $port]]
    + map([.env, .value])) as $vars
  | "# Written by immutable-app-configure at boot from SSM; do not edit (a new instance rewrites it).",
    ($vars[] | "\(.[0])=\(.[1] | quoted)"),
    "APP_DOCKER_ENV_ARGS=\($vars | map("--env=\(.[0])") | join(" ") | quoted)"
' "$work/params.json" >"$tmp_env" || die "writing $config_dir/app.env failed"
mv -f -- "$tmp_env" "$config_dir/app.env"
tmp_env=""

# --- 4. CloudWatch agent: the app's stdout/stderr file (see immutable-app@.service) to the environment's group.
tmp_cw="$(mktemp "$config_dir/.cloudwatch-agent.json.XXXXXX")"
jq -n --arg file "$log_file" --arg group "$LOG_GROUP_NAME" '{
  agent: {run_as_user: "root"},
  logs: {logs_collected: {files: {collect_list: [
    {file_path: $file, log_group_name: $group, log_stream_name: "{instance_id}"}
  ]}}}
}' >"$tmp_cw"
chmod 0644 "$tmp_cw"
mv -f -- "$tmp_cw" "$config_dir/cloudwatch-agent.json"
tmp_cw=""
"$cwagent_ctl" -a fetch-config -m ec2 -s -c "file:$config_dir/cloudwatch-agent.json" ||
  die "the CloudWatch agent did not start; logs must not stay only on the instance"

printf 'immutable-app-configure: wrote %s/app.env (%s parameters from %s, config revision %s)\n' \
  "$config_dir" "$(jq length "$work/params.json")" "$PARAMETER_PATH" "$CONFIG_REVISION"
