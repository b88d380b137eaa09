"""A process with N idle threads (default 2000), each parked on an event; prints "ready".

Used by benches/compare.sh; the script stops it by PID.
"""
import sys
import threading
import time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
threading.stack_size(256 * 1024)
release = threading.Event()
for _ in range(count):
    threading.Thread(target=release.wait, daemon=True).start()
print("ready", flush=True)
time.sleep(3600)
