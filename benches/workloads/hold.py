"""A client holding N open TCP connections to 127.0.0.1:PORT (an idle keep-alive crowd for
the real servers of benches/workloads/servers.sh). With REQUEST, each connection sends it
once and reads the reply's first bytes, so the server holds them as served, idle
connections. Prints "ready" once every connection is open; exits at EOF on stdin.

    python3 hold.py PORT N [REQUEST]"""
import resource
import socket
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
request = sys.argv[3].encode().decode("unicode_escape").encode() if len(sys.argv) > 3 else b""
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 100), hard))
held = []
for _ in range(count):
    connection = socket.create_connection(("127.0.0.1", port))
    if request:
        connection.sendall(request)
        connection.recv(64)
    held.append(connection)
print("ready", flush=True)
sys.stdin.buffer.read()
