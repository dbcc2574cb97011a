#!/usr/bin/env bash
# Publish step (shell-local post-processor, runs where packer runs): write the new AMI id to an SSM
# parameter with data type aws:ec2:image. EC2 checks that such a value is an AMI id, and launch
# templates resolve it; a plain text parameter would not be resolved and breaks instance refresh.
# Skipped when AMI_SSM_PARAMETER is empty.
set -euo pipefail

: "${AWS_REGION:?}" "${MANIFEST:?}"
if [[ -z "${AMI_SSM_PARAMETER:-}" ]]; then
  echo "publish-ami-id: ami_ssm_parameter is empty, not publishing"
  exit 0
fi

# The manifest accumulates builds; take this run's artifact, "region:ami-id[,region:ami-id...]".
artifact="$(jq -r '.last_run_uuid as $run | [.builds[] | select(.packer_run_uuid == $run)] | last | .artifact_id // empty' "$MANIFEST")"
ami_id=""
IFS=',' read -r -a entries <<<"$artifact"
for entry in "${entries[@]}"; do
  if [[ "${entry%%:*}" == "$AWS_REGION" ]]; then
    ami_id="${entry#*:}"
  fi
done
[[ "$ami_id" =~ ^ami-[0-9a-f]{8,17}$ ]] || {
  echo "publish-ami-id: no AMI id for $AWS_REGION in $MANIFEST (artifact_id '$artifact')" >&2
  exit 1
}

AWS_PAGER="" aws ssm put-parameter --region "$AWS_REGION" --name "$AMI_SSM_PARAMETER" \
  --type String --data-type aws:ec2:image --value "$ami_id" --overwrite >/dev/null
echo "publish-ami-id: $AMI_SSM_PARAMETER = $ami_id"
