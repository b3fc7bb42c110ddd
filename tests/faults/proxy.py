#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for dsync's failure tests.

It forwards every request to a real Directus (--upstream HOST:PORT) and,
from the Nth matching request on, injects a fault. It prints the port it
listens on (127.0.0.1) as its first line of output, then serves until
killed. Python 3 standard library only.

Forwarding keeps the method, the path with its query, the request body
(Content-Length or chunked; sent upstream with a Content-Length) and the
headers except hop-by-hop ones; Host is set to the upstream and
Accept-Encoding to identity (so faults can edit bodies). The answer keeps
the upstream status, reason and headers, with a recomputed Content-Length.
Client connections are HTTP/1.1 keep-alive; each request gets a new
upstream connection. If the upstream cannot be reached or fails mid-answer,
the client connection is closed without an answer.

Which requests are faulted:
  --after N          inject from the Nth matching request on (counting from
                     1, default 1), for every later matching request
  --match SUBSTRING  only requests whose path (with query) contains it match
  --method M         only requests with this method match (with --match)
  --count N          inject at most N faults, then pass everything through
                     (default: unlimited)
  SIGUSR1 pauses injection (everything passes through; matching requests
  still count toward --after), SIGUSR2 resumes it.

Faults (at most one, except that --kill combines with any of them):
  --kill PID         SIGKILL that process (Directus), then go on: with no
                     other fault the request is forwarded, which fails, so
                     the client's connection is closed with no answer
  --status CODE      answer CODE with a Directus-style error body
                     {"errors":[{"message":"injected fault",
                     "extensions":{"code":...}}]}; the code follows the
                     status (401 INVALID_CREDENTIALS, 403 FORBIDDEN, 429
                     REQUESTS_EXCEEDED, ... otherwise INTERNAL_SERVER_ERROR)
    --retry-after N  with --status: add a "Retry-After: N" header
    --code NAME      with --status or --error-body: the error code to use
  --error-body       answer 200 with a Directus-style error body
  --json-data VALUE  answer 200 with {"data":VALUE}, VALUE being raw JSON
                     text (e.g. '"x"', '{}', 'null')
  --garbage          answer 200 with a body that is not JSON
  --truncate, --close-mid-body
                     forward, send the real headers and half of the real
                     body, then close the connection
  --truncate-json    forward, then answer the upstream's status with the
                     first half of its body (cut between two UTF-8
                     characters), a complete answer whose
                     Content-Length says so (JSON cut short, not a cut
                     connection)
  --sub REGEX REPLACEMENT
                     forward, then apply Python re.sub(REGEX, REPLACEMENT)
                     to the answer's body (as UTF-8 text); repeatable,
                     applied in order
  --drop-after-send  forward (the upstream really handles the request), read
                     its whole answer, then close the client connection
                     without sending anything
  --slow SECONDS     wait that long, then forward as usual (a slow answer to
                     the matching requests only; --delay slows every one)
  --stall SECONDS    wait that long, then close the connection without an
                     answer and without forwarding (for client timeouts)
  --refuse           from the first faulted request on, refuse: the
                     listening socket is closed (new connections are
                     refused) and every request on a connection still open
                     is closed without an answer and without forwarding;
                     the proxy stays so until killed (SIGUSR1 does not
                     undo it)

Other flags:
  --upstream HOST:PORT  the server to forward to (required)
  --port N           listen on this port (default 0: any free one), so
                     that a proxy killed can be started again where its
                     client expects it
  --tls-cert FILE, --tls-key FILE
                     serve HTTPS with this certificate chain and key (PEM;
                     the key may be in the certificate file): the TLS
                     handshake of each connection runs in its own thread,
                     and a client that refuses the certificate only ends
                     its connection. The upstream is still plain HTTP.
  --delay SECONDS    sleep that long (a float) before handling every request,
                     faulted or not (slows runs so a test can act during them)
  --log FILE         append "METHOD PATH STATUS" for every request when it
                     ends, flushed; STATUS is the status sent to the client,
                     or "-" when the connection was closed without an answer
  --log-times        add to each log line, after a space, the time the
                     request was received (seconds since the epoch, with
                     milliseconds) and "F" when it was faulted, else "-"
  --state-file FILE  rewritten atomically (temporary file, then rename) at
                     start, on SIGUSR1/SIGUSR2, when a fault is decided
                     (before a stall) and when every request ends,
                     with {"requests": received, "faults": injected,
                     "paused": bool}
  The log line and the state file are written just before the last bytes of
  the answer (or the close) go out: a client that has its answer finds them.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time

