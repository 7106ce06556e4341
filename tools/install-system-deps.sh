#!/usr/bin/env bash
# Install the Debian packages Callbox needs, only those missing.
#   tools/install-system-deps.sh demo   -> what `make demo` needs
#   tools/install-system-deps.sh test   -> what `make test` needs (real SIP peers, browser, dtc, ...)
set -euo pipefail

want=${1:-demo}
# command-to-package pairs; a command found on PATH means its package is there.
demo_pkgs=("python3:python3" "espeak-ng:espeak-ng" "sox:sox" "opusenc:opus-tools")
test_pkgs=("sipp:sip-tester" "baresip:baresip" "linphone-daemon:linphone-cli" "dtc:device-tree-compiler"
           "fdtoverlay:device-tree-compiler" "shellcheck:shellcheck" "chromium:chromium"
           "chromedriver:chromium-driver" "firefox-esr:firefox-esr" "systemd-analyze:systemd" "openssl:openssl"
           "debootstrap:debootstrap" "qemu-aarch64-static:qemu-user-static"
           "update-binfmts:binfmt-support" "systemd-nspawn:systemd-container")

pairs=("${demo_pkgs[@]}")
[ "$want" = "test" ] && pairs+=("${test_pkgs[@]}")

missing=()
for pair in "${pairs[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# Packages without a command of their own: asked of dpkg.
nocmd_pkgs=(libsox-fmt-mp3)
# The browser tests screenshot Chinese pages: Chromium needs a CJK font for them.
[ "$want" = "test" ] && nocmd_pkgs+=(fonts-wqy-microhei)
for pkg in "${nocmd_pkgs[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# venv support is a package of its own on Debian.
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=("python3-venv")

[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "Installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
