#!/bin/sh
# A two-shard ClickHouse cluster on loopback, for the cluster tests and for trying Vigil at scale.
#
#   scripts/clickhouse-cluster.sh start DIR   installs Debian's clickhouse-server if missing, writes
#                                             configs under DIR, starts both servers, waits for them
#   scripts/clickhouse-cluster.sh stop DIR    stops the servers started from DIR
#
# Shard 1: native 19000, HTTP 18123.  Shard 2: native 19001, HTTP 18124.  Both define the cluster
# `vigil` (one replica per shard) in remote_servers, so a Distributed table on either server spreads
# rows over both. Servers run as plain background processes (no systemd), data under DIR/sN.
# Ports can be moved with CH_BASE_TCP (19000) and CH_BASE_HTTP (18123).
set -eu

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
base_tcp=${CH_BASE_TCP:-19000}
base_http=${CH_BASE_HTTP:-18123}

# Debian's package ships the server as /usr/sbin/clickhouse-server (upstream's single binary is
# /usr/bin/clickhouse; either will do).
server_bin() {
  if [ -x /usr/sbin/clickhouse-server ]; then echo "/usr/sbin/clickhouse-server"
  elif [ -x /usr/bin/clickhouse ]; then echo "/usr/bin/clickhouse server"
  else return 1; fi
}

install_server() {
  if server_bin >/dev/null; then return 0; fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing clickhouse-server from Debian…" >&2
  $SUDO apt-get update >&2
  # The package's postinst may try to start a system service; nothing here depends on it.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y clickhouse-server >&2
  # Stop the packaged service if the postinst started one: it would hold the default ports.
  if command -v service >/dev/null 2>&1; then $SUDO service clickhouse-server stop >/dev/null 2>&1 || true; fi
  server_bin >/dev/null
}

write_config() { # $1 = shard number (1|2)
  n=$1
  tcp=$((base_tcp + n - 1))
  http=$((base_http + n - 1))
  sdir="$dir/s$n"
  mkdir -p "$sdir/data" "$sdir/tmp" "$sdir/user_files" "$sdir/format_schemas" "$sdir/log"
  cat >"$sdir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$sdir/log/server.log</log>
    <errorlog>$sdir/log/server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_port>$((base_tcp + 50 + n - 1))</interserver_http_port>
  <max_connections>256</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>50</max_concurrent_queries>
  <uncompressed_cache_size>134217728</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$sdir/data/</path>
  <tmp_path>$sdir/tmp/</tmp_path>
  <user_files_path>$sdir/user_files/</user_files_path>
  <format_schema_path>$sdir/format_schemas/</format_schema_path>
  <users_config>$sdir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers>
    <vigil>
      <shard><replica><host>127.0.0.1</host><port>$base_tcp</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$((base_tcp + 1))</port></replica></shard>
    </vigil>
  </remote_servers>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
</yandex>
EOF
  # Loopback only, user `default` without a password. Queries are capped at 5 minutes server-side
  # as a backstop: a query keeps running after its client gives up.
  cat >"$sdir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <max_execution_time>300</max_execution_time>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
EOF
}

start_server() { # $1 = shard number
  sdir="$dir/s$1"
  if [ -f "$sdir/pid" ] && kill -0 "$(cat "$sdir/pid")" 2>/dev/null; then
    echo "shard $1 already running (pid $(cat "$sdir/pid"))" >&2
    return 0
  fi
  (cd "$sdir" && nohup $(server_bin) --config-file="$sdir/config.xml" \
    >"$sdir/log/stdout.log" 2>&1 &
    echo $! >"$sdir/pid")
}

wait_ready() { # $1 = shard number
  http=$((base_http + $1 - 1))
  i=0
  while [ $i -lt 120 ]; do
    if [ "$(curl -s --max-time 2 "http://127.0.0.1:$http/ping" 2>/dev/null)" = "Ok." ]; then return 0; fi
    if ! kill -0 "$(cat "$dir/s$1/pid")" 2>/dev/null; then
      echo "shard $1 exited; see $dir/s$1/log/" >&2
      tail -20 "$dir/s$1/log/server.err.log" "$dir/s$1/log/stdout.log" >&2 2>/dev/null || true
      return 1
    fi
    i=$((i + 1))
    sleep 0.5
  done
  echo "shard $1 did not answer on port $http within 60 s" >&2
  return 1
}

case "$cmd" in
start)
  install_server
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  for n in 1 2; do write_config $n; done
  # A server left on these ports by an earlier run would answer for a data directory that is gone.
  for n in 1 2; do
    if curl -s --max-time 1 "http://127.0.0.1:$((base_http + n - 1))/ping" >/dev/null 2>&1; then
      echo "port $((base_http + n - 1)) is already serving ClickHouse (a server left from an earlier run?); stop it first" >&2
      exit 1
    fi
  done
  for n in 1 2; do start_server $n; done
  # Never leave half a cluster running: a shard that fails takes the other one down with it.
  for n in 1 2; do wait_ready $n || { "$0" stop "$dir"; exit 1; }; done
  echo "clickhouse cluster 'vigil' up: http://127.0.0.1:$base_http (shard 1), http://127.0.0.1:$((base_http + 1)) (shard 2)"
  ;;
stop)
  [ -d "$dir" ] || exit 0
  for n in 1 2; do
    pidf="$dir/s$n/pid"
    [ -f "$pidf" ] || continue
    pid=$(cat "$pidf")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$pidf"
  done
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
