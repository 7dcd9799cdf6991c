"""A small SMTP server on loopback for tests and benchmarks: it keeps every
message it accepts (only at the end-of-data mark, as real servers do; a
connection that drops mid-message leaves nothing)."""

import email
import email.policy
import socketserver
import threading
import time


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        sink = self.server.sink
        time.sleep(sink.delay)  # a slow mail provider
        self.reply("220 sink ready")
        recipients = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == b"HELO":
                self.reply("250 sink")
            elif verb == b"MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == b"RCPT":
                address = line.split(b":", 1)[1].strip().strip(b"<>").decode()
                recipients.append(address)
                self.reply("250 OK")
            elif verb == b"DATA":
                self.reply("354 go ahead")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if not data:
                        return  # cut off before the end: not accepted
                    if data == b".\r\n":
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)
                sink.accept(recipients, b"".join(lines))
                self.reply("250 accepted")
            elif verb in (b"RSET", b"NOOP"):
                self.reply("250 OK")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SMTPSink:
    """Start with `with SMTPSink() as sink:`; `sink.port`, `sink.messages`."""

    def __init__(self, delay=0.0):
        self.delay = delay  # seconds before greeting each connection
        self.messages = []  # (recipients, raw bytes)
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.sink = self
        self.port = self.server.server_address[1]

    def accept(self, recipients, raw):
        with self.lock:
            self.messages.append((list(recipients), raw))

    def count(self):
        with self.lock:
            return len(self.messages)

    def parsed(self):
        with self.lock:
            raw = list(self.messages)
        return [
            (rcpt, email.message_from_bytes(data, policy=email.policy.default))
            for rcpt, data in raw
        ]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
