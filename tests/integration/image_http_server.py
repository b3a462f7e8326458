"""A small image server for the image_cache tests, run inside a sandbox host's namespaces.

    image_http_server.py DIR PORT ACCESS_LOG MODE [DELAY]

Serves DIR on 127.0.0.1:PORT (only the host's own loopback: test traffic never leaves the
sandbox namespace). Every GET is appended to ACCESS_LOG as "<time> GET <path>" before the body
is sent, so a test can count fetches. MODE:
  whole     send the file
  truncate  announce the whole Content-Length, send half the body, close the connection
  slow      wait DELAY seconds, then send the file (to make concurrent fetchers overlap)
Writes "<pid>" to ACCESS_LOG.ready once listening; stopped by that pid.
"""

import http.server
import os
import sys
import time


class ImageHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        server = self.server
        with open(server.access_log, "a") as log:
            log.write("%f GET %s\n" % (time.time(), self.path))
        path = os.path.join(server.root, os.path.basename(self.path))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as handle:
            body = handle.read()
        if server.mode == "slow":
            time.sleep(server.delay)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.mode == "truncate":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # the access log above is the record


def main(root, port, access_log, mode, delay="0"):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), ImageHandler)
    server.root, server.access_log, server.mode, server.delay = root, access_log, mode, float(delay)
    with open(access_log + ".ready", "w") as ready:
        ready.write(str(os.getpid()))
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
