#!/usr/bin/env bash
# rollout.sh [--dir DIR] [--timeout SECONDS] [--poll SECONDS] [--replace-all] [--ignore-alarms] [--probe-url URL] [--status] [--check-secrets NAME...]
#
# Rolls the release that the last `terraform apply` of an environment wrote (a new launch template
# version) out to its instances, by an instance refresh that names that version as its desired
# configuration, and waits for the result. Needs the AWS CLI (v1 or v2) and terraform; DIR is the
# environment's Terraform folder (cdktf.out/stacks/<env>, or terraform/<env> of the export) after
# `terraform apply`, default the current folder.
#
# Why this way (AWS Auto Scaling User Guide and API reference):
# - The group keeps the version it runs until the refresh succeeds: "Once the instance refresh
#   succeeds, Amazon EC2 Auto Scaling updates the settings of the Auto Scaling group to reflect the new
#   desired configuration" (StartInstanceRefresh, DesiredConfiguration).
# - A rollback, automatic (an alarm, a failed health check) or by hand, restores "the configuration
#   that you last saved on the Auto Scaling group before starting the instance refresh"
#   (instance-refresh-rollback.html): the version that ran before.
# - One refresh at a time per group (InstanceRefreshInProgress): a running one is waited for first.
# - An alarm in INSUFFICIENT_DATA or ALARM makes StartInstanceRefresh fail (same page): new alarms
#   are given time to evaluate, an alarm in ALARM stops the rollout before it starts.
# The preferences come from the stack's `instance_refresh` output (managed/rollout.ts, checked
# against managed/aws-rules.ts).
#
# --replace-all            replace every instance even if the group already runs this version (a new
#                          secret value, read only at boot): the refresh runs with SkipMatching off.
# --ignore-alarms          break-glass (a hotfix while an alarm is in ALARM): the refresh starts without
#                          the alarm specification, so no alarm stops or rolls it back; failed health
#                          checks still do. Says so loudly.
# --probe-url URL          probe this URL instead of the stack's health_check_url (e.g. the app's own
#                          domain, which the certificate names).
# --status                 only say whether the group runs the release the last apply wrote; exit 0 when
#                          it does, 5 when it runs another version (a rollback), with the last refresh.
# --check-secrets NAME...  only check that these SecureString parameters hold a value set out of
#                          band (Terraform writes version 1, a placeholder); exit 0 or 4.
#
# Canary, checkpoints, bake time: the stack's preferences (managed/rollout.ts). When its `canary` output
# is one-instance, the first checkpoint is set here to one instance's share of the group's desired
# capacity now (scaling may have changed it since the synth): ceil(p * capacity / 100) new instances reach
# checkpoint p (User Guide, asg-adding-checkpoints-instance-refresh.html), which is 1 for floor(100/capacity).
# Probe: while the refresh runs, PROBE requests a second (the `probe_requests_per_second` output) go to
# the stack's health_check_url, so that a quiet environment gives the error-rate alarm requests to judge.
#
# Exit codes: 0 rolled out (or nothing to roll out), 1 the refresh failed, was cancelled, could not
# be rolled back or did not finish in time, or an AWS/terraform call failed, 2 bad usage, 3 the
# refresh was rolled back (the previous version runs again), 4 a secret still holds its placeholder,
# 5 (--status) the group runs another version than the last apply wrote.
set -euo pipefail
export AWS_PAGER=""

dir=.
timeout=3600
poll=15
check_secrets=()
checking_secrets=false
replace_all=false
ignore_alarms=false
status_only=false
probe_url=""

