#!/usr/bin/python3
"""Scripted SMTP server for CI (aiosmtpd), same rules as tests/it/support/smtp.rs.

Usage:
    /usr/bin/python3 tests/smtp/scripted_server.py --port 2526 --capture-dir DIR [--slow-seconds 2]

The reply to each recipient is chosen by the local part of its address
(prefix match, ASCII case-insensitive):

    tempfail...  RCPT TO -> 451 4.3.0 Try again later
    flaky...     first RCPT TO of this address (per server run) -> 451, later -> 250
    reject...    RCPT TO -> 550 5.1.1 No such user
    nouser...    RCPT TO -> 550 No such user here (no enhanced status code)
    denied...    RCPT TO -> 250, end of DATA -> 554 5.7.1 Message refused
    drop...      the TCP connection is closed right after RCPT TO is read, no reply
    slow...      end-of-DATA reply delayed by --slow-seconds (default 2), then 250
    otherwise    250

A recipient whose domain has a file named refuse-relay-<domain> in DIR gets
RCPT TO -> 550 5.7.1 Relaying denied (remove the file to "fix" the server); a
sender whose local part starts with "badsender" gets MAIL FROM -> 553 5.7.1
Sender address rejected.

With several recipients in one transaction, "slow" delays the end-of-DATA reply
and "denied" refuses the whole message (after the delay, if both). "flaky"
addresses are remembered lower-cased.

Each accepted message is written to DIR as <n>.eml (the bytes received between
the 354 reply and the final "." line, dot-stuffing undone) and then <n>.json
({"mail_from": ..., "rcpt_to": [...], "size": <bytes in .eml>}). Both are
written under a temporary name (.<n>.*.tmp) and renamed, the .json last: once
<n>.json exists, <n>.eml is complete. n counts up from 1 (or from after the
highest number already in DIR, so a restarted server does not overwrite).

Prints "READY <port>" on stdout once listening (--port 0 picks a free port and
prints it). Exits with status 0 on SIGTERM or SIGINT. Plain SMTP only (no
STARTTLS/AUTH); EHLO advertises SIZE, 8BITMIME and HELP; no PIPELINING.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys

from aiosmtpd.smtp import SMTP

TEMPFAIL = "451 4.3.0 Try again later"
REJECT = "550 5.1.1 No such user"
REFUSED = "554 5.7.1 Message refused"
NOUSER = "550 No such user here"
RELAY_DENIED = "550 5.7.1 Relaying denied"
SENDER_REJECTED = "553 5.7.1 Sender address rejected"

RULES = ("tempfail", "flaky", "reject", "nouser", "denied", "drop", "slow")


def rule_for(address):
    """The rule named by the address's local part, or "accept"."""
    local = address.rsplit("@", 1)[0].lower()
    for prefix in RULES:
        if local.startswith(prefix):
            return prefix
    return "accept"


class ScriptedHandler:
    """One instance serves every connection of the server (one event loop, so
    no locking is needed)."""

    def __init__(self, capture_dir, slow_seconds):
        self.capture_dir = capture_dir
        self.slow_seconds = slow_seconds
        self.flaky_seen = set()
        self.counter = self._highest_existing()

    def _highest_existing(self):
        highest = 0
        for name in os.listdir(self.capture_dir):
            stem, dot, ext = name.partition(".")
            if dot and ext in ("eml", "json") and stem.isdigit():
                highest = max(highest, int(stem))
        return highest

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.rsplit("@", 1)[0].lower().startswith("badsender"):
            return SENDER_REJECTED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = address.rsplit("@", 1)[-1].lower()
        if os.path.exists(os.path.join(self.capture_dir, f"refuse-relay-{domain}")):
            return RELAY_DENIED
        rule = rule_for(address)
        if rule == "tempfail":
            return TEMPFAIL
        if rule == "flaky":
            key = address.lower()
            if key not in self.flaky_seen:
                self.flaky_seen.add(key)
                return TEMPFAIL
        elif rule == "reject":
            return REJECT
        elif rule == "nouser":
            return NOUSER
        elif rule == "drop":
            server.transport.close()
            # connection_lost() cancels this session's coroutine (and with it
            # this hook) before anything else is written; the status below is
            # only a fallback and goes nowhere, the transport being closed.
            await asyncio.sleep(30)
            return "421 4.4.2 Closing connection"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rules = {rule_for(rcpt) for rcpt in envelope.rcpt_tos}
        if "slow" in rules:
            await asyncio.sleep(self.slow_seconds)
        if "denied" in rules:
            return REFUSED
        self._capture(envelope)
        return "250 OK"

    def _capture(self, envelope):
        self.counter += 1
        n = self.counter
        data = envelope.original_content or b""
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "size": len(data),
        }
        self._write_atomically(f"{n}.eml", data)
        self._write_atomically(f"{n}.json", json.dumps(meta).encode("utf-8"))

    def _write_atomically(self, name, payload):
        final = os.path.join(self.capture_dir, name)
        temp = os.path.join(self.capture_dir, f".{name}.tmp")
        with open(temp, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, final)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to listen on; 0 picks a free one")
    parser.add_argument("--capture-dir", required=True, help="directory for <n>.eml and <n>.json")
    parser.add_argument("--slow-seconds", type=float, default=2.0, help="end-of-DATA delay for slow... recipients")
    parser.add_argument("--verbose", action="store_true", help="log SMTP sessions to stderr")
    return parser.parse_args(argv)


async def serve(args):
    os.makedirs(args.capture_dir, exist_ok=True)
    handler = ScriptedHandler(args.capture_dir, args.slow_seconds)
    loop = asyncio.get_running_loop()

    def factory():
        return SMTP(handler, hostname="outreach-test-smtp")

    server = await loop.create_server(factory, host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    print(f"READY {port}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()
    # Open sessions are cancelled when asyncio.run() returns.


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
