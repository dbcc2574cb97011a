#!/usr/bin/env bash
# Bake step 2: the app. Its container image is pulled once, here, and tagged <app>:baked, so that
# instances start without any registry. Then the generic unit files from files/ are installed under
# the app's name; the app unit stays disabled until user_data enables it.
set -euo pipefail

: "${APP_NAME:?}" "${APP_VERSION:?}" "${AWS_REGION:?}" "${CONTAINER_IMAGE:?}" "${STAGING_DIR:?}"
export PATH="$PATH:/snap/bin"

# ECR needs a login; the temporary instance profile of the build may read ECR.
registry="${CONTAINER_IMAGE%%/*}"
if [[ "$registry" =~ ^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$ ]]; then
  ecr_region="$(cut -d. -f4 <<<"$registry")"
  aws ecr get-login-password --region "$ecr_region" | docker login --username AWS --password-stdin "$registry"
fi
docker pull "$CONTAINER_IMAGE"
docker tag "$CONTAINER_IMAGE" "$APP_NAME:baked"
# No registry credential stays in the image.
if [[ -f /root/.docker/config.json ]]; then
  docker logout "$registry" || true
  rm -f /root/.docker/config.json
fi

# Provenance of what was baked, readable on the instance.
install -d -m 0755 /usr/local/share/immutable-app
{
  printf 'APP_NAME=%s\nAPP_VERSION=%s\nCONTAINER_IMAGE=%s\n' "$APP_NAME" "$APP_VERSION" "$CONTAINER_IMAGE"
  printf 'IMAGE_ID=%s\n' "$(docker image inspect --format '{{.Id}}' "$APP_NAME:baked")"
} >"/usr/local/share/immutable-app/$APP_NAME.image"

# A system user with no login and no home; it only runs the docker client of the unit.
if ! id -u "$APP_NAME" >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell "$(command -v nologin)" "$APP_NAME"
fi

install -m 0644 "$STAGING_DIR/app.service" "/etc/systemd/system/$APP_NAME.service"
install -m 0644 "$STAGING_DIR/immutable-app-config@.service" /etc/systemd/system/immutable-app-config@.service
install -m 0755 "$STAGING_DIR/configure-app.sh" /usr/local/sbin/immutable-app-configure
install -m 0644 "$STAGING_DIR/immutable-app.logrotate" /etc/logrotate.d/immutable-app
install -d -m 0755 "/etc/$APP_NAME"
install -d -m 0750 /var/log/immutable-app
systemctl daemon-reload
