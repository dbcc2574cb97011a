#!/usr/bin/env bash
# debootstrap-base.sh OUT_DIR
#
# Builds a Debian 12 base disk for the local bake without the internet beyond Debian's package mirror:
# what this repository's tests and CI use in place of an official cloud image (which they cannot
# download). OUT_DIR receives
#   base.raw        ext4 on the whole disk (no partition table: QEMU boots the kernel directly),
#   vmlinuz, initrd the disk's own kernel and initramfs, for QEMU's -kernel/-initrd,
#   id_ed25519      the key of the build account (admin, as on Debian's AMIs), for Packer's SSH,
#   script.sha256   the sha256 of this script, to tell a disk made by an older version;
#   SHA256SUMS      written last: a folder without it is an unfinished build and is rebuilt.
# It stands in for the cloud image, so it has what the official image has and the bake expects:
# systemd, cloud-init (which reads the launch template's user data from a NoCloud seed at boot),
# sudo, an SSH server for the build, DHCP networking, and apt pointed at Debian's mirror through the
# host (QEMU's user network reaches the host at 10.0.2.2; see APT_PROXY).
# Needs root (debootstrap, chroot), debootstrap and e2fsprogs; no loop device, no mount.
set -euo pipefail

out="${1:?usage: debootstrap-base.sh OUT_DIR}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The proxy the VM's apt uses: the local bake runs one on the host at this port (managed/local-vm).
apt_proxy="${APT_PROXY:-http://10.0.2.2:3142/}"
size="${BASE_DISK_SIZE:-6G}"

[[ $EUID -eq 0 ]] || { echo "debootstrap-base: needs root (debootstrap and chroot)" >&2; exit 1; }
for tool in debootstrap mkfs.ext4 ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "debootstrap-base: $tool is missing: apt-get install debootstrap e2fsprogs openssh-client" >&2; exit 1; }
done

mkdir -p "$out"
rm -f "$out/SHA256SUMS"
root="$(mktemp -d "$out/.root.XXXXXX")"
trap 'rm -rf -- "$root"' EXIT

# What Debian's genericcloud image has that the bake and boot rely on.
# D-Bus too: systemd-run (the image test) needs the system bus; minbase leaves it out, cloud images have it.
packages=systemd-sysv,dbus,libpam-systemd,linux-image-cloud-amd64,openssh-server,sudo,ca-certificates,iproute2,procps,curl,gnupg,netbase
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror"
mount -t proc proc "$root/proc"
# || true: proc is unmounted again below; under set -e a failing umount here would fail the whole script.
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf -- "$root"' EXIT

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
# Current, as Debian's cloud images are (rebuilt with each point release and security update): the
# bake's own `apt-get upgrade` then has little to do, as on EC2.
chroot "$root" apt-get update -q
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -q
# cloud-init here, not in --include: its Python dependencies fail to configure inside debootstrap's
# second stage (python3-cryptography) and install cleanly with apt in the finished root.
# Unless RUNTIME_PREINSTALLED=no, also what install-runtime.sh installs on Debian 12: under software
# emulation (TCG) installing and byte-compiling them in the VM takes ten minutes of a bake, here one.
# install-runtime.sh still runs unchanged in the bake; its apt-get install then finds them installed.
extra=(cloud-init)
[[ "${RUNTIME_PREINSTALLED:-yes}" == no ]] || extra+=(docker.io apparmor jq awscli)
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${extra[@]}"
umount "$root/proc"
printf 'Acquire::http::Proxy "%s";\n' "$apt_proxy" >"$root/etc/apt/apt.conf.d/90local-vm-proxy"

echo immutable-app-base >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 immutable-app-base\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
# DHCP on the first NIC by systemd-networkd, whether or not cloud-init finds a datasource (the bake's
# VM has none); cloud-init's own network rendering is off so the two never compete.
cat >"$root/etc/systemd/network/10-local-vm.network" <<'NET'
[Match]
Name=en* eth*
[Network]
DHCP=ipv4
NET
printf 'network: {config: disabled}\ndatasource_list: [NoCloud, None]\n' >"$root/etc/cloud/cloud.cfg.d/90-local-vm.cfg"
chroot "$root" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service
# QEMU's user network answers DNS at 10.0.2.3.
rm -f "$root/etc/resolv.conf"
printf 'nameserver 10.0.2.3\n' >"$root/etc/resolv.conf"
# The local registry on the host (10.0.2.2, any port) speaks plain HTTP; Docker allows that only for
# registries listed as insecure (CIDR form covers every port). A firewalled user's mirror goes here too.
install -d -m 0755 "$root/etc/docker"
printf '{"insecure-registries": ["10.0.2.2/32"]}\n' >"$root/etc/docker/daemon.json"

# The build account, as on Debian's AMIs (admin), with passwordless sudo and the build key only.
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo admin
printf 'admin ALL=(ALL) NOPASSWD:ALL\n' >"$root/etc/sudoers.d/90-admin"
chmod 0440 "$root/etc/sudoers.d/90-admin"
rm -f "$out/id_ed25519" "$out/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C local-vm-build -f "$out/id_ed25519"
install -d -m 0700 -o 1000 -g 1000 "$root/home/admin/.ssh"
install -m 0600 -o 1000 -g 1000 "$out/id_ed25519.pub" "$root/home/admin/.ssh/authorized_keys"
truncate -s 0 "$root/etc/machine-id"

cp -L "$root/vmlinuz" "$out/vmlinuz"
cp -L "$root/initrd.img" "$out/initrd"
chroot "$root" apt-get clean
rm -f "$out/base.raw"
mkfs.ext4 -q -L root -d "$root" "$out/base.raw" "$size"
# The script that made it, so that a changed script makes a new disk (managed/local-vm/base-disk.ts).
sha256sum <"$0" | cut -d' ' -f1 >"$out/script.sha256"
# Not of base.raw: hashing 6 GB of a sparse file costs a minute for nothing anyone checks.
(cd "$out" && sha256sum vmlinuz initrd id_ed25519 >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
echo "debootstrap-base: $out/base.raw"
