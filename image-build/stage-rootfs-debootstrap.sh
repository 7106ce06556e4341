#!/usr/bin/env bash
# Build a plain Debian bookworm amd64 root filesystem with debootstrap, install
# Callbox from its wheel into it, and run "callbox --version" inside.
#
# The same steps as the Pi image's Callbox stage, on a machine that can run
# them natively: it proves the wheel installs and starts on a clean Debian
# with nothing but its declared dependencies.
#
#   sudo ./stage-rootfs-debootstrap.sh WHEEL [ROOTFS_DIR]
#
# DEBIAN_MIRROR picks the mirror (a local apt cache works well).
set -euo pipefail

WHEEL="${1:?usage: stage-rootfs-debootstrap.sh WHEEL [ROOTFS_DIR]}"
ROOTFS="${2:-$(mktemp -d /tmp/callbox-rootfs.XXXXXX)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
ARCH="${ARCH:-amd64}"

log() { printf '== %s\n' "$*"; }
die() { printf 'stage-rootfs: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" -eq 0 ]] || die "run as root (debootstrap and chroot)"
command -v debootstrap > /dev/null || die "debootstrap is not installed"
[[ -f "${WHEEL}" ]] || die "no wheel at ${WHEEL}"

cleanup() {
	set +e
	for sub in dev/pts dev sys proc; do
		mountpoint -q "${ROOTFS}/${sub}" && umount "${ROOTFS}/${sub}"
	done
}
trap cleanup EXIT

in_chroot() {
	chroot "${ROOTFS}" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}

if [[ ! -x "${ROOTFS}/usr/bin/python3" ]]; then
	log "debootstrap ${DEBIAN_SUITE} ${ARCH} from ${DEBIAN_MIRROR}"
	debootstrap --variant=minbase --arch="${ARCH}" \
		--include=python3,python3-venv,ca-certificates \
		"${DEBIAN_SUITE}" "${ROOTFS}" "${DEBIAN_MIRROR}"
fi

mount -t proc proc "${ROOTFS}/proc"
mount -t sysfs sys "${ROOTFS}/sys"
mount --bind /dev "${ROOTFS}/dev"
mount --bind /dev/pts "${ROOTFS}/dev/pts"
cp /etc/resolv.conf "${ROOTFS}/etc/resolv.conf"

log "Callbox from $(basename "${WHEEL}")"
# The wheels of Callbox and everything it needs are fetched on the build host (with the
# host's package index and certificates), then installed in the rootfs without a network.
WHEELHOUSE="${ROOTFS}/tmp/wheelhouse"
mkdir -p "${WHEELHOUSE}"
"${HOST_PYTHON:-python3}" -m pip wheel --quiet --wheel-dir "${WHEELHOUSE}" "${WHEEL}"
in_chroot python3 -m venv /opt/callbox/venv
in_chroot /opt/callbox/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse callbox
ln -sf /opt/callbox/venv/bin/callbox "${ROOTFS}/usr/bin/callbox"

log "callbox --version"
in_chroot callbox --version
log "rootfs: ${ROOTFS}"
