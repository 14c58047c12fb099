#!/usr/bin/env bash
# Installs the Debian tools that `academy check` and the test suite run (real nginx, promtool, amtool,
# the ShellCheck linter, PostgreSQL, Redis, logrotate, fail2ban, visudo, sshd) and the Compose v2 plugin.
# Idempotent: does nothing when every tool is already there.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# program -> Debian package that provides it
declare -A PACKAGES=(
  [nginx]=nginx
  [promtool]=prometheus
  [amtool]=prometheus-alertmanager
  [shellcheck]=shellcheck
  [psql]=postgresql
  [redis-server]=redis-server
  [logrotate]=logrotate
  [fail2ban-client]=fail2ban
  [visudo]=sudo
  [sshd]=openssh-server
  [openssl]=openssl
  [curl]=curl
)

missing=()
for program in "${!PACKAGES[@]}"; do
  if ! command -v "$program" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$program" ]; then
    missing+=("${PACKAGES[$program]}")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-tools: missing Debian packages: ${missing[*]}" >&2
    echo "install-test-tools: run as root (sudo $0) or install them with apt-get." >&2
    exit 1
  fi
  echo "install-test-tools: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Services of these packages are not wanted running: the checks start their own throwaway instances.
  policy=/usr/sbin/policy-rc.d
  created_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=true
  fi
  trap '[ "$created_policy" = true ] && rm -f "$policy"' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# sshd -t wants its privilege separation directory, which only the ssh service creates (and /run is
# emptied at boot): where no service manager runs, make it here.
if [ ! -d /run/sshd ] && [ "$(id -u)" -eq 0 ]; then
  mkdir -m 0755 /run/sshd
fi

"$SCRIPT_DIR/install-compose-plugin.sh"
echo "install-test-tools: every tool is installed."
