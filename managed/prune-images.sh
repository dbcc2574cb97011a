#!/usr/bin/env bash
# prune-images.sh --app NAME --region REGION --keep N [--dry-run] [--yes]
#
# Keeps the images rollback needs and removes the rest: of the AMIs this account owns that carry the
# tag app=NAME (packer/app.pkr.hcl tags every bake so) in REGION, it keeps the newest N and every image
# in use, and deregisters the others together with their EBS snapshots. Needs only the AWS CLI, v1 or
# v2 (no jq). `npm run images:prune` runs it with the app, region and image.keepImages of
# immutable.config.json.
#
# --dry-run  list what would be removed, and why each kept image is kept; change nothing
# --yes      remove without asking (CI); without it the script asks, and refuses when stdin is not a
#            terminal
#
# "In use" means any of these:
# - for each Auto Scaling group tagged app=NAME (the stacks tag theirs): the launch template version
#   it is on, which launches every new instance and which an instance refresh, automatic rollback or
#   not, returns the group to ("the configuration that you last saved on the Auto Scaling group before
#   starting the instance refresh", Auto Scaling User Guide, instance-refresh-rollback.html); the
#   desired configuration of each of its instance refreshes that has not ended (Pending, InProgress,
#   Cancelling, RollbackInProgress, Baking; DescribeInstanceRefreshes, InstanceRefresh.
#   DesiredConfiguration), which is what is being rolled out; its launch configuration, if it has one;
# - the $Latest and $Default versions of those groups' templates and of every launch template tagged
#   app=NAME (the stacks' provider default_tags tag theirs, and any a team adds beside them):
#   `terraform apply` writes a release as a new latest (and default) version, and only the rollout
#   moves the group to it (managed/rollout.sh rolls out the stack's launch_template_version output, the
#   template's latest_version), so an applied release that is not rolled out yet is in use;
# - the image of every instance that is pending, running, stopping or stopped and was launched from
#   one of the app's images, whatever its tags (a warm pool keeps instances stopped; a refresh that
#   was cancelled halfway leaves instances on an image that no version of the group names any more;
#   and a group made by hand without the tag shows here through its instances).
# An image given as resolve:ssm:PARAMETER counts as the AMI the parameter holds now.
# - the version just before each group's version: that environment's previous release, the image its
#   documented rollback (deploy the previous AMI id again) goes back to, however many bakes ago it was
#   made (production can lag behind many images that only staging ran). That is the version number
#   before the group's: when that version changed something else (user data, instance type) and not
#   the image, the image before it is kept only if it is among the newest N; and for an image given
#   as resolve:ssm, the parameter's previous value is the rollback target, which this cannot see.
# Older versions of a template do not count: every release adds one and none is ever deleted, so they
# would keep every image ever deployed. Going back further than one release is what the newest N are
# kept for; raise N (image.keepImages) when an environment may need to go back further than that.
# Only images in state available are ranked and removed; pending ones (a bake under way) and any other
# state are kept and not counted. Disabled AMIs are not listed by DescribeImages and are left alone.
# Ties in CreationDate (AWS reports whole seconds) are broken by image id.
#
# What AWS does (EC2 API reference and User Guide, deregister-ami.html):
# - "Deregistering an AMI has no effect on any instances that were launched from the AMI": running
#   instances go on; only new launches from it fail, which is why in-use images are kept.
# - Deregistering leaves the AMI's snapshots, billed, unless DeregisterImage's DeleteAssociatedSnapshots
#   is set, a parameter AWS added in June 2025: AWS CLIs released before it (v1 1.36, botocore 1.35,
#   which the tests run, among them) do not know --delete-associated-snapshots. So this script reads
#   each image's snapshots (BlockDeviceMappings) first, deregisters it, then calls DeleteSnapshot for
#   each, which works with every CLI version.
# - "You cannot delete a snapshot of the root device of an EBS volume used by a registered AMI"
#   (DeleteSnapshot): a snapshot that another AMI of the account still uses is kept (the same rule as
#   DeleteAssociatedSnapshots: "If a snapshot is associated with multiple AMIs, it is not deleted").
#   EC2's API is eventually consistent, so a snapshot can read as in use by the image just
#   deregistered: DeleteSnapshot is tried again a few times before that counts as a failure.
# - A deregistered AMI that matches a Recycle Bin retention rule can be restored until the rule's
#   period ends (DeregisterImage); an AMI with deregistration protection is refused, and reported.
#
# Exit codes: 0 done (or nothing to remove, or the question was answered no), 1 an AWS call failed
# (nothing is removed when a look-up fails), 2 bad usage.
set -euo pipefail
export AWS_PAGER=""

