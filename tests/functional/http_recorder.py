#!/usr/bin/python3
"""A stand-in for a forge's API or a webhook receiver in the functional
tests: an HTTP server on 127.0.0.1:PORT that records each request it gets
as DIR/NNNNNN.json ({method, path, headers, body}) and answers with
STATUS (201 by default) and a small JSON body. No forge can run here;
this records exactly what the master sent.

usage: http_recorder.py PORT DIR [STATUS]
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
DIR = sys.argv[2]
STATUS = int(sys.argv[3]) if len(sys.argv) > 3 else 201
LOCK = threading.Lock()
COUNT = [len([n for n in os.listdir(DIR) if n.endswith(".json")])]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        record = {"method": "POST", "path": self.path,
                  "headers": {k: v for k, v in self.headers.items()}, "body": body}
        with LOCK:
            COUNT[0] += 1
            name = os.path.join(DIR, "%06d.json" % COUNT[0])
            with open(name + ".tmp", "w") as f:
                json.dump(record, f)
            os.rename(name + ".tmp", name)
        answer = json.dumps({"message": "recorded" if STATUS < 300 else "Bad credentials"}).encode()
        self.send_response(STATUS)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s\n" % (fmt % args))
        sys.stdout.flush()


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("listening on 127.0.0.1:%d" % PORT, flush=True)
server.serve_forever()
