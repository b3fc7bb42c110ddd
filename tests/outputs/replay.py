#!/usr/bin/env python3
"""A control socket in front of dsyncd's that answers each distinct request
once from the daemon and every later time from what it answered then, so
that two dsyncctl binaries asked the same thing read the same bytes (the
daemon's uptime, poll times and job counts move between two calls).

Usage: replay.py LISTEN_SOCKET DAEMON_SOCKET
A request is keyed by its line without "id"; the reply's "id" is the
asker's. A line that is not JSON is forwarded each time (the daemon's
error for it does not move). Prints "ready" once it listens.
"""
import json
import os
import re
import socket
import sys
import threading

listen_path, daemon_path = sys.argv[1], sys.argv[2]
cache = {}
lock = threading.Lock()


def ask_daemon(line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(daemon_path)
    s.sendall(line)
    buf = b""
    while not buf.endswith(b"\n"):
        got = s.recv(65536)
        if not got:
            break
        buf += got
    s.close()
    return buf


def serve(conn):
    buf = b""
    try:
        while True:
            got = conn.recv(65536)
            if not got:
                return
            buf += got
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line += b"\n"
                try:
                    req = json.loads(line)
                except ValueError:
                    conn.sendall(ask_daemon(line))
                    continue
                rid = req.pop("id", None) if isinstance(req, dict) else None
                key = json.dumps(req, sort_keys=True)
                with lock:
                    if key not in cache:
                        cache[key] = ask_daemon(line)
                    reply = cache[key]
                # The asker's id, the rest byte for byte.
                reply = re.sub(rb'"id":(-?[0-9]+|null)',
                               b'"id":' + json.dumps(rid).encode(), reply,
                               count=1)
                conn.sendall(reply)
    finally:
        conn.close()


try:
    os.unlink(listen_path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(listen_path)
srv.listen(16)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