usage() {
  sed -n '2,2p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
}
die() {
  local code="$1"
  shift
  if [ "${GITHUB_ACTIONS:-}" = true ]; then printf '::error::%s\n' "$*" >&2; else printf 'rollout: %s\n' "$*" >&2; fi
  exit "$code"
}
whole_number() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || die 2 "--dir needs a folder"; dir="$2"; shift 2 ;;
    --timeout) if [ $# -lt 2 ] || ! whole_number "$2"; then die 2 "--timeout needs a number of seconds"; fi; timeout="$2"; shift 2 ;;
    --poll) if [ $# -lt 2 ] || ! whole_number "$2"; then die 2 "--poll needs a number of seconds"; fi; poll="$2"; shift 2 ;;
    --replace-all) replace_all=true; shift ;;
    --ignore-alarms) ignore_alarms=true; shift ;;
    --status) status_only=true; shift ;;
    --probe-url) if [ $# -lt 2 ] || ! [[ "$2" =~ ^https?:// ]]; then die 2 "--probe-url needs an http:// or https:// URL"; fi; probe_url="$2"; shift 2 ;;
    --check-secrets) checking_secrets=true; shift; check_secrets=("$@"); break ;;
    -h|--help) usage ;;
    *) die 2 "unknown argument $1 (see --help)" ;;
  esac
done
[ -d "$dir" ] || die 2 "--dir $dir is not a folder"

# Without state, `terraform output` exits 0 and prints a warning instead of a value: every value is
# checked for the shape the stack's outputs have.
output() {
  local value
  value=$(terraform -chdir="$dir" output -raw "$1" 2>/dev/null) ||
    die 1 "terraform output $1 failed in $dir: run terraform init and apply there first"
  [[ "$value" =~ $2 ]] || die 1 "terraform output $1 in $dir is not what an apply of the stack writes: run terraform init and apply there first"
  printf '%s' "$value"
}

