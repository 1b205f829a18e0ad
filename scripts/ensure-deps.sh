#!/bin/sh
# Makes sure the Debian packages named as arguments are installed.
# Cheap when they are (one dpkg-query); otherwise installs them with apt-get
# (through sudo when not root) or, when that is impossible, prints the exact
# command to run and fails. Used by every Makefile target that needs packages.
#
# Elsewhere (Fedora, Arch, macOS, or a Debian you manage yourself): with
# NO_DEPS=1, or when there is no dpkg-query, nothing is installed. The script
# then checks, configure-style, for what each package provides (a command, a
# header, a library), prints what is missing under the Debian name and what to
# look for, and goes on (exit 0): you install the equivalents with your own
# package manager. What is still missing then fails the build or the tests
# that need it, by name; under CI a test skipped for a missing tool fails the
# summary (scripts/check-summary.sh).
set -u

# probe PKG: prints what PKG provides ("command X", "header X", ...) if that is
# missing here, nothing if it is present. Unknown packages: "?".
probe() {
    case $1 in
    build-essential) cmd=cc ;;
    pkg-config) cmd=pkg-config ;;
    binutils) cmd=nm ;;
    mosquitto) cmd=mosquitto ;;
    mosquitto-clients) cmd=mosquitto_pub ;;
    openssl) cmd=openssl ;;
    tshark) cmd=tshark ;;
    tcpdump) cmd=tcpdump ;;
    jq) cmd=jq ;;
    zip) cmd=zip ;;
    gcovr) cmd=gcovr ;;
    clang-14) cmd=clang-14 ;;
    llvm-14) cmd=llvm-profdata-14 ;;
    nodejs) cmd=node ;;
    npm) cmd=npm ;;
    rabbitmq-server) cmd=rabbitmq-server ;;
    libcriterion-dev) hdr=criterion/criterion.h ;;
    libssl-dev) hdr=openssl/ssl.h ;;
    libpcap-dev) hdr=pcap/pcap.h ;;
    zlib1g-dev) hdr=zlib.h ;;
    libwslay-dev) hdr=wslay/wslay.h ;;
    libclang-rt-14-dev)
        printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }\n' |
            ${FUZZ_CC:-clang-14} -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1 ||
            echo "libFuzzer runtime (${FUZZ_CC:-clang-14} -fsanitize=fuzzer links)"
        return ;;
    *) echo "no check known here: make sure it (or its equivalent) is installed"; return ;;
    esac
    if [ -n "${cmd:-}" ]; then
        PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$cmd" >/dev/null 2>&1 || echo "command $cmd"
    else
        printf '#include <%s>\n' "$hdr" | ${CC:-cc} -E -x c - >/dev/null 2>&1 || echo "header <$hdr>"
    fi
    unset cmd hdr
}

if [ "${NO_DEPS:-0}" = 1 ] || ! command -v dpkg-query >/dev/null 2>&1; then
    why="NO_DEPS=1"; [ "${NO_DEPS:-0}" = 1 ] || why="no dpkg-query (not Debian)"
    missing=""
    for pkg in "$@"; do
        what=$(probe "$pkg")
        [ -n "$what" ] && missing="$missing
  $pkg: $what"
    done
    if [ -n "$missing" ]; then
        echo "$why: installing nothing; needed (Debian names): $*" >&2
        echo "missing here (install the equivalent with your package manager):$missing" >&2
    fi
    exit 0
fi

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
    echo "       (or NO_DEPS=1 to build with packages you installed yourself)" >&2
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
