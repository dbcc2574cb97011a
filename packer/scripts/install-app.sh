#!/usr/bin/env bash
# Bake step 2: the app. Its container image is pulled once, here, and tagged
# localhost/immutable-app/<app>:baked, so that instances start without any registry. Then the generic
# unit files from files/ are installed; the app unit (an instance of immutable-app@.service) stays
# disabled until user_data enables it.
set -euo pipefail

: "${APP_NAME:?}" "${APP_VERSION:?}" "${AWS_REGION:?}" "${CONTAINER_IMAGE:?}" "${STAGING_DIR:?}"
export PATH="$PATH:/snap/bin"

# Every name on the instance is the app name behind the immutable-app prefix (managed/names.ts), so
# that an app called docker, ssh, root or systemd touches nothing the OS already has.
readonly service_user=immutable-app
readonly baked_image="localhost/immutable-app/$APP_NAME:baked"
readonly config_dir="/etc/immutable-app/$APP_NAME"
readonly provenance_file="/usr/local/share/immutable-app/$APP_NAME.image"

# ECR needs a login; the temporary instance profile of the build may read ECR.
registry="${CONTAINER_IMAGE%%/*}"
if [[ "$registry" =~ ^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$ ]]; then
  ecr_region="$(cut -d. -f4 <<<"$registry")"
  aws ecr get-login-password --region "$ecr_region" | docker login --username AWS --password-stdin "$registry"
fi
docker pull "$CONTAINER_IMAGE"
docker tag "$CONTAINER_IMAGE" "$baked_image"
# No registry credential stays in the image.
if [[ -f /root/.docker/config.json ]]; then
  docker logout "$registry" || true
  rm -f /root/.docker/config.json
fi

# Provenance of what was baked, readable on the instance.
install -d -m 0755 /usr/local/share/immutable-app
{
  printf 'APP_NAME=%s\nAPP_VERSION=%s\nCONTAINER_IMAGE=%s\n' "$APP_NAME" "$APP_VERSION" "$CONTAINER_IMAGE"
  printf 'IMAGE_ID=%s\n' "$(docker image inspect --format '{{.Id}}' "$baked_image")"
} >"$provenance_file"

# A system user with no login and no home; it only runs the docker client of the unit. No existence
# check: the name is ours on both base OSes, so if it exists the bake fails rather than adopt it.
useradd --system --user-group --no-create-home --home-dir /nonexistent --shell "$(command -v nologin)" "$service_user"

install -m 0644 "$STAGING_DIR/immutable-app@.service" "/etc/systemd/system/immutable-app@.service"
install -m 0644 "$STAGING_DIR/immutable-app-config@.service" /etc/systemd/system/immutable-app-config@.service
install -m 0755 "$STAGING_DIR/configure-app.sh" /usr/local/sbin/immutable-app-configure
install -m 0644 "$STAGING_DIR/immutable-app-ready@.service" /etc/systemd/system/immutable-app-ready@.service
install -m 0755 "$STAGING_DIR/ready-app.sh" /usr/local/sbin/immutable-app-ready
install -m 0644 "$STAGING_DIR/immutable-app.logrotate" /etc/logrotate.d/immutable-app
install -d -m 0755 "$config_dir"
install -d -m 0750 /var/log/immutable-app
systemctl daemon-reload
