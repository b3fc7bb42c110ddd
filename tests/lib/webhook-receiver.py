#!/usr/bin/env python3
"""A webhook receiver for the notification tests: it listens on 127.0.0.1
(any free port, printed as its first line of output) and appends each POST
it gets to LOG as one JSON line {"path", "signature", "content_type",
"body"}. What it answers is read from MODE_FILE at each request: "ok"
(204, the default), "500", or "hang" (no answer for 60 s). Standard
library only."""
import http.server
import json
import socketserver
import sys
import time

LOG, MODE = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        try:
            with open(MODE) as f:
                mode = f.read().strip()
        except FileNotFoundError:
            mode = "ok"
        if mode == "hang":
            time.sleep(60)
            return
        with open(LOG, "a") as f:
            f.write(json.dumps({
                "path": self.path,
                "signature": self.headers.get("X-Dsync-Signature"),
                "content_type": self.headers.get("Content-Type"),
                "body": body,
                "answered": 500 if mode == "500" else 204,
            }) + "\n")
        self.send_response(500 if mode == "500" else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
