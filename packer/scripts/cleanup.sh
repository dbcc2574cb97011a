#!/usr/bin/env bash
# Bake step 4: leave nothing of the build or its test in the image, and nothing that must be unique
# per instance (machine-id, SSH host keys): every instance generates its own at first boot.
set -euo pipefail

: "${APP_NAME:?}" "${STAGING_DIR:?}"

# The app's names (managed/names.ts), all behind the immutable-app prefix: an app called docker
# stops immutable-app@docker.service here, never docker.service.
unit="immutable-app@$APP_NAME.service"
container="immutable-app-$APP_NAME"
config_dir="/etc/immutable-app/$APP_NAME"
systemctl stop "$unit" 2>/dev/null || true
systemctl reset-failed 2>/dev/null || true
docker rm --force "$container" >/dev/null 2>&1 || true
rm -f "$config_dir/app.env" "$config_dir/boot.env" "$config_dir/cloudwatch-agent.json"
rm -f /var/log/immutable-app/*

# Package caches.
if command -v apt-get >/dev/null; then
  apt-get -y autoremove --purge
  apt-get clean
  rm -rf /var/lib/apt/lists/*
fi
if command -v dnf >/dev/null; then
  dnf clean all
  rm -rf /var/cache/dnf
fi

# Keys: no authorized key of the build, no host key (sshd is masked anyway).
rm -f /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys
rm -f /etc/ssh/ssh_host_*

# Identity: an empty machine-id makes systemd create a new one at first boot.
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id

# cloud-init must run again on each new instance (it runs user_data), logs of the build go.
cloud-init clean --logs
journalctl --rotate >/dev/null 2>&1 || true
journalctl --vacuum-time=1s >/dev/null 2>&1 || true
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*-????????' \) -delete
find /var/log -type f -exec truncate -s 0 {} +

rm -rf -- "$STAGING_DIR" /tmp/* /var/tmp/* /root/.bash_history /home/*/.bash_history
sync
