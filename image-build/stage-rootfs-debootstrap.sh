#!/usr/bin/env bash
# The amd64 twin of the Pi image's root filesystem: Debian bookworm from
# debootstrap with what Raspberry Pi OS Lite brings (systemd, sshd, ...), then
# the same packages, Callbox install and appliance settings as the image
# (appliance-stage.sh, shared with build-image.sh). It can be booted with
# systemd-nspawn; tests/appliance/test_image_boot.py does that.
#
#   sudo ./stage-rootfs-debootstrap.sh WHEEL [ROOTFS_DIR]
#   sudo ./stage-rootfs-debootstrap.sh --system-only ROOTFS_DIR
#
# --system-only stops after the Debian packages (the slow part, which needs
# the mirror), so a test can keep that and add Callbox to a copy. Given an
# existing rootfs the debootstrap step is skipped.
#
# What the twin leaves out from the Pi image: the Raspberry Pi OS base (its
# kernel, firmware, config.txt, device-tree overlay), the separate data
# partition, and pjproject compiled with raised limits; the twin's engine is
# the pjsua2-python wheel instead.
#
# DEBIAN_MIRROR picks the mirror (a local apt cache works well); HOST_PYTHON
# the Python that fetches the wheels (same version as bookworm's: 3.11).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=appliance-stage.sh
source "${HERE}/appliance-stage.sh"

SYSTEM_ONLY=0
if [[ "${1:-}" == "--system-only" ]]; then
	SYSTEM_ONLY=1
	shift
	ROOTFS="${1:?usage: stage-rootfs-debootstrap.sh --system-only ROOTFS_DIR}"
else
	WHEEL="${1:?usage: stage-rootfs-debootstrap.sh WHEEL [ROOTFS_DIR]}"
	ROOTFS="${2:-$(mktemp -d /tmp/callbox-rootfs.XXXXXX)}"
fi
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
ARCH="${ARCH:-amd64}"

log() { printf '== %s\n' "$*"; }
die() { printf 'stage-rootfs: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" -eq 0 ]] || die "run as root (debootstrap and chroot)"
command -v debootstrap > /dev/null || die "debootstrap is not installed"
[[ "${SYSTEM_ONLY}" -eq 1 || -f "${WHEEL}" ]] || die "no wheel at ${WHEEL}"

cleanup() {
	set +e
	for sub in dev/pts dev sys proc; do
		mountpoint -q "${ROOTFS}/${sub}" && umount "${ROOTFS}/${sub}"
	done
}
trap cleanup EXIT

if [[ ! -x "${ROOTFS}/usr/bin/python3" ]]; then
	log "debootstrap ${DEBIAN_SUITE} ${ARCH} from ${DEBIAN_MIRROR}"
	packages="$(IFS=,; echo "${BASE_PACKAGES[*]},${APPLIANCE_PACKAGES[*]}")"
	debootstrap --variant=minbase --arch="${ARCH}" --include="${packages}" \
		"${DEBIAN_SUITE}" "${ROOTFS}" "${DEBIAN_MIRROR}"
	appliance_chroot "${ROOTFS}" apt-get clean
	# The name and hosts file that Raspberry Pi OS Lite ships, which first
	# boot replaces.
	echo raspberrypi > "${ROOTFS}/etc/hostname"
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\traspberrypi\n' \
		> "${ROOTFS}/etc/hosts"
fi
[[ "${SYSTEM_ONLY}" -eq 1 ]] && { log "system: ${ROOTFS}"; exit 0; }

mount -t proc proc "${ROOTFS}/proc"
mount -t sysfs sys "${ROOTFS}/sys"
mount --bind /dev "${ROOTFS}/dev"
mount --bind /dev/pts "${ROOTFS}/dev/pts"

log "Callbox from $(basename "${WHEEL}")"
# The wheels of Callbox and everything it needs (the engine: the pjsua2-python
# wheel) are fetched on the build host, with the host's package index and
# certificates, then installed in the rootfs without a network.
WHEELHOUSE="${ROOTFS}/tmp/wheelhouse"
mkdir -p "${WHEELHOUSE}"
"${HOST_PYTHON:-python3}" -m pip wheel --quiet --wheel-dir "${WHEELHOUSE}" "${WHEEL}[engine]"
install_callbox "${ROOTFS}" "callbox[engine]" --no-index --find-links /tmp/wheelhouse
rm -rf "${WHEELHOUSE}"

log "appliance settings"
install_appliance "${ROOTFS}"
log "rootfs: ${ROOTFS}"
