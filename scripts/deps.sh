#!/usr/bin/env bash
# Installs the Debian packages sxp needs, when any is missing.
#   scripts/deps.sh          build and test dependencies
#   scripts/deps.sh --bench  also the benchmark peers (SQLite, RocksDB, fio, gnuplot)
set -euo pipefail

pkgs=(build-essential cmake pkg-config liburing-dev libxxhash-dev libssl-dev libcmocka-dev
      valgrind clang libclang-rt-14-dev clang-format cppcheck shellcheck libsqlite3-dev librocksdb-dev gnuplot-nox)
if [[ "${1:-}" == "--bench" ]]; then
    pkgs+=(fio)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi
echo "sxp: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