# Never forwarded in either direction (Content-Length is recomputed).
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection",
       "proxy-authenticate", "proxy-authorization", "te", "trailer",
       "upgrade", "content-length", "expect"}

# The Directus error code --status uses unless --code is given.
CODES = {
    400: "INVALID_PAYLOAD",
    401: "INVALID_CREDENTIALS",
    403: "FORBIDDEN",
    404: "ROUTE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "CONTENT_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_CONTENT",
    429: "REQUESTS_EXCEEDED",
    503: "SERVICE_UNAVAILABLE",
}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, metavar="HOST:PORT")
    ap.add_argument("--port", dest="listen_port", type=int, default=0,
                    metavar="N")
    ap.add_argument("--log-times", action="store_true")
    ap.add_argument("--after", type=int, default=1, metavar="N")
    ap.add_argument("--match", default="", metavar="SUBSTRING")
    ap.add_argument("--method", metavar="M")
    ap.add_argument("--count", type=int, metavar="N")
    ap.add_argument("--log", metavar="FILE")
    ap.add_argument("--state-file", metavar="FILE")
    ap.add_argument("--delay", type=float, default=0.0, metavar="SECONDS")
    ap.add_argument("--kill", type=int, metavar="PID")
    ap.add_argument("--retry-after", metavar="N")
    ap.add_argument("--code", metavar="NAME")
    ap.add_argument("--tls-cert", metavar="FILE")
    ap.add_argument("--tls-key", metavar="FILE")
    fault = ap.add_mutually_exclusive_group()
    fault.add_argument("--status", type=int, metavar="CODE")
    fault.add_argument("--error-body", action="store_true")
    fault.add_argument("--json-data", metavar="VALUE")
    fault.add_argument("--garbage", action="store_true")
    fault.add_argument("--truncate", "--close-mid-body", dest="truncate",
                       action="store_true")
    fault.add_argument("--sub", nargs=2, action="append",
                       metavar=("REGEX", "REPLACEMENT"))
    fault.add_argument("--truncate-json", action="store_true")
    fault.add_argument("--refuse", action="store_true")
    fault.add_argument("--drop-after-send", action="store_true")
    fault.add_argument("--stall", type=float, metavar="SECONDS")
    fault.add_argument("--slow", type=float, metavar="SECONDS")
    args = ap.parse_args(argv)

    host, sep, port = args.upstream.rpartition(":")
    if not sep or not host or not port.isdigit():
        ap.error("--upstream must be HOST:PORT")
    args.host, args.port = host, int(port)
    if args.retry_after is not None and args.status is None:
        ap.error("--retry-after needs --status")
    if args.code is not None and args.status is None and not args.error_body:
        ap.error("--code needs --status or --error-body")
    if args.json_data is not None:
        try:
            json.loads(args.json_data)
        except ValueError as e:
            ap.error(f"--json-data is not JSON: {e}")
    try:
        args.subs = [(re.compile(r), s) for r, s in args.sub or []]
    except re.error as e:
        ap.error(f"--sub: bad regular expression: {e}")
    if args.method:
        args.method = args.method.upper()
    if args.tls_key and not args.tls_cert:
        ap.error("--tls-key needs --tls-cert")
    args.tls = None
    if args.tls_cert:
        try:
            args.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            args.tls.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            ap.error(f"--tls-cert/--tls-key: {e}")
    return args


def error_body(code):
    return json.dumps({"errors": [{"message": "injected fault",
                                   "extensions": {"code": code}}]},
                      separators=(",", ":")).encode()


