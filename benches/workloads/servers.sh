# The real servers of the conformance suite as benchmark workloads, on loopback: PostgreSQL
# (a postmaster, its auxiliaries and a backend per psql client), nginx (a master and two
# workers, both on 127.0.0.1 and ::1), redis (its I/O and background threads) and a Node.js
# cluster (a primary and two workers, one with a worker_thread), each with idle clients.
# Sourced by benches/scale.sh, which runs as PID 1 of its own namespace:
#
#   start_servers DIR   starts whichever servers are installed; sets PG_PID PG_PORT NGINX_PID
#                       NGINX_PORT REDIS_PID REDIS_PORT NODE_PID NODE_PORT NODE_WORKER (empty
#                       when that server is missing)
#   stop_servers        stops PostgreSQL cleanly (its shared memory segment would outlive a
#                       SIGKILL); everything else dies with the namespace
#
# PostgreSQL refuses to run as root: it runs as the system user procscope-pg (created when
# missing, as the conformance suite does) and is left out when the benchmark is not root.

PG_CLIENTS=8 REDIS_CLIENTS=50 NGINX_CLIENTS=50
PG_PID= PG_PORT= NGINX_PID= NGINX_PORT= REDIS_PID= REDIS_PORT= NODE_PID= NODE_PORT= NODE_WORKER=

# free_port: a port on 127.0.0.1 nobody holds now (bound to port 0, then closed).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# until_true WHAT CMD...: until CMD succeeds (up to 30 s).
until_true() {
  local what="$1"; shift
  for _ in $(seq 300); do
    "$@" && return 0
    sleep 0.1
  done
  echo "servers: $what did not start" >&2
  return 1
}

# has_children PID N: PID has at least N children.
has_children() { [ "$(wc -w < "/proc/$1/task/$1/children")" -ge "$2" ]; }
connects() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }

# hold PORT N [REQUEST]: a client process holding N connections, started and waited for.
hold() {
  local ready="$dir/hold.$1"
  python3 benches/workloads/hold.py "$@" > "$ready" < <(sleep infinity) 2>/dev/null &
  until_true "clients of port $1" test -s "$ready"
}

start_postgres() {
  local bin user=procscope-pg
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
  if [ -z "$bin" ] || [ "$(id -u)" != 0 ]; then
    echo "servers: PostgreSQL left out (${bin:+not root}${bin:-not installed})" >&2
    return 0
  fi
  id -u "$user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || return 1
  chmod 711 "$dir" && mkdir "$dir/pg" && chown "$user" "$dir/pg"
  local as_user=(setpriv --reuid="$user" --regid="$user" --clear-groups --)
  "${as_user[@]}" "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres > /dev/null || return 1
  PG_PORT=$(free_port)
  "${as_user[@]}" "$bin/postgres" -D "$dir/pg/data" -k "$dir/pg" -h 127.0.0.1 -p "$PG_PORT" \
    -c shared_buffers=16MB > "$dir/pg/log" 2>&1 &
  PG_PID=$!
  until_true "PostgreSQL" connects "$PG_PORT" || return 1
  for _ in $(seq "$PG_CLIENTS"); do
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c 'select pg_sleep(3600)' \
      > /dev/null 2>&1 < /dev/null &
  done
  # The postmaster's five auxiliary processes and a backend per client.
  until_true "PostgreSQL backends" has_children "$PG_PID" $((PG_CLIENTS + 5))
}

start_nginx() {
  command -v nginx >/dev/null || { echo "servers: nginx left out (not installed)" >&2; return 0; }
  local d="$dir/nginx"
  mkdir "$d"
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
  until_true "nginx" connects "$NGINX_PORT" || return 1
  until_true "nginx workers" has_children "$NGINX_PID" 2 || return 1
  hold "$NGINX_PORT" "$NGINX_CLIENTS" 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n'
}

start_redis() {
  command -v redis-server >/dev/null || { echo "servers: redis left out (not installed)" >&2; return 0; }
  mkdir "$dir/redis"
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 ::1 --save '' --appendonly no \
    --daemonize no --dir "$dir/redis" > /dev/null 2>&1 < /dev/null &
  REDIS_PID=$!
  until_true "redis" connects "$REDIS_PORT" || return 1
  hold "$REDIS_PORT" "$REDIS_CLIENTS" 'PING\r\n'
}

start_node_cluster() {
  command -v node >/dev/null || { echo "servers: Node.js cluster left out (no node)" >&2; return 0; }
  node benches/workloads/node-cluster.js > "$dir/node-cluster" 2>/dev/null < /dev/null &
  NODE_PID=$!
  until_true "the Node.js cluster" test -s "$dir/node-cluster" || return 1
  NODE_PORT=$(head -1 "$dir/node-cluster")
  # The first worker forked (the lower PID in a fresh namespace) runs the worker_thread.
  NODE_WORKER=$(tr ' ' '\n' < "/proc/$NODE_PID/task/$NODE_PID/children" | grep . | sort -n | head -1)
}

start_servers() {
  dir="$1"
  start_postgres && start_nginx && start_redis && start_node_cluster
}

stop_servers() {
  if [ -n "$PG_PID" ]; then
    kill -INT "$PG_PID" 2>/dev/null  # fast shutdown: ends the backends, removes its segment
    wait "$PG_PID" 2>/dev/null
  fi
}
