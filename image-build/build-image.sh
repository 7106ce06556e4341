#!/usr/bin/env bash
# Build the Callbox SD-card image: Raspberry Pi OS (bookworm, arm64) plus
# Callbox, a pjproject compiled for many calls, and the appliance settings.
#
# Run as root on a Debian/Ubuntu amd64 or arm64 host with:
#   apt-get install qemu-user-static binfmt-support xz-utils parted \
#                   e2fsprogs dosfstools curl ca-certificates
#   sudo ./build-image.sh [output.img]
#
# Stages (each a function below, run in this order):
#   1. fetch      download the Raspberry Pi OS Lite image, check its sha256
#   2. mount      grow the image, add the data partition, loop-mount all
#   3. packages   apt dependencies inside the chroot (qemu-user-static)
#   4. pjproject  compile pjproject (pinned, checksummed) with config_site.h,
#                 then its Python binding (pjsua2) into the Callbox venv
#   5. callbox    install Callbox from its wheel into /opt/callbox/venv
#   6. appliance  units, watchdog, RAM logging, avahi, first boot, config.txt
#   7. finish     unmount and compress
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/.." && pwd)"
OUTPUT="${1:-${REPO}/dist/callbox-$(date +%Y%m%d).img}"
WORK="${WORK:-${REPO}/build/image}"
# shellcheck source-path=SCRIPTDIR source=appliance-stage.sh
source "${HERE}/appliance-stage.sh"

# Raspberry Pi OS Lite, bookworm, arm64. Pin the release and its checksum
# together; both come from the "downloads" page of the same release.
BASE_IMAGE_URL="${BASE_IMAGE_URL:-https://downloads.raspberrypi.com/raspios_lite_arm64/images/raspios_lite_arm64-2024-11-19/2024-11-19-raspios-bookworm-arm64-lite.img.xz}"
BASE_IMAGE_SHA256="${BASE_IMAGE_SHA256:-}"

PJPROJECT_VERSION="2.15.1"
PJPROJECT_URL="https://github.com/pjsip/pjproject/archive/refs/tags/${PJPROJECT_VERSION}.tar.gz"
# sha256 of the tarball above. Kept in a variable so that a bump changes
# version and checksum in one reviewed place; the build refuses to run
# without it.
PJPROJECT_SHA256="${PJPROJECT_SHA256:-}"

WHEEL="${WHEEL:-}"              # dist/callbox-*.whl; built from the repo when empty
DATA_SIZE_MB="${DATA_SIZE_MB:-2048}"
ROOT_GROW_MB="${ROOT_GROW_MB:-1536}"
MNT="${WORK}/mnt"
LOOP=""

log() { printf '\n== %s\n' "$*"; }
die() { printf 'build-image: %s\n' "$*" >&2; exit 1; }

cleanup() {
	set +e
	for sub in boot/firmware var/lib/callbox dev/pts dev proc sys; do
		mountpoint -q "${MNT}/${sub}" && umount "${MNT}/${sub}"
	done
	mountpoint -q "${MNT}" && umount "${MNT}"
	[[ -n "${LOOP}" ]] && losetup -d "${LOOP}"
}
trap cleanup EXIT

in_chroot() {
	appliance_chroot "${MNT}" "$@"
}

