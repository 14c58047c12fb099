#!/usr/bin/env bash
# Installs the Docker Compose v2 CLI plugin (`docker compose`) from Debian 13's docker-compose package: Debian 12
# ships only Compose v1, and the trixie build (2.26) runs on Debian 12. The .deb is verified against the SHA256
# of trixie's Packages index, unpacked, and only its docker-compose binary is installed as a CLI plugin.
# Installs Debian's docker.io only when there is no `docker` program at all.
# Idempotent: does nothing when `docker compose version` already works.
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
PLUGIN="$PLUGIN_DIR/docker-compose"

log() { echo "install-compose-plugin: $*"; }
fail() {
  echo "install-compose-plugin: $*" >&2
  exit 1
}

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  log "$(docker compose version) is already installed."
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  fail "Compose v2 is missing and installing it needs root: run sudo $0"
fi

for program in curl xz dpkg-deb sha256sum; do
  command -v "$program" >/dev/null 2>&1 || fail "$program is required (apt-get install -y curl xz-utils dpkg coreutils)"
done

if ! command -v docker >/dev/null 2>&1; then
  log "no docker program: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

WORK_DIR="$(mktemp -d)"
trap 'rm -rf "$WORK_DIR"' EXIT

index_url="$MIRROR/dists/$SUITE/main/binary-$ARCH/Packages.xz"
log "reading $index_url"
curl -fsSL --retry 3 "$index_url" -o "$WORK_DIR/Packages.xz" || fail "cannot download $index_url"

# The stanza of the docker-compose package: its Filename and SHA256.
read -r filename sha256 < <(
  xz -dc "$WORK_DIR/Packages.xz" | awk '
    /^Package: / { pkg = $2; file = ""; sum = "" }
    pkg == "docker-compose" && /^Filename: / { file = $2 }
    pkg == "docker-compose" && /^SHA256: / { sum = $2 }
    /^$/ { if (pkg == "docker-compose" && file != "" && sum != "") { print file, sum; exit } }
    END { if (pkg == "docker-compose" && file != "" && sum != "") print file, sum }
  ' | head -n 1
) || true
if [ -z "${filename:-}" ] || [ -z "${sha256:-}" ]; then
  fail "no docker-compose package in $index_url"
fi

deb="$WORK_DIR/docker-compose.deb"
log "downloading $MIRROR/$filename"
curl -fsSL --retry 3 "$MIRROR/$filename" -o "$deb" || fail "cannot download $MIRROR/$filename"
echo "$sha256  $deb" | sha256sum --check --status || fail "SHA256 of $filename does not match the Packages index"

dpkg-deb -x "$deb" "$WORK_DIR/root"
binary="$(find "$WORK_DIR/root" -type f -name docker-compose -path '*cli-plugins*' | head -n 1)"
[ -n "$binary" ] || binary="$(find "$WORK_DIR/root" -type f -name docker-compose | head -n 1)"
[ -n "$binary" ] || fail "no docker-compose binary in $filename"

install -d -m 0755 "$PLUGIN_DIR"
install -m 0755 "$binary" "$PLUGIN"
docker compose version >/dev/null 2>&1 || fail "installed $PLUGIN but \`docker compose version\` still fails"
log "installed $(docker compose version) at $PLUGIN"