class Injector:
    """What all connections share: counters, pause flag, log, state file."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = 0   # requests received
        self.matched = 0    # requests that matched --match and --method
        self.faults = 0     # faults injected
        self.paused = False
        self.refusing = False
        self.server = None
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None

    def received(self):
        with self.lock:
            self.requests += 1

    def decide(self, method, path):
        """Whether this request gets the fault (counts it if so)."""
        a = self.args
        if a.match and a.match not in path:
            return False
        if a.method and method.upper() != a.method:
            return False
        with self.lock:
            self.matched += 1
            if self.paused or self.matched < a.after:
                return False
            if a.count is not None and self.faults >= a.count:
                return False
            self.faults += 1
            self._write_state()   # a client may give up before the end
            return True

    def ended(self, method, path, status, received=None, faulty=False):
        with self.lock:
            if self.log:
                extra = ""
                if self.args.log_times and received is not None:
                    extra = f" {received:.3f} {'F' if faulty else '-'}"
                self.log.write(f"{method} {path} {status or '-'}{extra}\n")
                self.log.flush()
            self._write_state()

    def refuse(self):
        """Stop accepting connections, for good."""
        with self.lock:
            if self.refusing:
                return
            self.refusing = True
        if self.server is not None:
            threading.Thread(target=self.server.shutdown,
                             daemon=True).start()

    def set_paused(self, paused):
        with self.lock:
            self.paused = paused
            self._write_state()

    def write_state(self):
        with self.lock:
            self._write_state()

    def _write_state(self):
        path = self.args.state_file
        if not path:
            return
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"requests": self.requests, "faults": self.faults,
                       "paused": self.paused}, f)
            f.write("\n")
        os.replace(tmp, path)


def make_handler(args, inj):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("proxy: " + (fmt % a) + "\n")

        def setup(self):
            # TLS: the handshake here, in the connection's thread.
            self.tls_failed = False
            if args.tls:
                try:
                    self.request.do_handshake()
                except (OSError, ssl.SSLError) as e:
                    self.log_message("TLS handshake: %s", e)
                    self.tls_failed = True
            super().setup()

        def handle(self):
            if self.tls_failed:
                self.close_connection = True
                return
            super().handle()

        def send_response_only(self, code, message=None):
            if code >= 200:   # not "100 Continue"
                self.sent_status = code
            super().send_response_only(code, message)

        def handle_any(self):
            self.sent_status = None
            self.done = False
            self.received_at = time.time()
            self.faulty = False
            try:
                self.serve()
            except (OSError, http.client.HTTPException) as e:
                self.log_message("client connection: %s", e)
                self.close_connection = True
            finally:
                self.end()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = \
            do_OPTIONS = do_SEARCH = handle_any

        def end(self):
            """Log the request and update the state file, once. Called just
            before the last bytes of the answer (or the close) go out, so a
            client that has its answer finds its line in the log."""
            if not self.done:
                self.done = True
                inj.ended(self.command, self.path, self.sent_status,
                          self.received_at, self.faulty)

        def serve(self):
            inj.received()
            try:
                body = self.read_body()
            except ValueError:
                self.close_connection = True
                return self.send_error(400, "malformed request body")
            if args.delay > 0:
                time.sleep(args.delay)
            if inj.refusing:
                return self.drop()
            faulty = inj.decide(self.command, self.path)
            self.faulty = faulty
            if faulty and args.refuse:
                self.log_message("refusing from %s %s on", self.command,
                                 self.path)
                inj.refuse()
                return self.drop()
            if faulty:
                self.log_message("injecting a fault into %s %s",
                                 self.command, self.path)
            if faulty and args.kill:
                try:
                    os.kill(args.kill, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if faulty and args.stall is not None:
                time.sleep(args.stall)
                return self.drop()
            if faulty and args.slow is not None:
                time.sleep(args.slow)
            if faulty and args.status is not None:
                extra = []
                if args.retry_after is not None:
                    extra.append(("Retry-After", args.retry_after))
                code = args.code or CODES.get(args.status,
                                              "INTERNAL_SERVER_ERROR")
                return self.answer(args.status, error_body(code), extra)
            if faulty and args.error_body:
                return self.answer(200, error_body(args.code
                                                   or "INTERNAL_SERVER_ERROR"))
            if faulty and args.json_data is not None:
                return self.answer(200, b'{"data":'
                                   + args.json_data.encode() + b"}")
            if faulty and args.garbage:
                return self.answer(200, b"<html>proxy error</html>")

            got = self.forward(body)
            if got is None or (faulty and args.drop_after_send):
                return self.drop()
            resp, data = got
            if faulty and args.truncate_json:
                # Half the body, cut between two characters: a cut inside
                # a UTF-8 sequence would be a bad byte, not an early end.
                cut = len(data) // 2
                while cut > 0 and (data[cut] & 0xC0) == 0x80:
                    cut -= 1
                data = data[:cut]
            if faulty and args.subs:
                text = data.decode("utf-8", "surrogateescape")
                for rx, repl in args.subs:
                    text = rx.sub(repl, text)
                data = text.encode("utf-8", "surrogateescape")
            self.log_request(resp.status)
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            if self.command == "HEAD":
                data = b""
                if resp.getheader("Content-Length") is not None:
                    self.send_header("Content-Length",
                                     resp.getheader("Content-Length"))
            elif resp.status not in (204, 304):
                self.send_header("Content-Length", str(len(data)))
            if faulty and args.truncate:
                self.send(data[: len(data) // 2])
                return self.drop()

            self.send(data)

        def read_body(self):
            """The request body (None if it has none), chunked or not;
            ValueError if it is malformed."""
            te = self.headers.get("Transfer-Encoding", "")
            if "chunked" in te.lower():
                parts = []
                while True:
                    line = self.rfile.readline(65537)
                    size = int(line.split(b";", 1)[0].strip(), 16)
                    if size < 0:
                        raise ValueError("negative chunk size")
                    if size == 0:
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline(65537)          # CRLF after the chunk
                while self.rfile.readline(65537).strip():  # trailers
                    pass
                return b"".join(parts)
            length = self.headers.get("Content-Length")
            if length is None:
                return None
            n = int(length)
            if n < 0:
                raise ValueError("negative Content-Length")
            return self.rfile.read(n)

        def forward(self, body):
            """(response, body) from the upstream, or None if it failed."""
            conn = [h.strip().lower() for h in
                    self.headers.get("Connection", "").split(",")]
            try:
                up = http.client.HTTPConnection(args.host, args.port,
                                                timeout=120)
                up.putrequest(self.command, self.path, skip_host=True,
                              skip_accept_encoding=True)
                up.putheader("Host", f"{args.host}:{args.port}")
                up.putheader("Accept-Encoding", "identity")
                for k, v in self.headers.items():
                    lk = k.lower()
                    if lk not in HOP and lk not in conn and lk not in (
                            "host", "accept-encoding"):
                        up.putheader(k, v)
                if body is not None:
                    up.putheader("Content-Length", str(len(body)))
                up.endheaders(body)
                resp = up.getresponse()
                data = resp.read()
                up.close()
                return resp, data
            except (OSError, http.client.HTTPException) as e:
                self.log_message("upstream %s %s: %s", self.command,
                                 self.path, e)
                return None

        def answer(self, status, data, extra=()):
            """An injected answer: STATUS, JSON content type, DATA."""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.send(data)

        def send(self, data):
            """Send the buffered status line and headers, then DATA."""
            self.end()
            self.end_headers()
            self.wfile.write(data)

        def drop(self):
            """Close the client connection with nothing more sent."""
            self.end()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False)
        return sock, addr


def main():
    args = parse_args()
    inj = Injector(args)
    Server.tls = args.tls
    srv = Server(("127.0.0.1", args.listen_port), make_handler(args, inj))
    inj.server = srv
    inj.write_state()
    signal.signal(signal.SIGUSR1, lambda *_: inj.set_paused(True))
    signal.signal(signal.SIGUSR2, lambda *_: inj.set_paused(False))
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
    # --refuse: no more connections; those open are served (dropped)
    # by their threads until the proxy is killed.
    srv.socket.close()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
