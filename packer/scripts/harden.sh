#!/usr/bin/env bash
# Bake step 3: no SSH and no passwords on any instance; no change after boot. Break-glass access is
# SSM Session Manager, which needs neither sshd nor a key. Packer's own session survives: it is an
# established connection (sshd runs each one outside its listener, with KillMode=process).
set -euo pipefail

# sshd off for good, and stopped now so that the image test can check that port 22 is closed.
for unit in ssh.socket ssh.service sshd.socket sshd.service; do
  if systemctl cat "$unit" >/dev/null 2>&1; then
    systemctl disable --now "$unit"
    systemctl mask "$unit"
  fi
done
# If someone unmasks it anyway: keys only, no root.
install -d -m 0755 /etc/ssh/sshd_config.d
cat >/etc/ssh/sshd_config.d/50-immutable-app.conf <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
CONF
cat >/etc/cloud/cloud.cfg.d/50-immutable-app.cfg <<'CONF'
ssh_pwauth: false
disable_root: true
CONF

# No password logins for any account.
passwd -l root >/dev/null
for user in ubuntu ec2-user; do
  if id -u "$user" >/dev/null 2>&1; then passwd -l "$user" >/dev/null; fi
done

# Immutable: patches arrive as a new AMI, never as a package update on a running instance.
for unit in apt-daily.timer apt-daily-upgrade.timer unattended-upgrades.service dnf-makecache.timer; do
  if systemctl cat "$unit" >/dev/null 2>&1; then
    systemctl disable --now "$unit"
  fi
done
