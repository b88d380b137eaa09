# The real servers of the conformance suite as benchmark workloads, on loopback: PostgreSQL
# (a postmaster, its auxiliary processes and a backend per psql client), nginx (a master and
# two workers, on 127.0.0.1 and ::1), redis (its I/O and background threads) and a Node.js
# cluster (a primary and two workers, one with a worker_thread), each with idle clients.
# Sourced by benches/scale.sh, which runs as PID 1 of its own PID and IPC namespace:
#
#   start_servers DIR   starts each server that is installed and can run here, each on its
#                       own (one that fails to start is reported, stopped and left out);
#                       sets PG_PID NGINX_PID NGINX_PORT REDIS_PID CLUSTER_PID
#                       CLUSTER_WORKER, empty for a server left out
#   stop_servers        stops PostgreSQL cleanly; everything else dies with the namespace
#
# PostgreSQL and nginx need real root (BENCH_REAL_ROOT=1, set by compare.sh): PostgreSQL
# runs as the system user procscope-pg (created when missing, as the conformance suite
# does), nginx's workers switch to nobody; in a user namespace neither works, and both are
# left out. PostgreSQL keeps its dynamic shared memory in SysV segments, which the IPC
# namespace removes even if it is killed (files in /dev/shm would outlive it).

PG_CLIENTS=8 REDIS_CLIENTS=50 NGINX_CLIENTS=50
PG_PID= NGINX_PID= NGINX_PORT= REDIS_PID= CLUSTER_PID= CLUSTER_WORKER=

# free_port: a port nobody holds now on 127.0.0.1 or ::1 (bound to port 0, then closed).
free_port() {
  python3 -c '
import socket
while True:
    v4 = socket.socket(); v4.bind(("127.0.0.1", 0)); port = v4.getsockname()[1]
    try:
        v6 = socket.socket(socket.AF_INET6); v6.bind(("::1", port)); v6.close()
    except OSError:
        continue
    print(port); break'
}

# until_true WHAT PID CMD...: until CMD succeeds (up to 30 s), as long as PID lives.
until_true() {
  local what="$1" pid="$2"; shift 2
  for _ in $(seq 300); do
    "$@" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "servers: $what did not start" >&2
  return 1
}

connects() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$1"; }
# children_at_least PID N [PATTERN]: PID has N children (whose command line has PATTERN).
children_at_least() { [ "$(pgrep -c -P "$1" ${3:+-f "$3"})" -ge "$2" ]; }

# hold PORT N [REQUEST]: a client process holding N connections, started and waited for.
hold() {
  local ready="$dir/hold.$1"
  python3 benches/workloads/hold.py "$@" > "$ready" < <(sleep infinity) 2>/dev/null &
  until_true "the clients of port $1" $! test -s "$ready"
}

# stop_child PID [SIGNAL]: ends our own child PID (a server that failed to start or is done)
# and reaps it, waiting at most 10 s for a graceful end before SIGKILL.
stop_child() {
  kill "-${2:-TERM}" "$1" 2>/dev/null
  for _ in $(seq 100); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1" 2>/dev/null
      return 0
    fi
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

start_postgres() {
  local bin user=procscope-pg
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
    echo "servers: PostgreSQL left out (not installed)" >&2; return 0
  fi
  if [ -z "${BENCH_REAL_ROOT:-}" ]; then
    echo "servers: PostgreSQL left out (it runs as its own user: needs root)" >&2; return 0
  fi
  id -u "$user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || return 1
  chmod 711 "$dir" && mkdir "$dir/pg" && chown "$user" "$dir/pg" || return 1
  local as_user=(setpriv --reuid="$user" --regid="$user" --clear-groups --)
  "${as_user[@]}" "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres > /dev/null || return 1
  local port
  port=$(free_port)
  "${as_user[@]}" "$bin/postgres" -D "$dir/pg/data" -k "$dir/pg" -h 127.0.0.1 -p "$port" \
    -c shared_buffers=16MB -c dynamic_shared_memory_type=sysv > "$dir/pg/log" 2>&1 &
  PG_PID=$!
  until_true "PostgreSQL" "$PG_PID" connects "$port" || return 1
  for _ in $(seq "$PG_CLIENTS"); do
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c 'select pg_sleep(3600)' \
      > /dev/null 2>&1 < /dev/null &
  done
  # A backend per client, in its query (its title ends in SELECT).
  until_true "PostgreSQL's backends" "$PG_PID" \
    children_at_least "$PG_PID" "$PG_CLIENTS" "SELECT"
}

start_nginx() {
  command -v nginx >/dev/null || { echo "servers: nginx left out (not installed)" >&2; return 0; }
  if [ -z "${BENCH_REAL_ROOT:-}" ]; then
    echo "servers: nginx left out (its workers change user: needs root)" >&2; return 0
  fi
  local d="$dir/nginx"
  mkdir "$d" || return 1
  NGINX_PORT=$(free_port)
  cat > "$d/nginx.conf" <<CONF
daemon off; master_process on; worker_processes 2;
pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 1024; }
http {
  access_log off; keepalive_timeout 3600s; keepalive_requests 100000;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fcgi;
  uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  server { listen 127.0.0.1:$NGINX_PORT; listen [::1]:$NGINX_PORT; location / { return 200 "ok\n"; } }
}
CONF
  nginx -c "$d/nginx.conf" -p "$d" > /dev/null 2>&1 < /dev/null &
  NGINX_PID=$!
  until_true "nginx" "$NGINX_PID" connects "$NGINX_PORT" || return 1
  until_true "nginx's workers" "$NGINX_PID" children_at_least "$NGINX_PID" 2 || return 1
  hold "$NGINX_PORT" "$NGINX_CLIENTS" 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n'
}

start_redis() {
  command -v redis-server >/dev/null || { echo "servers: redis left out (not installed)" >&2; return 0; }
  mkdir "$dir/redis" || return 1
  local port
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 ::1 --save '' --appendonly no \
    --daemonize no --dir "$dir/redis" > /dev/null 2>&1 < /dev/null &
  REDIS_PID=$!
  until_true "redis" "$REDIS_PID" connects "$port" || return 1
  hold "$port" "$REDIS_CLIENTS" 'PING\r\n'
}

start_node_cluster() {
  command -v node >/dev/null || { echo "servers: Node.js cluster left out (no node)" >&2; return 0; }
  node benches/workloads/node-cluster.js > "$dir/node-cluster" 2>/dev/null < /dev/null &
  CLUSTER_PID=$!
  until_true "the Node.js cluster" "$CLUSTER_PID" test -s "$dir/node-cluster" || return 1
  # The first worker forked (the lower PID in a fresh namespace) runs the worker_thread.
  CLUSTER_WORKER=$(pgrep -P "$CLUSTER_PID" | sort -n | head -1)
  [ -n "$CLUSTER_WORKER" ]
}

start_servers() {
  dir="$1"
  start_postgres || { [ -n "$PG_PID" ] && stop_child "$PG_PID" INT; PG_PID=; }
  start_nginx || { [ -n "$NGINX_PID" ] && stop_child "$NGINX_PID"; NGINX_PID=; }
  start_redis || { [ -n "$REDIS_PID" ] && stop_child "$REDIS_PID"; REDIS_PID=; }
  start_node_cluster || { [ -n "$CLUSTER_PID" ] && stop_child "$CLUSTER_PID"; CLUSTER_PID=; }
  return 0
}

stop_servers() {
  # SIGINT: PostgreSQL's fast shutdown, which ends the backends and removes its segments.
  if [ -n "$PG_PID" ]; then stop_child "$PG_PID" INT; PG_PID=; fi
}
