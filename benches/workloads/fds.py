"""A process holding 10000 open descriptors and a TCP listener on 127.0.0.1; prints the
listener's port once ready. Used by benches/compare.sh, which stops it by PID."""
import os
import resource
import socket
import sys
import time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
# Exactly the descriptors below: none inherited from whatever started the benchmark.
os.closerange(3, 65536)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 100), hard))
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
null = os.open("/dev/null", os.O_RDONLY)
held = [os.dup(null) for _ in range(count - 1)]
print(listener.getsockname()[1], flush=True)
time.sleep(3600)