# Terraform creates each secret parameter once, with a placeholder: that is version 1. A value set
# with `aws ssm put-parameter --overwrite` is version 2 or later. DescribeParameters returns the
# version without the value, so this needs no kms:Decrypt.
secrets_unset() {
  local names=("$@") unset=() batch=() name
  while [ ${#names[@]} -gt 0 ]; do
    batch=("${names[@]:0:10}")
    names=("${names[@]:10}")
    local joined
    joined=$(IFS=,; printf '%s' "${batch[*]}")
    local found
    found=$(aws ssm describe-parameters --parameter-filters "Key=Name,Option=Equals,Values=$joined" \
      --query 'Parameters[].[Name,Version]' --output text) || die 1 "aws ssm describe-parameters failed"
    for name in "${batch[@]}"; do
      if ! printf '%s\n' "$found" | grep -Eq "^${name//./\\.}[[:space:]]+([2-9]|[1-9][0-9]+)$"; then unset+=("$name"); fi
    done
  done
  printf '%s\n' "${unset[@]+"${unset[@]}"}"
}

require_secrets() {
  [ $# -gt 0 ] || return 0
  local missing
  missing=$(secrets_unset "$@")
  [ -n "$missing" ] || return 0
  printf 'These secrets still hold the placeholder Terraform wrote; instances refuse to start until each is set:\n' >&2
  local name
  while IFS= read -r name; do
    local key_alias
    # /<app>/<env>/secret/<NAME> is encrypted with alias/<app>-<env>-secrets (managed/names.ts).
    key_alias="alias/$(printf '%s' "$name" | cut -d/ -f2)-$(printf '%s' "$name" | cut -d/ -f3)-secrets"
    # shellcheck disable=SC2016 # $VALUE is for the reader to fill in
    printf '  aws ssm put-parameter --overwrite --type SecureString --key-id %s --name %s --value "$VALUE"\n' "$key_alias" "$name" >&2
  done <<<"$missing"
  die 4 "set the secrets above, then run the rollout again"
}

if [ "$checking_secrets" = true ]; then
  require_secrets "${check_secrets[@]+"${check_secrets[@]}"}"
  echo "every secret is set"
  exit 0
fi

asg=$(output asg_name '^[A-Za-z0-9-]+$')
template=$(output launch_template_id '^lt-[0-9a-f]+$')
want=$(output launch_template_version '^[1-9][0-9]*$')
input=$(output instance_refresh '^\{"AutoScalingGroupName":')
alarms=$(output rollout_alarms '^[A-Za-z0-9 -]*$')
image_parameter=$(output image_parameter '^(/[A-Za-z0-9_./-]+)?$')
secrets=$(output secret_parameters '^[A-Za-z0-9_./ -]*$')
canary=$(output canary '^(one-instance|fixed)$')
checkpoint_delay=$(output checkpoint_delay_seconds '^[0-9]+$')
probe_rate=$(output probe_requests_per_second '^[0-9]+$')
health_url=${probe_url:-$(output health_check_url '^https?://')}

# The newest refresh of the group: status, desired version, end time, reason (tab-separated).
last_refresh() {
  aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$asg" --max-records 1 \
    --query 'InstanceRefreshes[0].[Status,DesiredConfiguration.LaunchTemplate.Version,EndTime,StatusReason]' --output text ||
    die 1 "cannot list the instance refreshes of $asg"
}

if [ "$status_only" = true ]; then
  runs=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
    --query 'AutoScalingGroups[0].LaunchTemplate.Version' --output text) || die 1 "cannot describe the Auto Scaling group $asg"
  if [ "$runs" = "$want" ]; then
    echo "$asg runs launch template version $want, the release the last apply wrote"
    exit 0
  fi
  IFS=$'\t' read -r last_status last_version last_end last_reason <<<"$(last_refresh)"
  msg="$asg runs launch template version $runs, but the last apply wrote version $want"
  if [ "$last_version" = "$want" ] && [ "$last_status" != None ]; then
    msg="$msg: its instance refresh ended $last_status${last_end:+ at $last_end}${last_reason:+ ($last_reason)}"
  else
    msg="$msg, which was never rolled out"
  fi
  die 5 "$msg. The state, \$Latest and \$Default all name version $want; the instances run $runs. Deploy again to retry $want, or deploy the image that runs to make it the release"
fi

# shellcheck disable=SC2086 # space-separated parameter names, none with spaces
require_secrets $secrets

image_of() {
  aws ec2 describe-launch-template-versions --launch-template-id "$template" --versions "$1" \
    --query 'LaunchTemplateVersions[0].LaunchTemplateData.ImageId' --output text 2>/dev/null || echo "?"
}
group_version() {
  aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
    --query 'AutoScalingGroups[0].LaunchTemplate.Version' --output text || die 1 "cannot describe the Auto Scaling group $asg"
}
refresh_state() {
  aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$asg" --instance-refresh-ids "$1" \
    --query 'InstanceRefreshes[0].[Status,PercentageComplete,InstancesToUpdate,StatusReason]' --output text ||
    die 1 "cannot describe instance refresh $1 of $asg"
}

# Waits for refresh $1 to end; prints its progress; sets $status and $reason.
status=""
reason=""
wait_for() {
  local id="$1" started last="" line percentage left
  started=$(date +%s)
  while :; do
    line=$(refresh_state "$id")
    IFS=$'\t' read -r status percentage left reason <<<"$line"
    [ "$reason" != None ] || reason=""
    if [ "$line" != "$last" ]; then
      printf '%s: %s, %s%% done, %s instance(s) left%s\n' "$asg" "$status" "${percentage/None/0}" "${left/None/?}" "${reason:+ ($reason)}"
      last="$line"
    fi
    case "$status" in
      Successful|Failed|Cancelled|RollbackSuccessful|RollbackFailed) return 0 ;;
    esac
    if [ $(( $(date +%s) - started )) -ge "$timeout" ]; then
      die 1 "instance refresh $id of $asg is still $status after ${timeout}s; it goes on: watch it with aws autoscaling describe-instance-refreshes --auto-scaling-group-name $asg"
    fi
    sleep "$poll"
  done
}

# shellcheck disable=SC2016 # JMESPath literals in backticks
active=$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$asg" --max-records 5 \
  --query 'InstanceRefreshes[?Status==`Pending` || Status==`InProgress` || Status==`Cancelling` || Status==`RollbackInProgress` || Status==`Baking`].InstanceRefreshId | [0]' \
  --output text) || die 1 "cannot list the instance refreshes of $asg"
if [ "$active" != None ] && [ -n "$active" ]; then
  echo "$asg: waiting for instance refresh $active, which is still running"
  wait_for "$active"
fi

current=$(group_version)
if [ "$replace_all" = true ]; then
  # Every instance, whatever it runs: the preferences' SkipMatching off (the output is compact JSON).
  input="${input/\"SkipMatching\":true/\"SkipMatching\":false}"
elif [ -z "$image_parameter" ]; then
  if [ "$current" = "$want" ]; then
    # The group names the version; its instances may not all run it (a refresh cancelled halfway, a
    # version set on the group by hand). DescribeAutoScalingGroups gives each instance the launch
    # template version it was launched with (Instance.LaunchTemplate); only those in service count
    # (one terminating or in standby is on its way out).
    stale=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
      --query "AutoScalingGroups[0].Instances[?LifecycleState=='InService' && LaunchTemplate.Version!='$want'].InstanceId" --output text) ||
      die 1 "cannot describe the instances of $asg"
    if [ -z "$stale" ] || [ "$stale" = None ]; then
      echo "$asg already runs launch template version $want ($(image_of "$want")): nothing to roll out"
      exit 0
    fi
    echo "$asg is on launch template version $want, but instances $stale are not: replacing them"
  fi
