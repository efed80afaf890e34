#!/usr/bin/env bash
# Installs the Debian packages faascale builds with (nothing else is downloaded).
# Needs root (or sudo). Skips apt entirely when everything is already installed.
set -euo pipefail
packages=(
  cmake g++ make git ccache         # toolchain
  nlohmann-json3-dev libfmt-dev     # sim/
  libcli11-dev                      # apps/
  doctest-dev libbenchmark-dev      # tests/, bench/
  libtorch-dev libopenblas0-pthread # rl/ agents (OpenBLAS, not the slow reference BLAS)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
