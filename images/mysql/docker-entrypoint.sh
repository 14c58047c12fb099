#!/usr/bin/env bash
# Entrypoint of the MySQL stand-in: MariaDB 10.11 (Debian) behind the official mysql image's contract
# (docker-library/mysql docker-entrypoint.sh): MYSQL_ROOT_PASSWORD | MYSQL_ALLOW_EMPTY_PASSWORD |
# MYSQL_RANDOM_ROOT_PASSWORD, MYSQL_ROOT_HOST, MYSQL_DATABASE, MYSQL_USER / MYSQL_PASSWORD (and their *_FILE
# forms), /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz run against a temporary socket-only server, then
# `exec mysqld "$@"` as the mysql user.
# The mounted /etc/mysql/conf.d/*.cnf are written for MySQL 8.4: options MariaDB does not know are dropped
# from copies in /etc/mysql/standin.conf.d (the only directory /etc/mysql/my.cnf includes), each one logged.
set -Eeuo pipefail

NOTE="MariaDB stands in for MySQL 8.4"
CONF_DIR=/etc/mysql/conf.d
COPY_DIR=/etc/mysql/standin.conf.d
INIT_DIR=/docker-entrypoint-initdb.d

log() { echo "$(date -u '+%Y-%m-%dT%H:%M:%SZ') [Entrypoint] ($NOTE) $*" >&2; }
fail() {
  log "ERROR: $*"
  exit 1
}

file_env() {
  local var="$1" fileVar="${1}_FILE" def="${2:-}"
  if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
    fail "both $var and $fileVar are set (but are exclusive)"
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

# Option names each program accepts, dashes for underscores, as keys "<set>:<name>" of OPTS.
declare -A OPTS=()
load_options() {
  local set="$1" name
  while IFS= read -r name; do
    OPTS["$set:$name"]=1
  done < <("$2" --no-defaults --verbose --help 2>/dev/null |
    sed -nE 's/^  (-[^ ,]+, )?--([A-Za-z0-9_-]+).*/\2/p' | tr '_' '-')
}

load_all_options() {
  load_options server mariadbd
  load_options mysql mariadb
  load_options admin mariadb-admin
  load_options dump mariadb-dump
  # [client] is read by every client: keep what all of them know.
  local key name
  for key in "${!OPTS[@]}"; do
    [[ "$key" == mysql:* ]] || continue
    name="${key#mysql:}"
    if [ -n "${OPTS[admin:$name]:-}" ] && [ -n "${OPTS[dump:$name]:-}" ]; then OPTS["client:$name"]=1; fi
  done
}

# The option set for an option-file group, or nothing for groups that are copied unchanged.
group_options() {
  case "$1" in
  mysqld | server | mariadb | mariadbd | mysqld-8.4 | client-server) echo server ;;
  client | client-mariadb) echo client ;;
  mysql) echo mysql ;;
  mysqladmin) echo admin ;;
  mysqldump) echo dump ;;
  esac
}

# Copies one option file, leaving out the options the programs reading its group do not know.
filter_cnf() {
  local source="$1" target="$2" line section="" known="" name base
  : >"$target"
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^[[:space:]]*\[([^]]+)\] ]]; then
      section="${BASH_REMATCH[1],,}"
      known="$(group_options "$section")"
      printf '%s\n' "$line" >>"$target"
      continue
    fi
    name=""
    if [[ "$line" =~ ^[[:space:]]*([A-Za-z][A-Za-z0-9_-]*)[[:space:]]*(=|$) ]]; then
      name="${BASH_REMATCH[1],,}"
      name="${name//_/-}"
    fi
    if [ -n "$known" ] && [ -n "$name" ] && [[ "$name" != loose-* ]]; then
      base="$name"
      if [ -z "${OPTS[$known:$base]:-}" ]; then
        base="$(sed -E 's/^(skip|disable|enable|maximum)-//' <<<"$name")"
      fi
      if [ -z "${OPTS[$known:$base]:-}" ]; then
        log "dropped '${line}' from [${section}] of ${source}: unknown to MariaDB ${MARIADB_VERSION}"
        echo "# dropped by the MariaDB stand-in ($NOTE): ${line}" >>"$target"
        continue
      fi
    fi
    printf '%s\n' "$line" >>"$target"
  done <"$source"
}