else
  # resolve:ssm: the template may be unchanged while the image behind the parameter is new.
  ami=$(aws ssm get-parameter --name "$image_parameter" --query Parameter.Value --output text) ||
    die 1 "cannot read the image parameter $image_parameter"
  running=$(aws ec2 describe-instances \
    --filters "Name=tag:aws:autoscaling:groupName,Values=$asg" "Name=instance-state-name,Values=pending,running" \
    --query 'Reservations[].Instances[].ImageId' --output text) || die 1 "cannot list the instances of $asg"
  # shellcheck disable=SC2086 # the instances' image ids, one word each
  if [ "$current" = "$want" ] && [ -n "$running" ] && [ -z "$(printf '%s\n' $running | grep -vx "$ami" || true)" ]; then
    echo "$asg already runs $ami ($image_parameter) on launch template version $want: nothing to roll out"
    exit 0
  fi
fi

if [ "$ignore_alarms" = true ]; then
  # Break-glass: no AlarmSpecification. StartInstanceRefresh refuses to start while an alarm it would
  # watch is in ALARM (User Guide, instance-refresh-rollback.html), which is exactly when a hotfix is needed.
  input=$(printf '%s' "$input" | sed -E 's/"AlarmSpecification":\{"Alarms":\[[^]]*\]\},?//')
  for line in "BREAK-GLASS: --ignore-alarms: this rollout runs WITHOUT its alarms ($alarms)." \
    "No error rate, latency or unhealthy-host alarm can stop or roll it back; only failed health checks can." \
    "Watch it yourself, and run a normal deploy once the incident is over."; do
    if [ "${GITHUB_ACTIONS:-}" = true ]; then printf '::warning::%s\n' "$line" >&2; else printf '!!! %s\n' "$line" >&2; fi
  done
elif [ -n "$alarms" ]; then
  # shellcheck disable=SC2086 # alarm names have no spaces
  for _ in $(seq 1 40); do
    states=$(aws cloudwatch describe-alarms --alarm-names $alarms --query 'MetricAlarms[].[AlarmName,StateValue]' --output text) ||
      die 1 "cannot read the rollout alarms ($alarms)"
    if printf '%s\n' "$states" | grep -q $'\tALARM$'; then
      die 1 "a rollout alarm is in ALARM before the rollout starts: $(printf '%s' "$states" | grep $'\tALARM$' | cut -f1 | tr '\n' ' ')- fix what it reports first, or for a hotfix during the incident deploy with --ignore-alarms (break-glass)"
    fi
    printf '%s\n' "$states" | grep -q $'\tINSUFFICIENT_DATA$' || break
    echo "waiting for the rollout alarms to evaluate (new alarms start in INSUFFICIENT_DATA)"
    sleep "$poll"
  done
