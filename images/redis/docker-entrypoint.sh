#!/bin/sh
# Entrypoint of the Redis stand-in: Debian's redis-server 7.0 behind the official image's contract
# (docker-library/redis docker-entrypoint.sh): `redis-server` (or bare options / a .conf file) runs as the
# redis user after the data directory is handed to it; anything else is exec'd as given. stdin is passed on,
# so `redis-server <conf> -` still reads extra settings (the password) from it.
set -eu

# First argument `-f` or `--some-option` or a .conf file: the arguments are for redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  export HOME=/var/lib/redis
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# Files redis writes (RDB, AOF) readable by its user only, as in the official image.
um="$(umask)"
if [ "$um" = 0022 ]; then
  umask 0077
fi

exec "$@"