app=""
region=""
keep=""
dry_run=false
yes=false

die() {
  local code="$1"
  shift
  if [ "${GITHUB_ACTIONS:-}" = true ]; then printf '::error::%s\n' "$*" >&2; else printf 'prune-images: %s\n' "$*" >&2; fi
  exit "$code"
}
help() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
}
# The value of flag $1, or a usage error naming it.
value_of() {
  if [ $# -lt 2 ] || [ -z "$2" ] || [[ "$2" == --* ]]; then die 2 "$1 needs a value (see --help)"; fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --app) value_of "$@"; app="$2"; shift 2 ;;
    --app=*) app="${1#*=}"; shift ;;
    --region) value_of "$@"; region="$2"; shift 2 ;;
    --region=*) region="${1#*=}"; shift ;;
    --keep) value_of "$@"; keep="$2"; shift 2 ;;
    --keep=*) keep="${1#*=}"; shift ;;
    --dry-run) dry_run=true; shift ;;
    --yes) yes=true; shift ;;
    -h|--help) help ;;
    *) die 2 "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$app" ] || die 2 "--app is required: the app's name (appName in immutable.config.json)"
# The pattern of appName (managed/config-validation.ts); it also keeps commas out of the filters.
[[ "$app" =~ ^[a-z][a-z0-9-]*$ ]] || die 2 "--app $app is not an app name (lower-case letters, digits and -, starting with a letter)"
[ -n "$region" ] || die 2 "--region is required: where the images are (region in immutable.config.json)"
[[ "$region" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die 2 "--region $region is not an AWS region like eu-west-1"
[ -n "$keep" ] || die 2 "--keep is required: how many of the newest images to keep (image.keepImages)"
# The range of image.keepImages.
if ! [[ "$keep" =~ ^[1-9][0-9]{0,3}$ ]] || [ "$keep" -gt 1000 ]; then die 2 "--keep $keep is not a whole number from 1 to 1000"; fi
if [ "$dry_run" = false ] && [ "$yes" = false ] && ! [ -t 0 ]; then
  die 2 "not a terminal, so nothing to ask: pass --yes to remove without asking (CI), or --dry-run to list"
fi

# Every AMI of the account in the region, with its app tag and snapshots: the app's are the candidates,
# and a snapshot that any other one uses stays. Name comes before the snapshots, which may be empty.
# shellcheck disable=SC2016 # JMESPath literals in backticks
owned=$(aws ec2 describe-images --region "$region" --owners self \
  --query 'Images[].[CreationDate, ImageId, State, Tags[?Key==`app`].Value | [0] || `-`, Name,
    join(`,`, BlockDeviceMappings[].Ebs.SnapshotId || `[]`)]' \
  --output text) || die 1 "cannot list the images of the account"
# The app's, newest first. The CLI applies --query to each page of a paginated answer, so the
# filtering and sorting are done here.
images=$(printf '%s\n' "$owned" | awk -F '\t' -v app="$app" '$4 == app' | LC_ALL=C sort -r -t $'\t' -k1,1 -k2,2 || true)

# Lines "<image>\t<why>", one per reason; bash 3.2 (macOS) has no associative arrays.
in_use=""
use() {
  [ -n "$1" ] && [ "$1" != None ] || return 0
  in_use+="$1"$'\t'"$2"$'\n'
}

# Sets $image to the AMI that a launch template's or configuration's ImageId $1 means ("" for none).
image=""
resolved=""
resolve() {
  case "$1" in
    resolve:ssm:*)
      local parameter="${1#resolve:ssm:}"
      image=$(aws ssm get-parameter --region "$region" --name "$parameter" --query Parameter.Value --output text) ||
        die 1 "cannot read the image parameter $parameter"
      resolved=" (image from $1)" ;;
    None|"") image=""; resolved="" ;;
    *) image="$1"; resolved="" ;;
  esac
}

