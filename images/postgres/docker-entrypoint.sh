#!/usr/bin/env bash
# Entrypoint of the PostgreSQL stand-in: Debian's PostgreSQL 15 behind the official image's contract
# (docker-library/postgres docker-entrypoint.sh): POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, PGDATA,
# initdb with SCRAM when PGDATA is empty, /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz run against a
# temporary server on the Unix socket only, then `exec postgres "$@"` as the postgres user.
# Production runs PostgreSQL 17: settings PostgreSQL 15 does not know are dropped from a copy of the
# config_file given with `-c config_file=...`, and each dropped line is logged.
set -Eeuo pipefail

log() { echo "docker-entrypoint (PostgreSQL ${PG_MAJOR:-15} stand-in): $*" >&2; }

# usage: file_env VAR [DEFAULT]: VAR or the content of the file named by VAR_FILE (official `*_FILE` support).
file_env() {
  local var="$1" fileVar="${1}_FILE" def="${2:-}"
  if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
    log "both $var and $fileVar are set (but are exclusive)"
    exit 1
  fi
  local val="$def"
  if [ "${!var:-}" ]; then
    val="${!var}"
  elif [ "${!fileVar:-}" ]; then
    val="$(<"${!fileVar}")"
  fi
  export "$var"="$val"
  unset "$fileVar"
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
  DATABASE_ALREADY_EXISTS=
  if [ -s "$PGDATA/PG_VERSION" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

create_db_directories() {
  local user
  user="$(id -u)"
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  mkdir -p /var/run/postgresql || :
  chmod 03775 /var/run/postgresql || :
  if [ "$user" = 0 ]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  fi
}

verify_minimum_env() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    log "Database is uninitialized and superuser password is not specified."
    log "You must specify POSTGRES_PASSWORD to a non-empty value for the superuser."
    exit 1
  fi
}

init_database_dir() {
  log "initdb: superuser ${POSTGRES_USER}, data in ${PGDATA}"
  # The password goes through a pipe, never an argv. PostgreSQL 15 stores it as SCRAM (password_encryption).
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
}

setup_hba_conf() {
  # As the official image: initdb's defaults (local trust) plus password logins from anywhere. A config_file
  # that points hba_file elsewhere (ours does: SCRAM everywhere) replaces this file altogether.
  {
    echo
    echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
  } >>"$PGDATA/pg_hba.conf"
}

# Prints a copy of config file $1 without the settings this server does not know, logging each dropped line.
filter_config() {
  local source="$1" target="$2" known line name dropped=0
  known="$(postgres --describe-config | cut -f1 | tr '[:upper:]' '[:lower:]')"
  : >"$target"
  while IFS= read -r line || [ -n "$line" ]; do
    name="$(sed -nE 's/^[[:space:]]*([A-Za-z_][A-Za-z0-9_.]*)[[:space:]]*(=|[[:space:]]).*/\1/p' <<<"$line" | tr '[:upper:]' '[:lower:]')"
    if [ -n "$name" ] && [[ "$name" != *.* ]] && [[ "$name" != include* ]] && ! grep -qxF "$name" <<<"$known"; then
      log "PostgreSQL ${PG_MAJOR:-15} stands in for PostgreSQL 17: dropped '${line}' (unknown to PostgreSQL ${PG_MAJOR:-15})"
      echo "# dropped by the PostgreSQL ${PG_MAJOR:-15} stand-in: ${line}" >>"$target"
      dropped=$((dropped + 1))
      continue
    fi
    printf '%s\n' "$line" >>"$target"
  done <"$source"
  return 0
}

# Rewrites "$@" (global array ARGS) so that a config_file PostgreSQL 15 cannot read is replaced by a filtered copy.
ARGS=()
prepare_config() {
  ARGS=("$@")
  local i config="" index=-1 form=""
  for ((i = 0; i < ${#ARGS[@]}; i++)); do
    case "${ARGS[i]}" in
    -c)
      if [[ "${ARGS[i + 1]:-}" == config_file=* ]]; then
        index=$((i + 1))
        config="${ARGS[i + 1]#config_file=}"
        form=c
      fi
      ;;
    -cconfig_file=*)
      index=$i
      config="${ARGS[i]#-cconfig_file=}"
      form=cjoined
      ;;
    --config-file=* | --config_file=*)
      index=$i
      config="${ARGS[i]#*=}"
      form=long
      ;;
    esac
  done
  [ -n "$config" ] || return 0
  [ -r "$config" ] || {
    log "config_file $config is not readable"
    exit 1
  }
  local copy=/var/run/postgresql/standin-postgresql.conf
  filter_config "$config" "$copy"
  if ! cmp -s <(grep -v '^# dropped by the PostgreSQL' "$copy") "$config"; then
    case "$form" in
    c) ARGS[index]="config_file=$copy" ;;
    cjoined) ARGS[index]="-cconfig_file=$copy" ;;
    long) ARGS[index]="--config-file=$copy" ;;
    esac
    log "using the filtered copy $copy of $config"
  fi
}

psql_cmd() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"; }

process_init_files() {
  local f
  echo
  for f in "$@"; do
    case "$f" in
    *.sh)
      if [ -x "$f" ]; then
        log "running $f"
        "$f"
      else
        log "sourcing $f"
        # shellcheck disable=SC1090
        . "$f"
      fi
      ;;
    *.sql)
      log "running $f"
      psql_cmd --dbname "$POSTGRES_DB" -f "$f"
      echo
      ;;
    *.sql.gz)
      log "running $f"
      gunzip -c "$f" | psql_cmd --dbname "$POSTGRES_DB"
      echo
      ;;
    *) log "ignoring $f" ;;
    esac
    echo
  done
}

temp_server_start() {
  if [ "$1" = postgres ]; then shift; fi
  # Socket only (listen_addresses=''): nothing outside the container sees a half-initialised server.
  PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" \
    -o "$(printf '%q ' "$@")" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
}

temp_server_stop() {
  PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -m fast -w stop
}

setup_db() {
  local exists
  exists="$(psql_cmd --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")"
  if [ -z "${exists// /}" ]; then
    psql_cmd --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
    log "created database $POSTGRES_DB"
  fi
}

main() {
  if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
  if [ "$1" != postgres ]; then exec "$@"; fi

  setup_env
  create_db_directories
  if [ "$(id -u)" = 0 ]; then
    # Step down from root like gosu does in the official image.
    export HOME=/var/lib/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
  fi

  prepare_config "$@"
  set -- "${ARGS[@]}"

  if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
    verify_minimum_env
    ls /docker-entrypoint-initdb.d/ >/dev/null
    init_database_dir
    setup_hba_conf
    export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
    temp_server_start "$@"
    setup_db
    shopt -s nullglob
    process_init_files /docker-entrypoint-initdb.d/*
    shopt -u nullglob
    temp_server_stop
    unset PGPASSWORD
    log "PostgreSQL init process complete; ready for start up."
  else
    log "PostgreSQL database directory appears to contain a database; skipping initialization"
  fi
  exec "$@"
}

main "$@"
