#!/usr/bin/python3
"""Checks tests/smtp/scripted_server.py rule by rule with smtplib.

Usage: /usr/bin/python3 tests/smtp/check_scripted_server.py

Starts the server on a free port with a temporary capture directory, runs
every check, stops it with SIGTERM, prints "N passed, M failed" last and
exits non-zero if any check failed.
"""

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "scripted_server.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SLOW = 1.0
FROM = "news@outreach.test"


class Server:
    def __init__(self, capture_dir):
        self.capture_dir = capture_dir
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--port", "0", "--capture-dir", capture_dir, "--slow-seconds", str(SLOW)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self._read_ready(timeout=15)
        if not line.startswith("READY "):
            raise RuntimeError(f"server did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.split()[1])

    def _read_ready(self, timeout):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result:
            self.proc.kill()
            raise RuntimeError("no READY line within %ss" % timeout)
        return result[0].strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("server did not exit within 10 s of SIGTERM")
        return code

    def captured(self):
        """[(n, meta, eml_bytes)] sorted by n; only complete pairs."""
        out = []
        for name in os.listdir(self.capture_dir):
            if name.endswith(".json") and not name.startswith("."):
                n = int(name[: -len(".json")])
                with open(os.path.join(self.capture_dir, name)) as f:
                    meta = json.load(f)
                with open(os.path.join(self.capture_dir, f"{n}.eml"), "rb") as f:
                    eml = f.read()
                out.append((n, meta, eml))
        return sorted(out, key=lambda item: item[0])


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def connect(server):
    smtp = smtplib.SMTP("127.0.0.1", server.port, timeout=10)
    code, _ = smtp.ehlo("client.test")
    expect(code, 250, "EHLO")
    return smtp


def message(to, body="Hello.\r\n"):
    return (f"From: {FROM}\r\nTo: {', '.join(to)}\r\nSubject: Newsletter\r\n\r\n{body}").encode()


def send_data(smtp, payload):
    """DATA with payload (ends in CRLF, no dot-stuffing needed); returns (code, msg)."""
    code, _ = smtp.docmd("DATA")
    expect(code, 354, "DATA")
    smtp.send(payload + b".\r\n")
    return smtp.getreply()


# --- checks -------------------------------------------------------------------------------------


def check_accepted_is_captured(server):
    before = len(server.captured())
    to = ["Alice@Example.com", "bob@example.com"]
    body = "Hello,\r\n.leading dot line\r\nBye\r\n"
    msg = message(to, body)
    with connect(server) as smtp:
        refused = smtp.sendmail(FROM, to, msg)
    expect(refused, {}, "refused recipients")
    captured = server.captured()
    expect(len(captured), before + 1, "captured count")
    n, meta, eml = captured[-1]
    expect(meta["mail_from"], FROM, "mail_from")
    expect(meta["rcpt_to"], to, "rcpt_to")
    expect(eml, msg, "raw bytes (dot-stuffing undone)")
    expect(meta["size"], len(msg), "size")
    leftovers = [name for name in os.listdir(server.capture_dir) if name.endswith(".tmp")]
    expect(leftovers, [], "temporary files left")


def check_tempfail(server):
    before = len(server.captured())
    for _ in range(2):  # every time, not only the first
        with connect(server) as smtp:
            expect(smtp.mail(FROM)[0], 250, "MAIL")
            expect(smtp.rcpt("TempFail-7@example.com"), (451, b"4.3.0 Try again later"), "RCPT tempfail")
    with connect(server) as smtp:
        try:
            smtp.sendmail(FROM, ["tempfail@example.com"], message(["tempfail@example.com"]))
            raise AssertionError("sendmail to tempfail did not raise")
        except smtplib.SMTPRecipientsRefused as e:
            expect(e.recipients["tempfail@example.com"][0], 451, "sendmail code")
    expect(len(server.captured()), before, "nothing captured")


def check_flaky(server):
    with connect(server) as smtp:
        smtp.mail(FROM)
        expect(smtp.rcpt("flaky1@example.com"), (451, b"4.3.0 Try again later"), "first RCPT flaky1")
    with connect(server) as smtp:
        smtp.mail(FROM)
        expect(smtp.rcpt("flaky1@example.com")[0], 250, "second RCPT flaky1")
        expect(smtp.rcpt("flaky2@example.com")[0], 451, "first RCPT flaky2")
        expect(smtp.rcpt("FLAKY2@example.com")[0], 250, "second RCPT flaky2 (case-insensitive)")
        code, _ = send_data(smtp, message(["flaky1@example.com"]))
        expect(code, 250, "end of DATA")
    _, meta, _ = server.captured()[-1]
    expect(meta["rcpt_to"], ["flaky1@example.com", "FLAKY2@example.com"], "rcpt_to")


def check_reject(server):
    with connect(server) as smtp:
        smtp.mail(FROM)
        expect(smtp.rcpt("reject.me@example.com"), (550, b"5.1.1 No such user"), "RCPT reject")


def check_rejected_recipient_left_out(server):
    before = len(server.captured())
    with connect(server) as smtp:
        smtp.mail(FROM)
        expect(smtp.rcpt("ok@example.com")[0], 250, "RCPT ok")
        expect(smtp.rcpt("reject@example.com")[0], 550, "RCPT reject")
        expect(smtp.rcpt("tempfail@example.com")[0], 451, "RCPT tempfail")
        code, _ = send_data(smtp, b"Subject: s\r\n\r\nbody\r\n")
        expect(code, 250, "end of DATA")
    captured = server.captured()
    expect(len(captured), before + 1, "captured count")
    expect(captured[-1][1]["rcpt_to"], ["ok@example.com"], "rcpt_to")
    expect(captured[-1][2], b"Subject: s\r\n\r\nbody\r\n", "raw bytes")


def check_denied(server):
    before = len(server.captured())
    with connect(server) as smtp:
        smtp.mail(FROM)
        expect(smtp.rcpt("denied@example.com")[0], 250, "RCPT denied is accepted")
        expect(send_data(smtp, message(["denied@example.com"])), (554, b"5.7.1 Message refused"), "end of DATA")
        # The session stays usable.
        expect(smtp.rset()[0], 250, "RSET")
        smtp.mail(FROM)
        smtp.rcpt("fine@example.com")
        expect(send_data(smtp, message(["fine@example.com"]))[0], 250, "next message")
    captured = server.captured()
    expect(len(captured), before + 1, "only the second message captured")
    expect(captured[-1][1]["rcpt_to"], ["fine@example.com"], "rcpt_to")


def check_drop_smtplib(server):
    with connect(server) as smtp:
        smtp.mail(FROM)
        try:
            reply = smtp.rcpt("drop@example.com")
            raise AssertionError(f"expected a disconnect, got {reply!r}")
        except smtplib.SMTPServerDisconnected:
            pass


def check_drop_raw(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        f = sock.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise AssertionError("connection closed while waiting for a reply")
                if line[3:4] != b"-":
                    return line

        reply()
        for cmd, code in ((b"EHLO client.test", b"250"), (b"MAIL FROM:<a@b.test>", b"250"),
                          (b"RCPT TO:<ok@example.com>", b"250")):
            sock.sendall(cmd + b"\r\n")
            expect(reply()[:3], code, cmd.decode())
        sock.sendall(b"RCPT TO:<DropMe@example.com>\r\n")
        started = time.monotonic()
        try:
            rest = f.read()
        except ConnectionResetError:
            rest = b""
        expect(rest, b"", "bytes after RCPT TO drop")
        if time.monotonic() - started > 5:
            raise AssertionError("connection was not closed promptly")


def check_slow(server):
    before = len(server.captured())
    with connect(server) as smtp:
        smtp.mail(FROM)
        smtp.rcpt("SLOW.reader@example.com")
        started = time.monotonic()
        code, _ = send_data(smtp, message(["SLOW.reader@example.com"]))
        took = time.monotonic() - started
    expect(code, 250, "end of DATA")
    if not SLOW <= took < SLOW + 2:
        raise AssertionError(f"slow reply took {took:.2f}s, expected about {SLOW}s")
    expect(len(server.captured()), before + 1, "captured")
    with connect(server) as smtp:
        smtp.mail(FROM)
        smtp.rcpt("quick@example.com")
        started = time.monotonic()
        send_data(smtp, message(["quick@example.com"]))
        took = time.monotonic() - started
    if took >= SLOW:
        raise AssertionError(f"ordinary reply took {took:.2f}s")


def check_concurrent(server):
    before = len(server.captured())
    errors = []

    def one(i):
        try:
            to = [f"slow{i}@example.com"]
            with connect(server) as smtp:
                smtp.sendmail(FROM, to, message(to, f"message {i}\r\n"))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    took = time.monotonic() - started
    expect(errors, [], "errors")
    if took > SLOW * 4:
        raise AssertionError(f"16 slow sessions took {took:.2f}s: not served concurrently")
    captured = server.captured()[before:]
    expect(sorted(meta["rcpt_to"][0] for _, meta, _ in captured),
           sorted(f"slow{i}@example.com" for i in range(16)), "captured recipients")
    numbers = [n for n, _, _ in server.captured()]
    expect(numbers, list(range(1, len(numbers) + 1)), "file numbers")


CHECKS = [
    check_accepted_is_captured,
    check_tempfail,
    check_flaky,
    check_reject,
    check_rejected_recipient_left_out,
    check_denied,
    check_drop_smtplib,
    check_drop_raw,
    check_slow,
    check_concurrent,
]


def run_check(name, fn, results):
    try:
        fn()
        results.append(True)
        print(f"ok   {name}", flush=True)
    except Exception:
        results.append(False)
        print(f"FAIL {name}", flush=True)
        traceback.print_exc(file=sys.stdout)


def main():
    results = []
    with tempfile.TemporaryDirectory(prefix="scripted-smtp-") as capture_dir:
        try:
            server = Server(capture_dir)
        except Exception:
            traceback.print_exc(file=sys.stdout)
            print("0 passed, 1 failed")
            return 1
        try:
            for check in CHECKS:
                run_check(check.__name__, lambda check=check: check(server), results)
        finally:
            code = server.stop()

        def exits_cleanly():
            expect(code, 0, "exit status after SIGTERM")

        run_check("check_sigterm_exits_cleanly", exits_cleanly, results)

        # Numbering continues after files already in the directory.
        def restart_continues_numbering():
            again = Server(capture_dir)
            try:
                highest = server.captured()[-1][0]
                with connect(again) as smtp:
                    smtp.sendmail(FROM, ["late@example.com"], message(["late@example.com"]))
                n, meta, _ = again.captured()[-1]
                expect(n, highest + 1, "number of first capture after restart")
                expect(meta["rcpt_to"], ["late@example.com"], "rcpt_to")
                # flaky state is per server run
                with connect(again) as smtp:
                    smtp.mail(FROM)
                    expect(smtp.rcpt("flaky1@example.com")[0], 451, "flaky1 on a new server")
            finally:
                expect(again.stop(), 0, "exit status")

        run_check("check_restart_continues_numbering", restart_continues_numbering, results)

        stderr = server.proc.stderr.read()
        if "Traceback" in stderr or "ERROR" in stderr:
            print("server stderr:\n" + stderr)
            results.append(False)

    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
