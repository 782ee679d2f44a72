#!/usr/bin/python3
"""A capturing SMTP server for CI, scripted by the recipient's local part (same rules as tests/support/smtp.rs):
tempfail* → 451 at RCPT; flaky* → 451 the first time, then accepted; reject* → 550 at RCPT; denied* → 554 at the
end of DATA; drop* → connection closed at RCPT; slow* → end-of-DATA reply delayed; anything else → 250.
Accepted messages are written to the capture folder as <n>.eml and <n>.json (envelope), atomically."""
import argparse
import asyncio
import json
import os
import signal
import threading

from aiosmtpd.controller import Controller


class Scripted:
    def __init__(self, capture, slow):
        self.capture = capture
        self.slow = slow
        self.seen = set()
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Try again later"
        if local.startswith("flaky") and address.lower() not in self.seen:
            self.seen.add(address.lower())
            return "451 4.3.0 Try again later"
        if local.startswith("reject"):
            return "550 5.1.1 No such user"
        if local.startswith("drop"):
            server.transport.close()
            return "421 4.4.2 Closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        locals_ = [a.split("@")[0].lower() for a in envelope.rcpt_tos]
        if any(l.startswith("slow") for l in locals_):
            await asyncio.sleep(self.slow)
        if any(l.startswith("denied") for l in locals_):
            return "554 5.7.1 Message refused"
        with self.lock:
            self.count += 1
            n = self.count
        data = envelope.original_content or envelope.content
        meta = {"mail_from": envelope.mail_from, "rcpt_to": envelope.rcpt_tos, "size": len(data)}
        for ext, payload in (("eml", data), ("json", json.dumps(meta).encode())):
            tmp = os.path.join(self.capture, f".{n}.{ext}.tmp")
            with open(tmp, "wb") as f:
                f.write(payload)
            os.rename(tmp, os.path.join(self.capture, f"{n}.{ext}"))
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--capture-dir", required=True)
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    args = parser.parse_args()
    os.makedirs(args.capture_dir, exist_ok=True)
    controller = Controller(Scripted(args.capture_dir, args.slow_seconds), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"READY {args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