prepare_config() {
  local f copy
  if [ ! -w "$COPY_DIR" ]; then
    log "WARNING: $COPY_DIR is not writable for uid $(id -u); $CONF_DIR is not read at all"
    return 0
  fi
  rm -f "$COPY_DIR"/*.cnf
  shopt -s nullglob
  local files=("$CONF_DIR"/*.cnf)
  shopt -u nullglob
  [ "${#files[@]}" -gt 0 ] || return 0
  MARIADB_VERSION="$(mariadbd --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)"
  load_all_options
  for f in "${files[@]}"; do
    copy="$COPY_DIR/$(basename "$f")"
    filter_cnf "$f" "$copy"
    chmod 0644 "$copy"
    log "reading $f through $copy"
  done
}

want_help() {
  local arg
  for arg; do
    case "$arg" in
    -'?' | --help | --print-defaults | -V | --version) return 0 ;;
    esac
  done
  return 1
}

# A setting of the server as it will run: its option files plus the arguments after `mysqld`. awk reads to
# the end: an early exit would kill mysqld with SIGPIPE and fail the pipeline.
server_setting() {
  local name="$1"
  shift 2
  mysqld "$@" --verbose --help 2>/dev/null | awk -v n="$name" '$1 == n && !found { print $2; found = 1 }'
}

setup_env() {
  DATADIR="$(server_setting datadir "$@")"
  SOCKET="$(server_setting socket "$@")"
  : "${DATADIR:=/var/lib/mysql/}"
  : "${SOCKET:=/var/run/mysqld/mysqld.sock}"
  file_env MYSQL_ROOT_HOST '%'
  file_env MYSQL_DATABASE
  file_env MYSQL_USER
  file_env MYSQL_PASSWORD
  file_env MYSQL_ROOT_PASSWORD
  DATABASE_ALREADY_EXISTS=
  if [ -d "$DATADIR/mysql" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

create_db_directories() {
  mkdir -p "$DATADIR" /var/run/mysqld /var/lib/mysql-files
  if [ "$(id -u)" = 0 ]; then
    find "$DATADIR" /var/run/mysqld /var/lib/mysql-files \! -user mysql -exec chown mysql: '{}' +
  fi
}

verify_minimum_env() {
  if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] && [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
    fail "Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD"
  fi
  if [ "$MYSQL_USER" = root ]; then
    fail "MYSQL_USER=\"root\", MYSQL_USER and MYSQL_PASSWORD are for configuring a regular user and cannot be used for the root user
    Remove MYSQL_USER=\"root\" and use one of the following to control the root user password:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD"
  fi
  if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
    log "WARNING: MYSQL_USER specified, but missing MYSQL_PASSWORD; MYSQL_USER will not be created"
  elif [ -z "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
    log "WARNING: MYSQL_PASSWORD specified, but missing MYSQL_USER; MYSQL_PASSWORD will be ignored"
  fi
}

# The root password reaches clients through an option file on a pipe, never an argv or the environment.
passfile() {
  if [ "${1:-}" = root ] && [ -n "$MYSQL_ROOT_PASSWORD" ]; then
    printf '[client]\npassword="%s"\n' "$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' <<<"$MYSQL_ROOT_PASSWORD")"
  else
    printf '[client]\n'
  fi
}

# usage: process_sql [--use-root-password] [mysql options]
process_sql() {
  local who=""
  if [ "${1:-}" = --use-root-password ]; then
    who=root
    shift
  fi
  mariadb --defaults-extra-file=<(passfile "$who") --protocol=socket -uroot -hlocalhost --socket="$SOCKET" \
    --comments "$@"
}

sql_escape() {
  local s="${1//\\/\\\\}"
  echo "${s//\'/\\\'}"
}

init_database_dir() {
  log "Initializing database files in $DATADIR"
  mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal --skip-test-db \
    --cross-bootstrap --skip-name-resolve --default-time-zone=SYSTEM >/dev/null
  log "Database files initialized"
}

temp_server_start() {
  log "Starting temporary server"
  "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" &
  TEMP_PID=$!
  local i
  for ((i = 30; i > 0; i--)); do
    if process_sql --database=mysql <<<'SELECT 1' >/dev/null 2>&1; then
      log "Temporary server started."
      return 0
    fi
    kill -0 "$TEMP_PID" 2>/dev/null || fail "the temporary server exited during start-up"
    sleep 1
  done
  fail "Unable to start server."
}

temp_server_stop() {
  log "Stopping temporary server"
  mariadb-admin --defaults-extra-file=<(passfile root) shutdown -uroot --socket="$SOCKET"
  wait "$TEMP_PID" || true
  log "Temporary server stopped"
}

setup_db() {
  if [ -z "${MYSQL_INITDB_SKIP_TZINFO:-}" ]; then
    mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null | process_sql --database=mysql
  fi
  if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
    MYSQL_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32)"
    export MYSQL_ROOT_PASSWORD
    log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
  fi
  local root_pw root_create=""
  root_pw="$(sql_escape "$MYSQL_ROOT_PASSWORD")"
  if [ -n "$MYSQL_ROOT_HOST" ] && [ "$MYSQL_ROOT_HOST" != localhost ]; then
    root_create="CREATE USER 'root'@'${MYSQL_ROOT_HOST}' IDENTIFIED BY '${root_pw}';
GRANT ALL ON *.* TO 'root'@'${MYSQL_ROOT_HOST}' WITH GRANT OPTION;"
  fi
  # The official mysql image has root@localhost and root@MYSQL_ROOT_HOST only: MariaDB's other default
  # accounts (root@127.0.0.1, root@::1, root@<hostname>, mysql@localhost) go.
  process_sql --database=mysql <<EOSQL
SET @@SESSION.SQL_LOG_BIN=0;
DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'mysql'@'localhost';
EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
ALTER USER 'root'@'localhost' IDENTIFIED BY '${root_pw}';
${root_create}
FLUSH PRIVILEGES;
DROP DATABASE IF EXISTS test;
EOSQL
  if [ -n "$MYSQL_DATABASE" ]; then
    log "Creating database ${MYSQL_DATABASE}"
    process_sql --use-root-password --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE//\`/\`\`}\` ;"
  fi
  if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
    log "Creating user ${MYSQL_USER}"
    local user_pw
    user_pw="$(sql_escape "$MYSQL_PASSWORD")"
    process_sql --use-root-password --database=mysql <<<"CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${user_pw}';"
    if [ -n "$MYSQL_DATABASE" ]; then
      log "Giving user ${MYSQL_USER} access to schema ${MYSQL_DATABASE}"
      process_sql --use-root-password --database=mysql <<<"GRANT ALL ON \`${MYSQL_DATABASE//_/\\_}\`.* TO '${MYSQL_USER}'@'%' ;"
    fi
  fi
}

process_init_files() {
  local f
  echo
  for f in "$@"; do
    case "$f" in
    *.sh)
      if [ -x "$f" ]; then
        log "$0: running $f"
        "$f"
      else
        log "$0: sourcing $f"
        # shellcheck disable=SC1090
        . "$f"
      fi
      ;;
    *.sql)
      log "$0: running $f"
      process_sql --use-root-password ${MYSQL_DATABASE:+--database="$MYSQL_DATABASE"} <"$f"
      ;;
    *.sql.gz)
      log "$0: running $f"
      gunzip -c "$f" | process_sql --use-root-password ${MYSQL_DATABASE:+--database="$MYSQL_DATABASE"}
      ;;
    *.sql.xz)
      log "$0: running $f"
      xzcat "$f" | process_sql --use-root-password ${MYSQL_DATABASE:+--database="$MYSQL_DATABASE"}
      ;;
    *) log "$0: ignoring $f" ;;
    esac
    echo
  done
}

main() {
  if [ "${1:0:1}" = '-' ]; then set -- mysqld "$@"; fi
  if { [ "$1" != mysqld ] && [ "$1" != mariadbd ]; } || want_help "$@"; then
    exec "$@"
  fi
  log "Entrypoint script for MySQL Server started."
  if [ "$(id -u)" = 0 ]; then
    prepare_config
    setup_env "$@"
    create_db_directories
    log "Switching to dedicated user 'mysql'"
    exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
  fi
  setup_env "$@"
  if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
    verify_minimum_env
    ls "$INIT_DIR"/ >/dev/null
    init_database_dir
    temp_server_start "$@"
    setup_db
    shopt -s nullglob
    process_init_files "$INIT_DIR"/*
    shopt -u nullglob
    temp_server_stop
    log "MySQL init process done. Ready for start up."
  fi
  exec "$@"
}

main "$@"
