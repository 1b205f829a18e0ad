#!/bin/sh
# Makes sure the Debian packages named as arguments are installed.
# Cheap when they are (one dpkg-query); otherwise installs them with apt-get
# (through sudo when not root) or, when that is impossible, prints the exact
# command to run and fails. Used by every Makefile target that needs packages.
set -u
missing=""
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)
    [ "$status" = "installed" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
else
    echo "error: missing Debian packages:$missing" >&2
    echo "run:   sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
echo "installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; refresh them once if the install fails.
if ! $sudo $cmd >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null 2>&1
    if ! $sudo $cmd >/dev/null; then
        echo "error: could not install:$missing" >&2
        echo "run:   sudo apt-get update && sudo $cmd" >&2
        exit 1
    fi
fi