fi

if [ "$canary" = one-instance ]; then
  capacity=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
    --query 'AutoScalingGroups[0].DesiredCapacity' --output text) || die 1 "cannot describe the Auto Scaling group $asg"
  if [[ "$capacity" =~ ^[0-9]+$ ]] && [ "$capacity" -ge 2 ]; then
    # The stack's rule (managed/release-config.ts defaultCheckpoints) at today's capacity: one instance,
    # half the fleet from five instances on, then all.
    first=$((100 / capacity))
    [ "$first" -ge 1 ] || first=1
    checkpoints="$first,100"
    if [ "$capacity" -ge 5 ] && [ "$first" -lt 50 ]; then checkpoints="$first,50,100"; fi
    before="$input"
    if [[ "$input" == *'"CheckpointPercentages":'* ]]; then
      input=$(printf '%s' "$input" | sed -E "s/\"CheckpointPercentages\":\[[0-9,]+\]/\"CheckpointPercentages\":[$checkpoints]/")
    else
      # Synthesized for one instance (no checkpoints): the delay the stack states, before the bake time.
      input="${input/\"BakeTime\":/\"CheckpointPercentages\":[$checkpoints],\"CheckpointDelay\":$checkpoint_delay,\"BakeTime\":}"
    fi
    [ "$input" = "$before" ] || echo "$asg: $capacity instances; the canary is one of them (checkpoints $checkpoints %)"
  fi
fi

IFS=$'\t' read -r last_status last_version last_end last_reason <<<"$(last_refresh)"
if [ "$last_version" = "$want" ] && [[ "$last_status" == Rollback* || "$last_status" == Failed || "$last_status" == Cancelled ]]; then
  echo "$asg: retrying launch template version $want ($(image_of "$want")): its last rollout ended $last_status${last_end:+ at $last_end}${last_reason:+ ($last_reason)}"
fi

echo "$asg: rolling out launch template version $want ($(image_of "$want")); version $current ($(image_of "$current")) runs until it succeeds"
id=$(aws autoscaling start-instance-refresh --cli-input-json "$input" --query InstanceRefreshId --output text) ||
  die 1 "StartInstanceRefresh was refused (see above); $asg still runs launch template version $current"

# The probe: bounded by the refresh's wait (killed when it ends, and at exit), one request per tick.
probe_pid=""
stop_probe() { [ -z "$probe_pid" ] || kill "$probe_pid" 2>/dev/null || true; }
trap stop_probe EXIT
if [ "$probe_rate" -gt 0 ] && command -v curl >/dev/null; then
  (
    end=$(($(date +%s) + timeout))
    while [ "$(date +%s)" -lt "$end" ]; do
      for _ in $(seq 1 "$probe_rate"); do curl -ks -o /dev/null --max-time 5 "$health_url" & done
      sleep 1
    done
    wait
  ) >/dev/null 2>&1 &
  probe_pid=$!
  echo "$asg: probing $health_url with $probe_rate request(s) a second while the refresh runs"
elif [ "$probe_rate" -gt 0 ]; then
  echo "$asg: no curl here, so no probe: in a quiet environment a rollback rests on health checks alone"
fi
wait_for "$id"
stop_probe
now=$(group_version)
case "$status" in
  Successful)
    echo "$asg: rolled out; it runs launch template version $now ($(image_of "$now"))" ;;
  RollbackSuccessful)
    die 3 "the rollout of version $want was rolled back${reason:+ ($reason)}; $asg runs launch template version $now ($(image_of "$now")) again" ;;
  RollbackFailed)
    die 1 "the rollout of version $want failed and so did its rollback${reason:+ ($reason)}; $asg is on launch template version $now: check its instances" ;;
  *)
    die 1 "the rollout of version $want ended $status${reason:+ ($reason)}; $asg is on launch template version $now" ;;
esac