# The latest and default version of every launch template in the region, in one call: without a
# template, DescribeLaunchTemplateVersions describes "all the latest or default launch template
# versions in your account". Rows: template, number, default (True/False), image.
# shellcheck disable=SC2016 # AWS's names of the versions, not variables
heads=$(aws ec2 describe-launch-template-versions --region "$region" --versions '$Latest' '$Default' \
  --query 'LaunchTemplateVersions[].[LaunchTemplateId, VersionNumber, DefaultVersion, LaunchTemplateData.ImageId]' \
  --output text) || die 1 "cannot list the latest and default launch template versions"

# Sets $number and $data (its ImageId) to version $2 (a number, $Latest or $Default) of template $1;
# asks AWS only for a version that $heads does not hold.
number=""
data=""
# With a third argument "optional", a version that does not exist (deleted) returns 1 instead.
version_of() {
  local template="$1" version="$2" optional="${3:-}" id n default img found
  number=""
  data=""
  while IFS=$'\t' read -r id n default img; do
    [ "$id" = "$template" ] || continue
    # shellcheck disable=SC2016
    case "$version" in
      '$Latest') if [ -z "$number" ] || [ "$n" -gt "$number" ]; then number="$n"; data="$img"; fi ;;
      '$Default') if [ "$default" = True ]; then number="$n"; data="$img"; fi ;;
      *) if [ "$n" = "$version" ]; then number="$n"; data="$img"; fi ;;
    esac
  done <<<"$heads"
  [ -z "$number" ] || return 0
  # An optional version (a number) is asked for as a range (MinVersion/MaxVersion of
  # DescribeLaunchTemplateVersions), so that a number the template no longer has comes back as no
  # version, not as an error. The reference calls MinVersion "the version number after which to
  # describe": whether that bound is inclusive it does not say, so the range starts one lower and the
  # query keeps only the number asked for.
  local select=(--versions "$version") only="[]"
  if [ "$optional" = optional ]; then
    select=(--max-version "$version")
    [ "$version" -le 1 ] || select+=(--min-version "$((version - 1))")
    only="[?VersionNumber==\`$version\`]"
  fi
  found=$(aws ec2 describe-launch-template-versions --region "$region" --launch-template-id "$template" "${select[@]}" \
    --query "LaunchTemplateVersions$only.[VersionNumber, LaunchTemplateData.ImageId]" --output text) ||
    die 1 "cannot read version $version of launch template $template"
  IFS=$'\t' read -r number data <<<"$found"
  if [ -z "$number" ]; then
    [ "$optional" = optional ] && return 1
    die 1 "launch template $template has no version $version"
  fi
}

# The launch template versions in use, as parallel arrays: one entry per version, with its reasons.
versions_template=()
versions_number=()
versions_why=()
versions_image=()
versions_via=()
add_version() {
  local template="$1" why="$3" i
  version_of "$template" "$2" "${4:-}" || return 0
  # ${a[@]+...}: bash before 4.4 counts an empty array as unset under set -u.
  for i in ${versions_number[@]+"${!versions_number[@]}"}; do
    if [ "${versions_template[$i]}" = "$template" ] && [ "${versions_number[$i]}" = "$number" ]; then
      versions_why[i]+=", $why"
      return 0
    fi
  done
  resolve "$data"
  versions_template+=("$template")
  versions_number+=("$number")
  versions_why+=("$why")
  versions_image+=("$image")
  versions_via+=("$resolved")
}

# The groups of the app: their versions, the desired versions of their refreshes, launch configurations.
# shellcheck disable=SC2016 # JMESPath literals in backticks, and $Default is AWS's name, not a variable
groups=$(aws autoscaling describe-auto-scaling-groups --region "$region" --filters "Name=tag:app,Values=$app" \
  --query 'AutoScalingGroups[].[AutoScalingGroupName,
    LaunchTemplate.LaunchTemplateId || MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId || `-`,
    LaunchTemplate.Version || MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version || `$Default`,
    LaunchConfigurationName || `-`]' \
  --output text) || die 1 "cannot list the Auto Scaling groups tagged app=$app"
