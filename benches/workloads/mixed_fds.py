"""A process holding N descriptors of every kind (default 10000): 30% regular files (distinct
files under /usr, read-only), 40% pipe ends whose other ends are held by four helper
processes, 20% unix socketpair ends, 10% TCP sockets on 127.0.0.1 (a listener, connected
clients and their accepted ends). Prints the listener's port once ready.

Started by benches/compare.sh, which stops it through its stdin or PID; the helpers exit
when this process does (their lifeline pipe closes), never by a remembered PID."""
import os
import resource
import socket
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
HELPERS = 4
os.closerange(3, 65536)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count * 2 + 100), hard))

held = []


def open_files(n):
    for root, dirs, files in os.walk("/usr"):
        dirs.sort()
        for name in sorted(files):
            if len(held) >= n:
                return
            path = os.path.join(root, name)
            try:
                if os.path.isfile(path) and not os.path.islink(path):
                    held.append(os.open(path, os.O_RDONLY))
            except OSError:
                pass


open_files(count * 3 // 10)

# Pipes: alternately keep the read end or the write end; the other end goes to a helper.
pipes = count * 4 // 10
others = []
for i in range(pipes):
    r, w = os.pipe()
    mine, theirs = (r, w) if i % 2 == 0 else (w, r)
    held.append(mine)
    others.append(theirs)
lifeline_r, lifeline_w = os.pipe()
share = (len(others) + HELPERS - 1) // HELPERS
for h in range(HELPERS):
    if os.fork() == 0:
        keep = set(others[h * share:(h + 1) * share]) | {lifeline_r}
        for fd in others + held + [lifeline_w, 0, 1, 2]:
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.read(lifeline_r, 1)  # EOF when the parent exits
        os._exit(0)
for fd in others:
    os.close(fd)
os.close(lifeline_r)

for _ in range(count * 2 // 10 // 2):
    a, b = socket.socketpair()
    held.extend([a.detach(), b.detach()])

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1024)
port = listener.getsockname()[1]
inet = count // 10 - 1
for _ in range(inet // 2):
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    held.extend([client.detach(), accepted.detach()])
print(port, flush=True)
# Until stdin closes (or a signal from the benchmark script that started us).
sys.stdin.buffer.read()
