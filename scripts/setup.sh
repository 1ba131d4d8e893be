#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test and run.
# Safe to run repeatedly; does nothing when all packages are present.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache git pkg-config
  libboost1.81-dev libboost-program-options1.81-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libsqlite3-dev sqlite3 libssl-dev libzstd-dev libidn-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libarchive-dev
  clang libclang-rt-14-dev procps psmisc tzdata libcctz-dev
  mercurial subversion openssh-server openssh-client
  darcs brz cvs tla
  libcurl4-openssl-dev python3-aiosmtpd ngircd
  libkainjow-mustache-dev
  chromium chromium-driver python3-selenium
  wrk
  postgresql libpq-dev
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
