#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for dsync's failure tests.

It forwards every request to a real Directus and, from the Nth request
on (counting from 1), injects one fault:
  --kill PID        SIGKILL the Directus process, then forward (it fails,
                    and the client's connection is closed with no answer)
  --status CODE     answer CODE with a Directus-style error body
  --truncate        send the headers and half of the real body, then close
  --garbage         answer 200 with a body that is not JSON
Only paths containing --match (default: any) count. Prints the port it
listens on as its first line, then serves until killed.
"""
import argparse
import http.client
import http.server
import os
import signal
import socketserver
import sys
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection",
       "te", "upgrade", "content-length"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="host:port")
    ap.add_argument("--after", type=int, default=1)
    ap.add_argument("--match", default="")
    ap.add_argument("--kill", type=int)
    ap.add_argument("--status", type=int)
    ap.add_argument("--truncate", action="store_true")
    ap.add_argument("--garbage", action="store_true")
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    lock = threading.Lock()
    state = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("proxy: " + (fmt % a) + "\n")

        def fault(self):
            if args.match and args.match not in self.path:
                return False
            with lock:
                state["n"] += 1
                return state["n"] >= args.after

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            faulty = self.fault()
            if faulty and args.kill:
                try:
                    os.kill(args.kill, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if faulty and args.status:
                data = (b'{"errors":[{"message":"injected fault",'
                        b'"extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}')
                self.send_response(args.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if faulty and args.garbage:
                data = b"<html>proxy error</html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            try:
                up = http.client.HTTPConnection(host, int(port), timeout=120)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() not in HOP and k.lower() != "host"}
                hdrs["Host"] = f"{host}:{port}"
                hdrs["Accept-Encoding"] = "identity"
                up.request(self.command, self.path, body=body, headers=hdrs)
                resp = up.getresponse()
                data = resp.read()
            except OSError:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP and k.lower() != "content-encoding":
                    self.send_header(k, v)
            if faulty and args.truncate:
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
