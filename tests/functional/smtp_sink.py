#!/usr/bin/env python3
"""A real SMTP server for the functional tests: aiosmtpd (Debian's
python3-aiosmtpd) on 127.0.0.1:PORT. Each message it receives is written to
DIR as one JSON file (envelope, decoded headers, body text, attachments),
atomically (written aside, then renamed), so a test reads only whole ones.

usage: smtp_sink.py PORT DIR [USER:PASSWORD]

With USER:PASSWORD the server requires AUTH (PLAIN or LOGIN; over plain
TCP, which is fine on 127.0.0.1) and refuses mail without it. With the
environment variables SMTP_SINK_CERT and SMTP_SINK_KEY (PEM files) it
offers STARTTLS and requires it before mail. Each record says whether the
message came over TLS ("tls").
"""
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = None
        attachments = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            name = part.get_filename()
            content = part.get_content()
            if isinstance(content, bytes):
                content = content.decode("utf-8", "replace")
            if name:
                attachments.append({"filename": name, "content": content})
            elif body is None:
                body = content
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["from"]),
            "to": str(msg["to"]),
            "subject": str(msg["subject"]),
            "date": str(msg["date"]) if msg["date"] else "",
            "message_id": str(msg["message-id"]) if msg["message-id"] else "",
            "content_type": msg.get_content_type(),
            "tls": bool(session.ssl),
            "body": body or "",
            "attachments": attachments,
        }
        name = "%d-%04d.json" % (time.time_ns(), self.n)
        tmp = os.path.join(self.out, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.out, name))
        return "250 OK"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode() and auth_data.password == password.encode())
        return AuthResult(success=ok)
    return authenticate


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    kwargs = {}
    if len(sys.argv) > 3:
        user, password = sys.argv[3].split(":", 1)
        kwargs = dict(authenticator=authenticator_for(user, password), auth_required=True,
                      auth_require_tls=False)
    if os.environ.get("SMTP_SINK_CERT"):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.environ["SMTP_SINK_CERT"], os.environ["SMTP_SINK_KEY"])
        kwargs.update(tls_context=ctx, require_starttls=True)
    controller = Controller(Handler(out), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("smtp_sink listening on 127.0.0.1:%d" % port, flush=True)
    while not done.wait(0.5):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