check_host() {
	[[ "$(id -u)" -eq 0 ]] || die "run as root (loop devices and chroot)"
	[[ -n "${BASE_IMAGE_SHA256}" ]] || die "set BASE_IMAGE_SHA256 for ${BASE_IMAGE_URL}"
	[[ -n "${PJPROJECT_SHA256}" ]] || die "set PJPROJECT_SHA256 for pjproject ${PJPROJECT_VERSION}"
	local tool
	for tool in curl xz parted losetup mkfs.ext4 chroot sha256sum; do
		command -v "${tool}" > /dev/null || die "missing ${tool}"
	done
	if [[ "$(uname -m)" != "aarch64" ]]; then
		[[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] \
			|| die "no binfmt handler for arm64: apt-get install qemu-user-static binfmt-support"
	fi
}

stage_fetch() {
	log "1. fetch the base image"
	mkdir -p "${WORK}" "$(dirname "${OUTPUT}")"
	local xz="${WORK}/base.img.xz"
	[[ -f "${xz}" ]] || curl -fL --retry 3 -o "${xz}" "${BASE_IMAGE_URL}"
	echo "${BASE_IMAGE_SHA256}  ${xz}" | sha256sum -c - || die "base image checksum mismatch"
	xz -dc "${xz}" > "${OUTPUT}"
}

stage_mount() {
	log "2. partitions: grow root, add /var/lib/callbox"
	# Recordings and voicemail live on their own partition, so a full data
	# disk never stops the system from booting or logging in.
	truncate -s "+$((ROOT_GROW_MB + DATA_SIZE_MB))M" "${OUTPUT}"
	LOOP="$(losetup --find --show --partscan "${OUTPUT}")"
	local root_end_mb
	root_end_mb="$(parted -sm "${LOOP}" unit MiB print | awk -F: '$1 == 2 {print $3}' | tr -d 'MiB')"
	parted -s "${LOOP}" resizepart 2 "$((${root_end_mb%.*} + ROOT_GROW_MB))MiB"
	parted -s "${LOOP}" mkpart primary ext4 "$((${root_end_mb%.*} + ROOT_GROW_MB))MiB" 100%
	partx -u "${LOOP}"
	e2fsck -pf "${LOOP}p2"
	resize2fs "${LOOP}p2"
	mkfs.ext4 -q -L callbox-data "${LOOP}p3"

	mkdir -p "${MNT}"
	mount "${LOOP}p2" "${MNT}"
	mount "${LOOP}p1" "${MNT}/boot/firmware"
	mkdir -p "${MNT}/var/lib/callbox"
	mount "${LOOP}p3" "${MNT}/var/lib/callbox"
	mount -t proc proc "${MNT}/proc"
	mount -t sysfs sys "${MNT}/sys"
	mount --bind /dev "${MNT}/dev"
	mount --bind /dev/pts "${MNT}/dev/pts"
	# noatime and commit=60: fewer writes wear the card less; a minute of
	# journal at worst is what a power cut can cost, and the store fsyncs
	# what matters itself.
	cat >> "${MNT}/etc/fstab" <<-FSTAB
	LABEL=callbox-data  /var/lib/callbox  ext4  defaults,noatime,commit=60,errors=remount-ro  0  2
	FSTAB
	sed -i 's/\(ext4 *defaults\)/\1,noatime,commit=60/' "${MNT}/etc/fstab"
}

stage_packages() {
	log "3. packages"
	in_chroot apt-get update
	# The box's own packages (shared with the amd64 twin), then what only the
	# Pi needs: the pjproject build and the GPIO library.
	in_chroot apt-get install -y --no-install-recommends "${APPLIANCE_PACKAGES[@]}" \
		python3-dev build-essential swig pkg-config \
		libssl-dev libopus-dev libasound2-dev uuid-dev \
		python3-rpi-lgpio device-tree-compiler
	in_chroot apt-get clean
}

stage_pjproject() {
	log "4. pjproject ${PJPROJECT_VERSION}"
	local src="${MNT}/usr/src/pjproject"
	local tarball="${WORK}/pjproject-${PJPROJECT_VERSION}.tar.gz"
	[[ -f "${tarball}" ]] || curl -fL --retry 3 -o "${tarball}" "${PJPROJECT_URL}"
	echo "${PJPROJECT_SHA256}  ${tarball}" | sha256sum -c - || die "pjproject checksum mismatch"
	rm -rf "${src}"
	mkdir -p "${src}"
	tar -xzf "${tarball}" -C "${src}" --strip-components=1
	cp "${HERE}/config_site.h" "${src}/pjlib/include/pj/config_site.h"
	# -fPIC: the static libraries end up inside the Python extension module.
	in_chroot sh -c "cd /usr/src/pjproject \
		&& CFLAGS='-O2 -fPIC' CXXFLAGS='-O2 -fPIC' ./configure --prefix=/usr/local \
			--disable-video --disable-sound --disable-libyuv --disable-libwebrtc \
			--with-ssl \
		&& make dep && make -j\"\$(nproc)\" && make install"
	# System site packages: RPi.GPIO comes from python3-rpi-lgpio, the one
	# build of it that drives a Pi 5 as well as the older boards.
	in_chroot python3 -m venv --system-site-packages /opt/callbox/venv
	in_chroot sh -c "cd /usr/src/pjproject/pjsip-apps/src/swig/python \
		&& make && /opt/callbox/venv/bin/pip install --no-cache-dir ."
	in_chroot /opt/callbox/venv/bin/python -c "import pjsua2; print('pjsua2', pjsua2.Endpoint().libVersion().full)"
}

stage_callbox() {
	log "5. Callbox"
	if [[ -z "${WHEEL}" ]]; then
		(cd "${REPO}" && python3 -m pip wheel --no-deps -w dist .)
		WHEEL="$(find "${REPO}/dist" -name 'callbox-*.whl' -print | sort | tail -n 1)"
	fi
	[[ -f "${WHEEL}" ]] || die "no wheel at ${WHEEL}"
	cp "${WHEEL}" "${MNT}/tmp/"
	install_callbox "${MNT}" "/tmp/$(basename "${WHEEL}")"
	rm -f "${MNT}/tmp/$(basename "${WHEEL}")"
}

stage_appliance() {
	log "6. appliance settings"
	install_appliance "${MNT}"

	# Device tree: the front panel overlay (installed, off in config.txt) and
	# the firmware settings.
	dtc -@ -I dts -O dtb -o "${MNT}/boot/firmware/overlays/callbox-panel.dtbo" \
		"${REPO}/firmware_overlays/callbox-panel.dts"
	cat "${REPO}/firmware_overlays/config.txt.fragment" >> "${MNT}/boot/firmware/config.txt"
}

stage_finish() {
	log "7. finish"
	cleanup
	LOOP=""
	trap - EXIT
	xz -T0 -f "${OUTPUT}"
	sha256sum "${OUTPUT}.xz" > "${OUTPUT}.xz.sha256"
	log "image: ${OUTPUT}.xz"
}

main() {
	check_host
	stage_fetch
	stage_mount
	stage_packages
	stage_pjproject
	stage_callbox
	stage_appliance
	stage_finish
}

main "$@"
