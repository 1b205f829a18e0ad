#!/bin/sh
# Installs tshark (and tcpdump) for the pcaps/ tests without the debconf
# question wireshark-common asks (whether non-root users may capture): we
# answer "no" first, then hand the packages to the shared scripts/ensure-deps.sh.
set -u
# NO_DEPS=1 or not Debian: the shared script only checks and lists (no debconf here).
if [ "${NO_DEPS:-0}" = 1 ] || ! command -v dpkg-query >/dev/null 2>&1; then
    exec "$(dirname "$0")/../../scripts/ensure-deps.sh" "$@"
fi
need=""
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)
    [ "$status" = "installed" ] || need="$need $pkg"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo 'wireshark-common wireshark-common/install-setuid boolean false' | sudo debconf-set-selections
fi
exec "$(dirname "$0")/../../scripts/ensure-deps.sh" $need
