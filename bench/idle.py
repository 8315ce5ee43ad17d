#!/usr/bin/env python3
"""bench/idle.py HOST PORT N SECONDS: opens N keep-alive connections to the
daemon, sends one GET /healthz on each (so each counts as a client
connection), reads the answer, holds them all idle for SECONDS, prints how
many were open at the end, then closes them."""
import socket
import sys
import time

host, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
req = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n"
socks = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("connection %d closed early" % i)
        data += chunk
    socks.append(s)
print("open", len(socks), flush=True)
time.sleep(hold)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print("alive", alive, flush=True)
for s in socks:
    s.close()
