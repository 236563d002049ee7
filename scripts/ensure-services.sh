#!/usr/bin/env bash
# Makes sure the services the tests use are up: RabbitMQ on 127.0.0.1:5672, Redis on 127.0.0.1:6379
# and PostgreSQL on 127.0.0.1:5432 (the outbox), installing and starting them when needed. Idempotent:
# a no-op when all three answer.
#
#   scripts/ensure-services.sh [extra-debian-package ...]
#
# Extra packages (e.g. python3-celery, prometheus, chromium) are installed only when missing.
# Sourcing the script defines `ensure_packages` without starting anything (or changing shell options).

# Debian puts the RabbitMQ scripts in /usr/sbin, which a non-login CI shell may not have on PATH.
PATH="${PATH}:/usr/sbin:/sbin"
RABBITMQ_START_TIMEOUT="${RABBITMQ_START_TIMEOUT:-90}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-20}"
SERVICES_LOG_DIR="${SERVICES_LOG_DIR:-${TMPDIR:-/tmp}/ferry-services}"
# Where to expect the services. Only a test of this script changes them (RabbitMQ's listener comes
# from its own config; the RabbitMQ CLI follows RABBITMQ_NODENAME when it is set).
AMQP_PORT="${ENSURE_AMQP_PORT:-5672}"
REDIS_PORT="${ENSURE_REDIS_PORT:-6379}"
PG_PORT="${ENSURE_PG_PORT:-5432}"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"

log() { printf '[ensure-services] %s\n' "$*" >&2; }
die() {
  printf '[ensure-services] ERROR: %s\n' "$*" >&2
  exit 1
}

apt_updated=0
# ensure_packages pkg... — installs, with apt-get, those of the given Debian packages that are not
# installed yet ("install ok installed" in dpkg's status; removed-but-configured does not count).
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]} == 0)) && return 0
  [[ "$(id -u)" == 0 ]] || die "missing packages ${missing[*]}: run as root or install them first"
  log "installing ${missing[*]}"
  if ((apt_updated == 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq || die "apt-get update failed"
    apt_updated=1
  fi
  # The lock timeout lets two CI steps (or two helpers) install at once instead of failing on the lock.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" </dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# A port check that needs no extra tools; the subshell keeps a hung connect bounded by `timeout`.
port_open() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

rabbitmq_running() {
  timeout 20 rabbitmq-diagnostics -q ping >/dev/null 2>&1 && port_open 127.0.0.1 "$AMQP_PORT"
}

ensure_rabbitmq() {
  command -v rabbitmq-server >/dev/null || ensure_packages rabbitmq-server
  if rabbitmq_running; then
    log "RabbitMQ is up on 127.0.0.1:${AMQP_PORT}"
    return 0
  fi
  if timeout 20 rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    log "RabbitMQ node is up without its AMQP listener (app stopped or booting)"
  else
    log "starting RabbitMQ"
    rabbitmq-server -detached || die "rabbitmq-server -detached failed"
  fi
  # -detached returns at once and the CLI fails while the node is not registered yet, so poll ping
  # first; `timeout` bounds every call so a hung broker fails loudly instead of hanging CI.
  local deadline=$((SECONDS + RABBITMQ_START_TIMEOUT))
  until timeout 20 rabbitmq-diagnostics -q ping >/dev/null 2>&1; do
    ((SECONDS < deadline)) || rabbitmq_failed "did not answer ping within ${RABBITMQ_START_TIMEOUT}s"
    sleep 1
  done
  local remaining=$((deadline - SECONDS))
  ((remaining > 10)) || remaining=10
  # start_app boots an app stopped with stop_app, waits for one that is booting and is a no-op on a
  # running one; await_startup then confirms (alone it would wait out its timeout on a stopped app).
  timeout "$remaining" rabbitmqctl -q start_app >/dev/null 2>&1 ||
    rabbitmq_failed "start_app failed or took longer than ${remaining}s"
  timeout $((remaining + 10)) rabbitmqctl -q await_startup --timeout "$remaining" >/dev/null 2>&1 ||
    rabbitmq_failed "did not finish booting within ${RABBITMQ_START_TIMEOUT}s"
  port_open 127.0.0.1 "$AMQP_PORT" || rabbitmq_failed "is running but nothing listens on 127.0.0.1:${AMQP_PORT}"
  log "RabbitMQ started on 127.0.0.1:${AMQP_PORT}"
}

rabbitmq_failed() {
  local node_log="" candidate
  for candidate in "${RABBITMQ_LOG_BASE:-/var/log/rabbitmq}"/*.log; do
    if [[ -f "$candidate" && "$candidate" != *_upgrade.log && ( -z "$node_log" || "$candidate" -nt "$node_log" ) ]]; then
      node_log="$candidate"
    fi
  done
  if [[ -n "$node_log" ]]; then
    printf '%s\n' "--- last lines of $node_log ---" >&2
    tail -n 30 "$node_log" >&2 || true
  fi
  die "RabbitMQ $1"
}

redis_running() { [[ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]; }

ensure_redis() {
  command -v redis-server >/dev/null || ensure_packages redis-server
  if redis_running; then
    log "Redis is up on 127.0.0.1:${REDIS_PORT}"
    return 0
  fi
  port_open 127.0.0.1 "$REDIS_PORT" && die "something on 127.0.0.1:${REDIS_PORT} does not answer a Redis PING"
  log "starting Redis"
  mkdir -p "$SERVICES_LOG_DIR"
  # No persistence: test data is throwaway, and a RDB save must not fail writes on a full disk.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$SERVICES_LOG_DIR" --logfile "$SERVICES_LOG_DIR/redis-${REDIS_PORT}.log" || die "redis-server failed to start"
  local deadline=$((SECONDS + REDIS_START_TIMEOUT))
  until redis_running; do
    if ((SECONDS >= deadline)); then
      tail -n 30 "$SERVICES_LOG_DIR/redis-${REDIS_PORT}.log" >&2 || true
      die "Redis did not answer PING on 127.0.0.1:${REDIS_PORT} within ${REDIS_START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  log "Redis started on 127.0.0.1:${REDIS_PORT}"
}

postgres_running() { timeout 5 pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

ensure_postgres() {
  command -v pg_ctlcluster >/dev/null || ensure_packages postgresql
  if postgres_running; then
    log "PostgreSQL is up on 127.0.0.1:${PG_PORT}"
    return 0
  fi
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$version" ]] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
  log "starting PostgreSQL ${version}"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || die "pg_ctlcluster ${version} main start failed"
  local deadline=$((SECONDS + PG_START_TIMEOUT))
  until postgres_running; do
    ((SECONDS < deadline)) || die "PostgreSQL did not accept connections on 127.0.0.1:${PG_PORT} within ${PG_START_TIMEOUT}s"
    sleep 0.5
  done
  log "PostgreSQL started on 127.0.0.1:${PG_PORT}"
}

main() {
  command -v timeout >/dev/null || die "coreutils 'timeout' is required"
  (($# == 0)) || ensure_packages "$@"
  ensure_rabbitmq
  ensure_redis
  ensure_postgres
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  main "$@"
fi
