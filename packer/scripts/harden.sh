#!/usr/bin/env bash
# Bake step 3: no SSH and no passwords on any instance; no change after the bake. Break-glass access is
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
for user in ubuntu ec2-user admin; do
  if id -u "$user" >/dev/null 2>&1; then passwd -l "$user" >/dev/null; fi
done

# Immutable: patches arrive as a new AMI, never as an update on a running instance. Every unit that
# would change the instance after the bake (install packages, fetch package lists, firmware metadata
# or news) is masked, on both base OSes: linked to /dev/null, a unit "cannot be activated", not by
# its timer, a dependency or by hand (systemd.unit(5)), and masking a unit the OS does not have
# keeps a later package from enabling it. scripts/test-image.sh checks this same list (a test keeps the two equal).
#   apt-daily{,-upgrade}.{timer,service}: apt update and unattended-upgrades, "Automatic updates",
#     https://documentation.ubuntu.com/server/how-to/software/automatic-updates/
#   unattended-upgrades.service: its shutdown helper (same package)
#   motd-news.timer: fetches news from motd.ubuntu.com (base-files; /etc/default/motd-news)
#   update-notifier-download.timer, update-notifier-motd.timer: update-notifier-common's downloads
#     and update counts (packages.ubuntu.com file list of update-notifier-common)
#   fwupd-refresh.timer: downloads firmware metadata from the LVFS (fwupd; fwupdmgr(1) refresh)
#   ua-timer.timer: the Ubuntu Pro client's periodic jobs, update messaging and metering
#     (https://documentation.ubuntu.com/pro-client/en/docs/howtoguides/configuring_timer_jobs/)
#   dnf-makecache.timer: package metadata refresh on AL2023 (dnf's etc/systemd/dnf-makecache.timer)
#   dnf-automatic{,-download,-install,-notifyonly}.timer: dnf-automatic, not installed by default on
#     AL2023 but enabled by many guides (dnf-automatic(8))
# AL2023 itself applies no updates to a running instance: it is locked to its release version
# ("Deterministic upgrades", https://docs.aws.amazon.com/linux/al2023/ug/deterministic-upgrades.html).
no_update_units=(
  apt-daily.timer apt-daily.service apt-daily-upgrade.timer apt-daily-upgrade.service
  unattended-upgrades.service motd-news.timer update-notifier-download.timer update-notifier-motd.timer
  fwupd-refresh.timer ua-timer.timer
  dnf-makecache.timer dnf-automatic.timer dnf-automatic-download.timer dnf-automatic-install.timer
  dnf-automatic-notifyonly.timer
)
for unit in "${no_update_units[@]}"; do
  systemctl mask "$unit"
  if systemctl is-active --quiet "$unit"; then systemctl stop "$unit"; fi
done

# apt's own switches too, in case something runs apt.systemd.daily anyway: "0" disables the action
# (Ubuntu's "Automatic updates" page); 99- sorts after 20auto-upgrades and 10periodic.
if [[ -d /etc/apt/apt.conf.d ]]; then
  cat >/etc/apt/apt.conf.d/99-immutable-app-no-updates <<'CONF'
APT::Periodic::Update-Package-Lists "0";
APT::Periodic::Unattended-Upgrade "0";
CONF
fi

# Snaps (on Ubuntu: snapd itself, amazon-ssm-agent, the AWS CLI and their bases) refresh themselves
# four times a day. Since snapd 2.58, 'snap refresh --hold' with no duration holds forever; without
# snap names it holds the auto-refreshes of all snaps, with names it also holds general refreshes of
# those snaps ('snap refresh' with no names). https://snapcraft.io/docs/managing-updates and snapd's
# cmd/snap/cmd_snap_op.go.
if command -v snap >/dev/null; then
  snap refresh --hold
  mapfile -t snaps < <(snap list | awk 'NR > 1 { print $1 }')
  if ((${#snaps[@]} > 0)); then
    snap refresh --hold "${snaps[@]}"
  fi
fi
