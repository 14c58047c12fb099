#!/usr/bin/env bash
# Makes a Docker engine usable on a Debian 12 test machine (CI runners, fresh VMs, containers without
# systemd): installs Debian's docker.io and debootstrap when dockerd is missing, the Compose v2 CLI plugin
# (scripts/install-compose-plugin.sh), and starts dockerd in the background when `docker info` fails.
# Idempotent and safe to run concurrently (one run at a time under a lock); prints what it does.
# Needs root only when something has to change.
set -euo pipefail

LOCK_FILE=/run/academy-ensure-docker.lock
DOCKERD_LOG=/var/log/academy-dockerd.log
DOCKERD_PIDFILE=/var/run/docker.pid
WAIT_SECONDS=30
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "ensure-docker: $*"; }
fail() {
  echo "ensure-docker: $*" >&2
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }
docker_ready() { have docker && docker info >/dev/null 2>&1; }
compose_ready() { have docker && docker compose version >/dev/null 2>&1; }

# Fast path: one `docker version` call answers "client and engine work", one more the Compose plugin.
if have dockerd && have debootstrap && engine="$(docker version --format '{{.Server.Version}}' 2>/dev/null)" &&
  compose="$(docker compose version --short 2>/dev/null)"; then
  log "docker engine $engine and Compose $compose are ready; nothing to do."
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  missing=()
  have dockerd || missing+=("dockerd")
  have debootstrap || missing+=("debootstrap")
  compose_ready || missing+=("the Compose v2 plugin")
  docker_ready || missing+=("a running docker engine")
  fail "needs root to set up ${missing[*]}: run sudo $0"
fi

# One run at a time: a second caller waits here, then finds everything in place.
exec 9>"$LOCK_FILE"
if ! flock -n 9; then
  log "another ensure-docker run holds $LOCK_FILE; waiting for it"
  flock -w 600 9 || fail "gave up waiting for $LOCK_FILE after 600 s"
fi

apt_updated=false
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = false ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=true
  fi
  # No service may start while packages install: there is no init system here, and dockerd is started below.
  local policy=/usr/sbin/policy-rc.d own_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=true
  fi
  log "apt-get install $*"
  local status=0
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  if [ "$own_policy" = true ]; then rm -f "$policy"; fi
  [ "$status" -eq 0 ] || fail "apt-get install $* failed (exit $status)"
}

packages=()
have dockerd || packages+=(docker.io)
have debootstrap || packages+=(debootstrap)
# install-compose-plugin.sh downloads and unpacks a .deb with these.
have curl || packages+=(curl ca-certificates)
have xz || packages+=(xz-utils)
have flock || packages+=(util-linux)
if [ "${#packages[@]}" -gt 0 ]; then
  apt_install "${packages[@]}"
else
  log "dockerd, debootstrap, curl and xz are installed"
fi

if compose_ready; then
  log "$(docker compose version) is installed"
elif [ -x "$SCRIPT_DIR/install-compose-plugin.sh" ]; then
  log "installing the Compose v2 plugin with $SCRIPT_DIR/install-compose-plugin.sh"
  "$SCRIPT_DIR/install-compose-plugin.sh"
else
  fail "\`docker compose\` is missing and $SCRIPT_DIR/install-compose-plugin.sh does not exist"
fi

if docker_ready; then
  log "docker engine $(docker version --format '{{.Server.Version}}') is running"
  exit 0
fi

# A dockerd that is still starting (its pidfile names a live process) gets the same wait; otherwise start one.
running_pid=""
if [ -s "$DOCKERD_PIDFILE" ]; then
  pid="$(cat "$DOCKERD_PIDFILE")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
    running_pid="$pid"
  fi
fi
if [ -n "$running_pid" ]; then
  log "dockerd (pid $running_pid) is running but not answering yet; waiting"
else
  log "starting dockerd in the background (log: $DOCKERD_LOG, pidfile: $DOCKERD_PIDFILE)"
  # setsid + closed stdio: dockerd outlives this script and holds no pipe of the caller open; 9>&-: nor the lock.
  setsid dockerd --pidfile "$DOCKERD_PIDFILE" </dev/null >>"$DOCKERD_LOG" 2>&1 9>&- &
  running_pid=$!
fi

for ((i = 0; i < WAIT_SECONDS; i++)); do
  if docker_ready; then
    log "docker engine $(docker version --format '{{.Server.Version}}') is running (after ${i} s)"
    exit 0
  fi
  if ! kill -0 "$running_pid" 2>/dev/null; then
    break
  fi
  sleep 1
done

echo "ensure-docker: docker info still fails after ${i} s; last lines of $DOCKERD_LOG:" >&2
tail -n 30 "$DOCKERD_LOG" >&2 || true
fail "dockerd did not come up: read $DOCKERD_LOG"