templates=" "
while IFS=$'\t' read -r group template version configuration; do
  [ -n "$group" ] || continue
  if [ "$template" != - ]; then
    add_version "$template" "$version" "the version of group $group"
    templates+="$template "
    # The release before it (a deleted version is no rollback target, and is skipped).
    if [ "$number" -gt 1 ]; then
      add_version "$template" "$((number - 1))" "the version before group $group's (its rollback target)" optional
    fi
  fi
  # shellcheck disable=SC2016 # JMESPath literals in backticks
  refreshes=$(aws autoscaling describe-instance-refreshes --region "$region" --auto-scaling-group-name "$group" \
    --query 'InstanceRefreshes[?Status==`Pending` || Status==`InProgress` || Status==`Cancelling` || Status==`RollbackInProgress` || Status==`Baking`].[InstanceRefreshId, Status,
      DesiredConfiguration.LaunchTemplate.LaunchTemplateId || DesiredConfiguration.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId || `-`,
      DesiredConfiguration.LaunchTemplate.LaunchTemplateName || DesiredConfiguration.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName || `-`,
      DesiredConfiguration.LaunchTemplate.Version || DesiredConfiguration.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version || `$Default`]' \
    --output text) || die 1 "cannot list the instance refreshes of $group"
  while IFS=$'\t' read -r refresh status desired_id desired_name desired_version; do
    [ -n "$refresh" ] || continue
    if [ "$desired_id" = - ] && [ "$desired_name" != - ]; then
      desired_id=$(aws ec2 describe-launch-templates --region "$region" --launch-template-names "$desired_name" \
        --query 'LaunchTemplates[0].LaunchTemplateId' --output text) || die 1 "cannot find launch template $desired_name"
    fi
    # A refresh without a desired configuration refreshes to the group's own version, counted above.
    [ "$desired_id" = - ] || add_version "$desired_id" "$desired_version" "the desired version of instance refresh $refresh of group $group ($status)"
  done <<<"$refreshes"
  if [ "$configuration" != - ]; then
    found=$(aws autoscaling describe-launch-configurations --region "$region" --launch-configuration-names "$configuration" \
      --query 'LaunchConfigurations[0].ImageId' --output text) || die 1 "cannot read launch configuration $configuration of $group"
    resolve "$found"
    use "$image" "launch configuration $configuration$resolved of group $group"
  fi
done <<<"$groups"

# The latest and default versions of those templates and of every launch template tagged app=NAME
# (the stacks' provider default_tags tag theirs, and any a team adds beside them).
tagged=$(aws ec2 describe-launch-templates --region "$region" --filters "Name=tag:app,Values=$app" \
  --query 'LaunchTemplates[].[LaunchTemplateId]' --output text) || die 1 "cannot list the launch templates tagged app=$app"
for template in $tagged; do
  case "$templates" in *" $template "*) ;; *) templates+="$template " ;; esac
done
for template in $templates; do
  # shellcheck disable=SC2016 # AWS's names of the versions
  add_version "$template" '$Latest' "the template's latest (what the next rollout rolls out)"
  # shellcheck disable=SC2016
  add_version "$template" '$Default' "the template's default"
done
for i in ${versions_number[@]+"${!versions_number[@]}"}; do
  use "${versions_image[$i]}" "launch template ${versions_template[$i]} version ${versions_number[$i]}${versions_via[$i]}: ${versions_why[$i]}"
done

# Instances launched from one of the app's images, whatever their tags; 100 image ids a call.
ids=()
while IFS=$'\t' read -r _ id _; do
  [ -z "$id" ] || ids+=("$id")
