#!/usr/bin/env python3
"""A control socket that answers every request with one plan, as the
daemon's diff reply holds it: {"plan": PLAN}. For feeding dsyncctl diff the
plan that dsyncd diff --json printed. Usage: plan-socket.py PLAN SOCKET;
prints "ready" once it listens."""
import json
import os
import socket
import sys
import threading

plan = json.load(open(sys.argv[1]))
path = sys.argv[2]


def serve(conn):
    buf = b""
    with conn:
        while not buf.endswith(b"\n"):
            got = conn.recv(65536)
            if not got:
                return
            buf += got
        req = json.loads(buf)
        reply = {"v": 1, "id": req.get("id"), "ok": True,
                 "result": {"plan": plan}}
        conn.sendall((json.dumps(reply) + "\n").encode())


try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
