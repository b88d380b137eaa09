"""A server process holding N established TCP connections on 127.0.0.1 (default 1000) and
its listener; the client ends are held by one helper process, which exits when the server
does. Prints the listener's port once every connection is accepted.

Started by benches/compare.sh, which stops it through its stdin or PID."""
import os
import resource
import socket
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
os.closerange(3, 65536)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count * 2 + 100), hard))
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(count)
port = listener.getsockname()[1]
lifeline_r, lifeline_w = os.pipe()
if os.fork() == 0:
    os.close(lifeline_w)
    listener.close()
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    os.read(lifeline_r, 1)  # EOF when the server exits
    os._exit(0)
os.close(lifeline_r)
accepted = [listener.accept()[0] for _ in range(count)]
print(port, flush=True)
sys.stdin.buffer.read()
