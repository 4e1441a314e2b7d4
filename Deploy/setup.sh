#!/usr/bin/env bash
# Installs every Debian package Tiaoyu needs (build, run and test), then builds the release binary.
# Idempotent and non-interactive; runs as root or through sudo.
#   Deploy/setup.sh              packages + `swift build -c release`
#   Deploy/setup.sh --no-build   packages only (the test command builds what it needs itself)
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

# Runtime libraries (OpenBLAS, TurboJPEG, libspng, zlib, OpenSSL), pkg-config for the module maps,
# and the tools the tests and benchmarks drive (curl, nginx, wrk).
packages=(
    libopenblas-dev libturbojpeg0-dev libspng-dev zlib1g-dev libssl-dev pkg-config
    curl nginx-light wrk
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup.sh: run as root or install sudo" >&2; exit 1; }
    sudo="sudo"
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "setup.sh: the Swift 6 toolchain must be on PATH" >&2; exit 1; }

if [ "$build" -eq 1 ]; then
    swift build -c release --product tiaoyu
fi
