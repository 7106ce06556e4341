#!/usr/bin/env bash
# What the Pi image and its amd64 twin share: the packages the box runs with,
# the Callbox install and the appliance settings (user, units, first boot,
# journal, avahi). Sourced by build-image.sh (the Pi image) and by
# stage-rootfs-debootstrap.sh (the amd64 twin that the boot test starts), so a
# change here reaches both. Every function takes the root filesystem first.
set -euo pipefail

APPLIANCE_STAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APPLIANCE_REPO="$(cd "${APPLIANCE_STAGE_DIR}/.." && pwd)"

# What Raspberry Pi OS Lite already carries and the box relies on (systemd as
# PID 1, sshd whose keys first boot makes, ip); the twin's debootstrap adds it.
# shellcheck disable=SC2034  # read by the scripts that source this file
BASE_PACKAGES=(systemd systemd-sysv dbus iproute2 openssh-server)

# What the box runs with, on every architecture. openssl: the web page's
# self-signed certificate; opus-tools: finished recordings are compressed.
# shellcheck disable=SC2034
APPLIANCE_PACKAGES=(python3 python3-venv ca-certificates openssl espeak-ng sox opus-tools
	avahi-daemon libnss-mdns)

# The port of the admin page (HTTPS), as `callbox web` serves it by default.
WEB_PORT=8443

appliance_chroot() {
	local root="$1"
	shift
	chroot "${root}" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}

# install_callbox ROOT REQUIREMENT [PIP OPTION...]
# Callbox into /opt/callbox/venv (made here unless an earlier stage made it,
# as the Pi's pjproject stage does) and /usr/bin/callbox pointing at it.
install_callbox() {
	local root="$1" requirement="$2"
	shift 2
	if [[ ! -x "${root}/opt/callbox/venv/bin/python" ]]; then
		# System site packages: on the Pi, RPi.GPIO comes from python3-rpi-lgpio.
		appliance_chroot "${root}" python3 -m venv --system-site-packages /opt/callbox/venv
	fi
	appliance_chroot "${root}" /opt/callbox/venv/bin/pip install --no-cache-dir "$@" "${requirement}"
	ln -sf /opt/callbox/venv/bin/callbox "${root}/usr/bin/callbox"
	appliance_chroot "${root}" callbox --version
}

# install_appliance ROOT
# The callbox user, the units, first boot, RAM logging, the watchdog, avahi;
# and no secret left in the image.
install_appliance() {
	local root="$1"
	appliance_chroot "${root}" sh -c "getent group gpio > /dev/null || groupadd --system gpio"
	appliance_chroot "${root}" sh -c "id callbox > /dev/null 2>&1 || useradd --system \
		--home-dir /var/lib/callbox --shell /usr/sbin/nologin --groups dialout,gpio callbox"

	install -m 0644 "${APPLIANCE_REPO}"/systemd/*.service "${APPLIANCE_REPO}"/systemd/*.timer \
		"${root}/etc/systemd/system/"
	install -D -m 0755 "${APPLIANCE_STAGE_DIR}/first-boot.sh" "${root}/usr/lib/callbox/first-boot.sh"
	appliance_chroot "${root}" systemctl enable callbox-first-boot.service callbox-core.service \
		callbox-web.service callbox-backup.timer avahi-daemon.service
	install -D -m 0644 "${APPLIANCE_REPO}/docs/appliance.md" "${root}/usr/share/doc/callbox/appliance.md"

	# Logs live in RAM: an SD card dies of small writes. Rate-limited so a
	# chatty fault cannot fill the 32 MB.
	install -d "${root}/etc/systemd/journald.conf.d"
	cat > "${root}/etc/systemd/journald.conf.d/callbox.conf" <<-JOURNAL
	[Journal]
	Storage=volatile
	RuntimeMaxUse=32M
	RateLimitIntervalSec=30s
	RateLimitBurst=1000
	JOURNAL

	# systemd feeds the SoC watchdog (dtparam=watchdog=on): a hung kernel
	# or PID 1 reboots the box; shutdowns that hang are cut short too.
	install -d "${root}/etc/systemd/system.conf.d"
	cat > "${root}/etc/systemd/system.conf.d/callbox-watchdog.conf" <<-WATCHDOG
	[Manager]
	RuntimeWatchdogSec=15
	RebootWatchdogSec=2min
	WATCHDOG

	# /tmp in RAM; no swap file on the card.
	appliance_chroot "${root}" systemctl enable tmp.mount 2> /dev/null || true
	appliance_chroot "${root}" systemctl disable dphys-swapfile.service 2> /dev/null || true

	# Tell the LAN what the box offers: the admin page over HTTPS, SIP.
	install -d "${root}/etc/avahi/services"
	cat > "${root}/etc/avahi/services/callbox.service" <<-AVAHI
	<?xml version="1.0" standalone='no'?>
	<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
	<service-group>
	  <name replace-wildcards="yes">Callbox on %h</name>
	  <service><type>_https._tcp</type><port>${WEB_PORT}</port></service>
	  <service><type>_sip._udp</type><port>5060</port></service>
	</service-group>
	AVAHI
	# mDNS name callbox.local whatever the unique hostname: the name on the
	# quick-start card. A second box on the same LAN becomes callbox-2.local
	# (avahi resolves the clash) and is also reachable by its own hostname.
	sed -i 's/^#\?host-name=.*/host-name=callbox/' "${root}/etc/avahi/avahi-daemon.conf"

	# No image-wide secrets: first boot makes the SSH keys and the API token,
	# the web its certificate.
	rm -f "${root}"/etc/ssh/ssh_host_*
	rm -rf "${root}/var/lib/callbox/tls" "${root}/var/lib/callbox/state"
	: > "${root}/etc/machine-id"
}