done <<<"$images"
while [ ${#ids[@]} -gt 0 ]; do
  batch=$(IFS=,; printf '%s' "${ids[*]:0:100}")
  ids=("${ids[@]:100}")
  instances=$(aws ec2 describe-instances --region "$region" \
    --filters "Name=image-id,Values=$batch" "Name=instance-state-name,Values=pending,running,stopping,stopped" \
    --query 'Reservations[].Instances[].[ImageId,InstanceId,State.Name]' --output text) ||
    die 1 "cannot list the instances of the app's images"
  while IFS=$'\t' read -r image instance state; do
    [ -n "$image" ] || continue
    use "$image" "instance $instance ($state)"
  done <<<"$instances"
done

total=$(printf '%s' "$images" | grep -c . || true)
echo "$app in $region: $total image(s) of this app (owner self, tag app=$app); keeping the newest $keep and every image in use"

remove=()
remove_snapshots=()
rank=0
while IFS=$'\t' read -r created id state _ name snapshots; do
  [ -n "$id" ] || continue
  [ "$state" != deregistered ] || continue
  reasons=""
  if [ "$state" != available ]; then
    reasons="state $state (only available images are pruned)"
  else
    rank=$((rank + 1))
    [ "$rank" -gt "$keep" ] || reasons="newest ($rank of $keep)"
  fi
  while IFS=$'\t' read -r used why; do
    if [ "$used" = "$id" ]; then reasons="${reasons:+$reasons; }in use: $why"; fi
  done <<<"$in_use"
  if [ -n "$reasons" ]; then
    printf '  keep    %s  %s  %s: %s\n' "$id" "$created" "$name" "$reasons"
  else
    printf '  remove  %s  %s  %s: older than the newest %s, not in use; snapshots: %s\n' "$id" "$created" "$name" "$keep" "${snapshots:-none}"
    remove+=("$id")
    remove_snapshots+=("$snapshots")
  fi
done <<<"$images"

count=${#remove[@]}
if [ "$count" -eq 0 ]; then
  echo "nothing to remove"
  exit 0
fi
if [ "$dry_run" = true ]; then
  echo "dry run: would deregister $count image(s) and delete their snapshots; nothing was changed"
  exit 0
fi
if [ "$yes" = false ]; then
  read -r -p "Deregister these $count image(s) and delete their snapshots? [y/N] " answer || answer=""
  case "$answer" in
    y|Y|yes|YES) ;;
    *) echo "nothing removed"; exit 0 ;;
  esac
fi

failed=0
deregistered=" "
for i in "${!remove[@]}"; do
  id="${remove[$i]}"
  if error=$(aws ec2 deregister-image --region "$region" --image-id "$id" 2>&1 >/dev/null); then
    echo "deregistered $id"
    deregistered+="$id "
  else
    printf 'prune-images: cannot deregister %s, its snapshots stay: %s\n' "$id" "$error" >&2
    remove_snapshots[i]=""
    failed=1
  fi
done

# The image, other than the deregistered ones, that still uses snapshot $1, if any.
user_of() {
  local image list
  while IFS=$'\t' read -r _ image _ _ _ list; do
    case "$deregistered" in *" $image "*) continue ;; esac
    case ",$list," in *",$1,"*) printf '%s' "$image"; return 0 ;; esac
  done <<<"$owned"
}

deleted=0
done_snapshots=" "
for snapshots in "${remove_snapshots[@]}"; do
  for snapshot in ${snapshots//,/ }; do
    case "$done_snapshots" in *" $snapshot "*) continue ;; esac
    done_snapshots+="$snapshot "
    other=$(user_of "$snapshot")
    if [ -n "$other" ]; then
      echo "kept snapshot $snapshot: $other uses it too"
      continue
    fi
    for attempt in 1 2 3 4; do
      if error=$(aws ec2 delete-snapshot --region "$region" --snapshot-id "$snapshot" 2>&1 >/dev/null); then
        echo "deleted snapshot $snapshot"
        deleted=$((deleted + 1))
        break
      fi
      if [ "$attempt" -lt 4 ] && printf '%s' "$error" | grep -q 'InvalidSnapshot.InUse'; then
        sleep $((attempt * 5))
        continue
      fi
      printf 'prune-images: cannot delete snapshot %s: %s\n' "$snapshot" "$error" >&2
      failed=1
      break
    done
  done
done

removed=$(printf '%s' "$deregistered" | wc -w | tr -d ' ')
echo "removed $removed image(s) and $deleted snapshot(s)"
[ "$failed" -eq 0 ] || die 1 "some AWS calls failed (see above); run again to retry the images that are left"
