#!/usr/bin/env bash
# Callbox first boot: make this box unique.
#
# Every card is written from the same image, so nothing secret or unique may
# come with it. On the first boot this script, run by
# callbox-first-boot.service before sshd and the core, creates:
#   - fresh SSH host keys,
#   - a fresh control-API token (/var/lib/callbox/state/api_token, where the
#     core reads it: appliance/core.py, Core.api_token),
#   - the hostname callbox-<last 6 hex digits of the serial number>,
#     announced by avahi as <hostname>.local (and callbox.local by alias),
#   - a new machine-id.
# Then it writes a marker so it never runs again.
set -euo pipefail

DATA_DIR="${CALLBOX_DATA:-/var/lib/callbox}"
MARKER="${DATA_DIR}/.first-boot-done"
ROOT="${CALLBOX_ROOT:-}"   # for tests: act on a directory instead of /

log() { printf 'callbox first boot: %s\n' "$*"; }

serial_number() {
	# The SoC serial: /proc/cpuinfo on a Pi 4 and older, device tree on all.
	local serial=""
	if [[ -r "${ROOT}/sys/firmware/devicetree/base/serial-number" ]]; then
		serial="$(tr -d '\0' < "${ROOT}/sys/firmware/devicetree/base/serial-number")"
	elif [[ -r "${ROOT}/proc/cpuinfo" ]]; then
		serial="$(awk -F': *' '/^Serial/ {print $2}' "${ROOT}/proc/cpuinfo")"
	fi
	if [[ -z "${serial}" ]]; then
		# Not a Pi (a test machine): a random id is still unique.
		serial="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
	fi
	printf '%s' "${serial}"
}

new_hostname() {
	local serial
	serial="$(serial_number | tr 'A-F' 'a-f')"
	local name="callbox-${serial: -6}"
	log "hostname ${name}"
	printf '%s\n' "${name}" > "${ROOT}/etc/hostname"
	# The name must resolve (sudo, avahi, the certificate's name): replace the
	# image's 127.0.1.1 line, or add one to a hosts file that has none.
	local hosts="${ROOT}/etc/hosts"
	if grep -q '^127\.0\.1\.1' "${hosts}" 2> /dev/null; then
		sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t${name}/" "${hosts}"
	else
		printf '127.0.1.1\t%s\n' "${name}" >> "${hosts}"
	fi
	# Take the name now, not at the next boot: the web's certificate and avahi
	# use it on this one. hostnamectl needs D-Bus, which is not up this early.
	if [[ -z "${ROOT}" ]]; then
		hostname "${name}" || log "the name ${name} takes effect at the next boot"
	fi
}

new_ssh_host_keys() {
	log "SSH host keys"
	rm -f "${ROOT}"/etc/ssh/ssh_host_*
	ssh-keygen -q -t ed25519 -N '' -f "${ROOT}/etc/ssh/ssh_host_ed25519_key"
	ssh-keygen -q -t rsa -b 3072 -N '' -f "${ROOT}/etc/ssh/ssh_host_rsa_key"
}

new_api_token() {
	log "control API token"
	install -d -m 0750 "${DATA_DIR}" "${DATA_DIR}/state"
	local token_file="${DATA_DIR}/state/api_token"
	# 32 random bytes, URL-safe: written atomically so a power cut leaves
	# either no token (and this script runs again) or a whole one.
	umask 077
	head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "${token_file}.tmp"
	sync "${token_file}.tmp"
	mv "${token_file}.tmp" "${token_file}"
	sync "${DATA_DIR}/state"
	if id callbox > /dev/null 2>&1; then
		chown -R callbox:callbox "${DATA_DIR}"
	fi
}

new_machine_id() {
	log "machine id"
	: > "${ROOT}/etc/machine-id"
	if [[ -z "${ROOT}" ]] && command -v systemd-machine-id-setup > /dev/null; then
		systemd-machine-id-setup
	fi
}

main() {
	if [[ -e "${MARKER}" ]]; then
		log "already done"
		return 0
	fi
	new_hostname
	new_ssh_host_keys
	new_api_token
	new_machine_id
	touch "${MARKER}"
	sync
	log "done"
}

main "$@"
