#!/usr/bin/env bash
# Build a Debian bookworm arm64 root filesystem on an amd64 machine, running the
# arm64 half of debootstrap under qemu-user, and check that its python3 reports
# "aarch64".
#
# The first stage of the Pi image, reduced to what proves the emulation works:
# the same binfmt handler and chroot that the Pi image's later stages rely on.
#
#   sudo ./stage-arm64-qemu.sh [ROOTFS_DIR]
#
# DEBIAN_MIRROR picks the mirror (a local apt cache works well).
set -euo pipefail

ROOTFS="${1:-$(mktemp -d /tmp/callbox-arm64.XXXXXX)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
QEMU_STATIC="${QEMU_STATIC:-/usr/bin/qemu-aarch64-static}"
BINFMT=/proc/sys/fs/binfmt_misc

log() { printf '== %s\n' "$*"; }
die() { printf 'stage-arm64: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" -eq 0 ]] || die "run as root (binfmt_misc, debootstrap and chroot)"
command -v debootstrap > /dev/null || die "debootstrap is not installed"
[[ -x "${QEMU_STATIC}" ]] || die "no ${QEMU_STATIC} (apt-get install qemu-user-static)"

mounted_binfmt=""
cleanup() {
	set +e
	# Whatever is still mounted under the rootfs (the second stage mounts /proc,
	# /sys and /dev itself and may leave them behind if it fails), deepest first.
	local root mnt
	root="$(realpath -e "${ROOTFS}" 2> /dev/null)"
	if [[ -n "${root}" && "${root}" != / ]]; then
		while read -r mnt; do
			umount "${mnt}" || umount -l "${mnt}"
		done < <(awk -v root="${root}/" 'index($2 "/", root) == 1 { print $2 }' /proc/self/mounts | sort -r)
	fi
	# On recent kernels this also drops the handlers registered since the mount.
	[[ -n "${mounted_binfmt}" ]] && umount "${BINFMT}"
}
trap cleanup EXIT

in_chroot() {
	chroot "${ROOTFS}" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}

# --- the kernel must hand arm64 programs to qemu ----------------------------------

if [[ ! -e "${BINFMT}/status" ]]; then
	log "mount binfmt_misc"
	mount -t binfmt_misc binfmt_misc "${BINFMT}" || die "cannot mount binfmt_misc on ${BINFMT}"
	mounted_binfmt=yes
fi

# The ELF header of a little-endian 64-bit arm64 executable, and which of its bytes count.
AARCH64_MAGIC='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
AARCH64_MASK='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

handler_enabled() { [[ "$(head -n 1 "${BINFMT}/qemu-aarch64" 2> /dev/null)" == enabled ]]; }

if ! handler_enabled; then
	log "register the qemu-aarch64 handler"
	# Without systemd nothing registers the handler at boot. binfmt-support knows
	# qemu-user-static's own entry; failing that, register one by hand. The F flag
	# opens the interpreter now, so it also works inside any chroot.
	if command -v update-binfmts > /dev/null && [[ -e /usr/share/binfmts/qemu-aarch64 ]]; then
		update-binfmts --enable qemu-aarch64 2> /dev/null || update-binfmts --import qemu-aarch64 || true
	fi
	if [[ -e "${BINFMT}/qemu-aarch64" ]] && ! handler_enabled; then
		echo 1 > "${BINFMT}/qemu-aarch64"
	fi
	if [[ ! -e "${BINFMT}/qemu-aarch64" ]]; then
		printf ':qemu-aarch64:M::%s:%s:%s:F\n' "${AARCH64_MAGIC}" "${AARCH64_MASK}" "${QEMU_STATIC}" \
			> "${BINFMT}/register"
	fi
	handler_enabled || die "could not register the qemu-aarch64 binfmt handler"
fi
log "binfmt: $(sed -n 's/^interpreter //p' "${BINFMT}/qemu-aarch64")"

# --- debootstrap: unpack natively, configure under emulation ----------------------

# /debootstrap stays in the rootfs until the second stage has finished: a rerun resumes there.
if [[ ! -x "${ROOTFS}/usr/bin/python3" && ! -d "${ROOTFS}/debootstrap" ]]; then
	log "debootstrap --foreign ${DEBIAN_SUITE} arm64 from ${DEBIAN_MIRROR}"
	debootstrap --foreign --arch=arm64 --variant=minbase --include=python3 \
		"${DEBIAN_SUITE}" "${ROOTFS}" "${DEBIAN_MIRROR}"
fi
# A handler registered without the F flag looks for its interpreter inside the chroot.
install -D -m 0755 "${QEMU_STATIC}" "${ROOTFS}/usr/bin/qemu-aarch64-static"
if [[ -d "${ROOTFS}/debootstrap" ]]; then
	log "second stage under qemu (minutes)"
	in_chroot /debootstrap/debootstrap --second-stage
fi

log "python3 in the rootfs"
machine="$(in_chroot python3 -c 'import platform; print(platform.machine())')"
printf 'machine: %s\n' "${machine}"
[[ "${machine}" == aarch64 ]] || die "python3 in the rootfs reports ${machine}, not aarch64"
log "rootfs: ${ROOTFS}"
