#!/usr/bin/python3
"""Soak test with crashes: three `outreach serve` instances on one PostgreSQL database.

Usage (from the repository root; tests/soak/run.sh does this):

    /usr/bin/python3 tests/soak/soak.py [--seconds 200] [--members 2000] [--kill-every 4]
                                        [--binary target/release/outreach] [--seed N] [--keep]

What it does:

1. Starts a capturing SMTP server (aiosmtpd, in this process, on 127.0.0.1 and a free port) that
   remembers, in memory, the RCPT TO addresses, the Message-ID and the arrival time of every accepted
   message. Creates a fresh PostgreSQL database (outreach_soak_<pid>) and a temporary data folder,
   runs `outreach init`, imports --members members (every one subscribed to `telework`, nine in ten
   also to `smooth-biz`), creates one every-minute cron campaign on `telework` and two one-time
   campaigns on `smooth-biz` at the next whole minute + 1 and + 2 (Asia/Tokyo).
2. Starts three `outreach serve` processes in the same second. Until --seconds have elapsed (and at
   least until both one-time campaigns have fired), every --kill-every seconds (+/- a third; a kill
   that would come after a minute boundary comes 0.3-3 s after it instead, so that every run sees a
   crash mid-delivery) one of them, picked at random, is killed: `kill -9` (about 80 %) or SIGTERM
   (the script waits for a clean exit, status 0). The killed process is restarted at once. Right after a `kill -9` the script asks
   the database which deliveries the dead instance held (status `sending`, lease owner = its instance);
   those are the ones another instance must take over.
3. Stops every serve with SIGTERM, then runs `outreach send-due --wait`, which must exit 0.
4. Checks, each failure printed and counted (exit status 1 when any failed):
   - one run per tick: no campaign has two runs for the same tick; the cron campaign's ticks are
     consecutive whole minutes from the first minute after it was created to the last minute before
     the serves were stopped (no boundary lost while an instance was down); each one-time campaign has
     exactly one run, for its time;
   - every recipient of every run received its mail: every run is `done` with sent == audience and
     nothing failed, waiting or not sent; the recipients with a `sent` row in the send log are exactly
     the expected audience of the run's theme; every (recipient, Message-ID) of a `sent` row arrived;
   - the send log lists every mail that arrived: every captured (recipient, Message-ID) has a `sent`
     row with that recipient and Message-ID;
   - duplicates (a second capture of the same recipient and Message-ID): the first copy of each came
     from a process killed with `kill -9` (every serve says its own EHLO name, serve<N>.soak, so each
     capture names its sender), at most pool_size per kill, so at most pool_size x kills in all;
     SIGTERM and normal operation cause none; no recipient got two different Message-IDs in one run;
   - no serve exited by itself, every SIGTERMed serve exited with status 0, and no serve panicked
     (ERROR lines of the serves' logs are printed, not failed on: the service recovers from them).
5. Prints the kills, mails, duplicates, the longest time from a `kill -9` until mail flowed again and
   the longest time until the first mail of a delivery the dead instance held arrived (its takeover),
   then `soak: ok` on success.

Child processes are always stopped and the database dropped (unless --keep) on the way out.
Needs python3-aiosmtpd (Debian) and psql; the PostgreSQL server is taken from OUTREACH_TEST_POSTGRES_URL
(default postgres://postgres@127.0.0.1:5432/test).
"""

import argparse
import csv
import datetime
import email.parser
import email.policy
import io
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

try:
    from aiosmtpd.controller import Controller
except ImportError:
    print(
        "soak: the Python module aiosmtpd is missing; install it with "
        "`apt-get install -y python3-aiosmtpd` and run with /usr/bin/python3",
        file=sys.stderr,
    )
    sys.exit(2)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"
TOKYO = ZoneInfo("Asia/Tokyo")

# The service's settings for the soak (passed as OUTREACH_* environment variables, see Outreach).
POOL_SIZE = 4
SIGNING_KEY = "soak-signing-key-0123456789abcdef0123456789"
HEARTBEAT_SECS = 1
INSTANCE_TIMEOUT_SECS = 4
# Slow enough that a run of a few thousand mails lasts several kill intervals.
RATE_PER_SECOND = 100
SERVES = 3
# How long a SIGTERMed serve may take to exit (the service's shutdown grace is 30 s).
TERM_WAIT_SECS = 45
# After a `kill -9`, mails of the dead instance's deliveries that arrive within this long are its own
# last in-flight mails, not a takeover (a takeover needs instance_timeout_secs of silence first).
IN_FLIGHT_SECS = 1.0
# How long the soak runs on after the last one-time campaign's time, so that serves send it.
AFTER_LAST_ONE_TIME_SECS = 20

ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
MESSAGE_ID_RE = re.compile(r"^<outreach\.(\d+)\.(\d+)\.([^@>]+)@[^>]+>$")
RUN_LINE_RE = re.compile(
    r"^run (\d+) for (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \S+ \(([\w-]+)\): (\S+) — (\d+) recipients, "
    r"sent (\d+), failed (\d+), waiting (\d+), not sent (\d+)$"
)


# The script's start: progress lines and failure messages give times relative to it.
T0 = time.monotonic()


def log(msg):
    """A progress line with the time since the script started."""
    print(f"[soak {time.monotonic() - T0:7.1f}s] {msg}", flush=True)


# ----------------------------------------------------------------------------- capturing SMTP server


@dataclass
class Capture:
    """One accepted message, as one recipient saw it."""

    at: float  # time.monotonic() on arrival
    recipient: str
    message_id: str
    sender: str  # the EHLO name: which process sent it (each gets its own, see Outreach.spawn_serve)


class CaptureHandler:
    """aiosmtpd handler: accepts every message and remembers (recipient, Message-ID, arrival time, EHLO name).

    handle_DATA runs on the controller's event-loop thread; the main thread reads under the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.captures = []  # [Capture], in arrival order
        self.parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        header = self.parser.parsebytes(content).get("Message-ID", "")
        message_id = "".join(str(header).split())  # unfolded, no whitespace
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.captures.append(Capture(now, rcpt.lower(), message_id, (session.host_name or "").lower()))
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.captures)

    def snapshot(self):
        with self.lock:
            return list(self.captures)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- database and binary


class Postgres:
    """psql against the soak's own database (created and dropped here)."""

    def __init__(self, base_url, db_name):
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("postgres", "postgresql"):
            raise SystemExit(f"soak: not a postgres:// URL: {base_url}")
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 5432
        self.user = urllib.parse.unquote(url.username or "postgres")
        self.password = urllib.parse.unquote(url.password) if url.password else None
        self.admin_db = url.path.lstrip("/") or "postgres"
        self.db_name = db_name
        auth = urllib.parse.quote(self.user)
        if self.password:
            auth += ":" + urllib.parse.quote(self.password)
        self.url = f"postgres://{auth}@{self.host}:{self.port}/{db_name}"

    def psql(self, sql, db=None):
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        out = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port),
             "-U", self.user, "-d", db or self.db_name, "-c", sql],
            env=env, capture_output=True, text=True, timeout=60,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed ({sql}): {out.stderr.strip()}")
        return out.stdout

    def create(self):
        self.psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)', db=self.admin_db)
        self.psql(f'CREATE DATABASE "{self.db_name}"', db=self.admin_db)

    def drop(self):
        self.psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)', db=self.admin_db)


class Outreach:
    """Runs the binary with the soak's environment."""

    def __init__(self, binary, workdir, db_url, smtp_port):
        self.binary = binary
        self.workdir = workdir
        self.serial = 0
        self.processes = {}  # EHLO label -> Popen of every serve started
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "OUTREACH_LOG": "warn",
            "OUTREACH_DATABASE__URL": db_url,
            "OUTREACH_DATA_DIR": os.path.join(workdir, "data"),
            "OUTREACH_DELIVERY__TRANSPORT": "smtp",
            "OUTREACH_WEB__ALLOW_HTTP": "true",
            "OUTREACH_WEB__BIND": "127.0.0.1:0",
            "OUTREACH_SMTP__HOST": "127.0.0.1",
            "OUTREACH_SMTP__PORT": str(smtp_port),
            "OUTREACH_SMTP__POOL_SIZE": str(POOL_SIZE),
            "OUTREACH_SMTP__TIMEOUT_SECS": "5",
            "OUTREACH_WEB__SIGNING_KEY": SIGNING_KEY,
            "OUTREACH_DELIVERY__HEARTBEAT_SECS": str(HEARTBEAT_SECS),
            "OUTREACH_DELIVERY__INSTANCE_TIMEOUT_SECS": str(INSTANCE_TIMEOUT_SECS),
            "OUTREACH_DELIVERY__RATE_PER_SECOND": str(RATE_PER_SECOND),
            "OUTREACH_DELIVERY__FAILURE_MIN_SAMPLE": "1000000",
        }

    def run(self, *args, timeout=120, hello="cli.soak"):
        """Runs one command to its end; returns its stdout, raises on a non-zero exit."""
        env = dict(self.env, OUTREACH_SMTP__HELLO_NAME=hello)
        out = subprocess.run([self.binary, *args], cwd=self.workdir, env=env,
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"`outreach {' '.join(args)}` exited with {out.returncode}:\n"
                               f"{out.stdout}{out.stderr}")
        return out.stdout

    def spawn_serve(self, log_path, slot):
        """Starts `outreach serve` in the background, its output (log level info) into log_path.

        Each process gets its own EHLO name (serve<N>.soak, N counting the processes started), so the
        capture server knows which process sent each mail: a duplicate's first copy names the process
        whose end caused it. The Popen carries it as .label, and .slot and .fate (what became of it)."""
        self.serial += 1
        label = f"serve{self.serial}.soak"
        env = dict(self.env, OUTREACH_LOG="info", OUTREACH_SMTP__HELLO_NAME=label)
        with open(log_path, "ab") as f:
            f.write(f"\n===== {label} started at {datetime.datetime.now().isoformat()}\n".encode())
            f.flush()
            p = subprocess.Popen([self.binary, "serve"], cwd=self.workdir, env=env,
                                 stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
        p.label, p.slot, p.fate = label, slot, "running"
        self.processes[label] = p
        return p


# ----------------------------------------------------------------------------- bookkeeping


@dataclass
class Kill:
    at: float  # time.monotonic() of the signal
    slot: int
    pid: int
    label: str  # the process's EHLO name
    sig: str  # "kill -9" or "SIGTERM"
    mails_before: int  # captures when the signal was sent
    instance: str = ""  # the dead instance's id (kill -9 only)
    held: set = field(default_factory=set)  # delivery ids it held when it died (kill -9 only)
    exit_status: int = None
    flow_s: float = None  # kill -> next mail of anybody
    takeover_s: float = None  # kill -> first mail of a delivery it held
    duplicates: int = 0


class Failures:
    def __init__(self):
        self.messages = []

    def fail(self, msg):
        self.messages.append(msg)
        print(f"soak: CHECK FAILED: {msg}", flush=True)


def whole_minute_after(t):
    """The first whole minute strictly after the aware datetime t."""
    floor = t.replace(second=0, microsecond=0)
    return floor + datetime.timedelta(minutes=1)


def tail(path, lines=8):
    """The last lines of a serve's log, without colour codes, indented."""
    try:
        with open(path, "rb") as f:
            text = ANSI_RE.sub("", f.read().decode("utf-8", "replace"))
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:] if line.strip())


# ----------------------------------------------------------------------------- the soak


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=200, help="how long the serves run and get killed")
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--kill-every", type=float, default=4.0, help="mean seconds between kills")
    ap.add_argument("--binary", default=os.path.join(REPO_ROOT, "target/release/outreach"))
    ap.add_argument("--seed", type=int, default=None, help="random seed (printed; default: from the clock)")
    ap.add_argument("--keep", action="store_true", help="keep the database and the temporary folder")
    args = ap.parse_args()

    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        print(f"soak: no executable binary at {binary} (cargo build --release)", file=sys.stderr)
        return 2
    if shutil.which("psql") is None:
        print("soak: psql is missing", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)

    # A SIGTERM to the script unwinds through the finally blocks like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    pg = Postgres(os.environ.get("OUTREACH_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
                  f"outreach_soak_{os.getpid()}")
    workdir = tempfile.mkdtemp(prefix="outreach-soak-")
    handler = CaptureHandler()
    smtp_port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    serves = [None] * SERVES  # slot -> Popen
    db_created = False
    try:
        controller.start()
        log(f"capturing SMTP server on 127.0.0.1:{smtp_port}; binary {binary}; seed {seed}; "
            f"folder {workdir}")
        pg.create()
        db_created = True
        log(f"database {pg.url}")
        app = Outreach(binary, workdir, pg.url, smtp_port)
        return soak(args, rng, pg, app, handler, serves, workdir)
    finally:
        # Whatever happened: no serve of ours outlives the script.
        for p in serves:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        controller.stop()
        if args.keep:
            print(f"soak: kept the database {pg.url} and the folder {workdir}")
        else:
            if db_created:
                try:
                    pg.drop()
                except Exception as e:  # noqa: BLE001 - cleanup must not hide the result
                    print(f"soak: could not drop {pg.db_name}: {e}", file=sys.stderr)
            shutil.rmtree(workdir, ignore_errors=True)


def soak(args, rng, pg, app, handler, serves, workdir):
    failures = Failures()

    # ---- 1. schema, members, campaigns
    app.run("init")
    members_csv = os.path.join(workdir, "members.csv")
    telework, smooth = set(), set()
    with open(members_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["email", "company", "contact_name", "themes", "locale"])
        for i in range(1, args.members + 1):
            addr = f"m{i:04d}@soak.example"
            # Every member reads telework; nine in ten smooth-biz as well (so audiences differ).
            themes = "telework" if i % 10 == 0 else "telework;smooth-biz"
            telework.add(addr)
            if "smooth-biz" in themes:
                smooth.add(addr)
            w.writerow([addr, "株式会社ソーク", f"担当 {i}", themes, "ja"])
    log(app.run("members", "import", members_csv).strip())
    audience_by_theme = {"telework": telework, "smooth-biz": smooth}

    cron_created = datetime.datetime.now(TOKYO)
    cron_id = int(app.run("campaign", "create", "--name", "soak cron", "--theme", "telework",
                          "--channel", "newsletter", "--cron", "* * * * *").strip())
    cron_created_end = datetime.datetime.now(TOKYO)
    first_minute = whole_minute_after(datetime.datetime.now(TOKYO))
    one_time = {}  # campaign id -> its tick (aware datetime)
    for k in (1, 2):
        at = first_minute + datetime.timedelta(minutes=k)
        cid = int(app.run("campaign", "create", "--name", f"soak once {k}", "--theme", "smooth-biz",
                          "--channel", "newsletter", "--at", at.strftime("%Y-%m-%dT%H:%M")).strip())
        one_time[cid] = at
    theme_of = {cron_id: "telework", **{cid: "smooth-biz" for cid in one_time}}
    log(f"campaigns: {cron_id} every minute (telework, {len(telework)} members); "
        + "; ".join(f"{cid} once at {at:%H:%M} JST (smooth-biz, {len(smooth)} members)"
                    for cid, at in one_time.items()))

    # ---- 2. three serves, killed and restarted
    logs = [os.path.join(workdir, f"serve-{slot}.log") for slot in range(SERVES)]
    for slot in range(SERVES):
        serves[slot] = app.spawn_serve(logs[slot], slot)
    log("serves started: " + ", ".join(f"#{s} pid {p.pid}" for s, p in enumerate(serves)))

    start = time.monotonic()
    last_once = max(one_time.values())
    end = max(start + args.seconds,
              time.monotonic() + (last_once - datetime.datetime.now(TOKYO)).total_seconds()
              + AFTER_LAST_ONE_TIME_SECS)
    if end > start + args.seconds + 0.5:
        log(f"running {end - start:.0f} s rather than {args.seconds} s, so both one-time campaigns fire")
    kills = []

    def check_serves():
        """A serve that exited by itself is a failure; it is restarted."""
        for slot, p in enumerate(serves):
            if p.poll() is not None:
                p.fate = f"exited by itself with status {p.returncode} (noticed at {time.monotonic() - T0:.1f} s)"
                failures.fail(f"serve #{slot} (pid {p.pid}, {p.label}) {p.fate}; its log ends with:\n"
                              f"{tail(logs[slot])}")
                serves[slot] = app.spawn_serve(logs[slot], slot)
                log(f"restarted serve #{slot} as pid {serves[slot].pid}")

    def plan_next_kill(now):
        """The next kill: --kill-every seconds (+/- a third) from now, except that a minute boundary
        in between (when the scheduler fires runs) moves it to 0.3-3 s after that boundary, so that
        every run sees at least one crash while its deliveries are being claimed and sent."""
        at = now + args.kill_every * rng.uniform(0.67, 1.33)
        to_boundary = 60.0 - time.time() % 60.0  # Asia/Tokyo minutes begin with UTC's
        if now + to_boundary < at:
            at = now + to_boundary + rng.uniform(0.3, 3.0)
        return at

    next_kill = plan_next_kill(start)
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now < next_kill:
            time.sleep(min(0.2, next_kill - now, end - now))
            check_serves()
            continue
        check_serves()  # never mistake a serve that exited by itself for one killed here
        slot = rng.randrange(SERVES)
        p = serves[slot]
        sig9 = rng.random() < 0.8
        kill = Kill(at=time.monotonic(), slot=slot, pid=p.pid, label=p.label,
                    sig="kill -9" if sig9 else "SIGTERM", mails_before=handler.count())
        p.fate = kill.sig
        if sig9:
            p.send_signal(signal.SIGKILL)
            kill.exit_status = p.wait()
            # The dead instance's leases are still in the database until a claim takes them over
            # (instance_timeout_secs after its last heartbeat): these are the deliveries it held.
            rows = pg.psql(
                "SELECT i.id, d.id FROM instances i LEFT JOIN deliveries d "
                "ON d.lease_owner = i.id AND d.status = 'sending' "
                f"WHERE i.id = (SELECT id FROM instances WHERE pid = {p.pid} AND role = 'serve' "
                "ORDER BY started_at DESC LIMIT 1)").split()
            for row in rows:
                inst, _, delivery = row.partition("|")
                kill.instance = inst
                if delivery:
                    kill.held.add(int(delivery))
        else:
            p.send_signal(signal.SIGTERM)
            try:
                kill.exit_status = p.wait(timeout=TERM_WAIT_SECS)
            except subprocess.TimeoutExpired:
                p.kill()
                kill.exit_status = p.wait()
                failures.fail(f"serve #{slot} (pid {p.pid}) did not exit within {TERM_WAIT_SECS} s of SIGTERM")
            if kill.exit_status != 0:
                failures.fail(f"serve #{slot} (pid {p.pid}) exited with status {kill.exit_status} after "
                              f"SIGTERM; its log ends with:\n{tail(logs[slot])}")
        serves[slot] = app.spawn_serve(logs[slot], slot)
        kills.append(kill)
        held = (f", {kill.instance or 'not registered yet'} held {len(kill.held)} deliveries"
                if sig9 else f", exit status {kill.exit_status}")
        log(f"{kill.sig} serve #{slot} (pid {kill.pid}, {kill.label}{held}); {kill.mails_before} mails so far; "
            f"restarted as pid {serves[slot].pid}")
        next_kill = plan_next_kill(time.monotonic())
        check_serves()

    # ---- 3. stop, finish the queue
    stop_wall = datetime.datetime.now(TOKYO)
    check_serves()  # one that exited by itself just now is reported as such, not as stopped
    for slot, p in enumerate(serves):
        p.fate = "SIGTERM at the end"
        p.send_signal(signal.SIGTERM)
    for slot, p in enumerate(serves):
        try:
            status = p.wait(timeout=TERM_WAIT_SECS)
        except subprocess.TimeoutExpired:
            p.kill()
            status = p.wait()
            failures.fail(f"serve #{slot} (pid {p.pid}, {p.label}) did not exit within {TERM_WAIT_SECS} s "
                          "of SIGTERM")
        if status != 0:
            failures.fail(f"serve #{slot} (pid {p.pid}, {p.label}) exited with status {status} at the end; "
                          f"its log ends with:\n{tail(logs[slot])}")
    soak_secs = time.monotonic() - start
    log(f"serves stopped after {soak_secs:.0f} s; {handler.count()} mails so far; send-due --wait")
    try:
        out = app.run("send-due", "--wait", timeout=600, hello="send-due.soak")
        log("send-due: " + " / ".join(out.strip().splitlines()))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        failures.fail(f"send-due --wait did not succeed: {e}")
    send_due_end = datetime.datetime.now(TOKYO)
    time.sleep(2)  # the last replies reach the capture server

    # ---- 4. checks
    captures = handler.snapshot()
    sent_rows, other_outcomes = read_log(app)
    runs = read_runs(app, [cron_id, *one_time])
    check_ticks(failures, runs, cron_id, one_time, cron_created, cron_created_end, stop_wall, send_due_end)
    check_recipients(failures, runs, theme_of, audience_by_theme, sent_rows, captures)
    check_log_lists_captures(failures, sent_rows, captures)
    dup_total = check_duplicates(failures, captures, kills, app.processes)
    measure_takeovers(kills, captures)
    scan_serve_logs(failures, logs)
    audit_summary = check_audit_log(failures, app, pg)
    if other_outcomes:
        log("send log outcomes other than sent: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(other_outcomes.items())))

    # ---- 5. summary
    kill9 = [k for k in kills if k.sig == "kill -9"]
    holding = [k for k in kill9 if k.held]
    flows = [k.flow_s for k in holding if k.flow_s is not None]
    takeovers = [k.takeover_s for k in holding if k.takeover_s is not None]
    for k in kill9:
        if not (k.held or k.duplicates):
            continue
        log(f"kill -9 at {k.at - T0:6.1f} s of {k.instance} ({k.label}): held {len(k.held)}, "
            f"mail flowed again after {fmt_s(k.flow_s)}, first taken-over mail after {fmt_s(k.takeover_s)}, "
            f"duplicates {k.duplicates}")
    for run_id in sorted(runs):
        r = runs[run_id]
        log(f"run {run_id} of campaign {r['campaign']} for {r['tick']:%H:%M:%S} ({r['trigger']}): {r['status']}, "
            f"{r['sent']}/{r['audience']} sent")
    print(
        f"soak: {soak_secs:.0f} s, kills: {len(kills)} ({len(kill9)} kill -9, {len(kills) - len(kill9)} SIGTERM; "
        f"{len(holding)} kill -9 while holding deliveries), runs: {len(runs)}, mails captured: {len(captures)}, "
        f"duplicates: {dup_total} (bound {POOL_SIZE * len(kill9)}), "
        f"longest kill→mail-flows-again: {fmt_s(max(flows) if flows else None)}, "
        f"longest kill→taken-over mail: {fmt_s(max(takeovers) if takeovers else None)}, "
        f"audit log: {audit_summary}",
        flush=True,
    )
    if failures.messages:
        print(f"soak: FAILED ({len(failures.messages)} check(s)); serve logs in {workdir}"
              + ("" if args.keep else " (removed; rerun with --keep to keep them)"))
        return 1
    print("soak: ok")
    return 0


def fmt_s(v):
    return "n/a" if v is None else f"{v:.1f} s"


# ----------------------------------------------------------------------------- reading the results


def read_log(app):
    """The send log's `sent` rows, and a count of the other outcomes."""
    text = app.run("log", "export", "--format", "csv", timeout=300)
    sent, other = [], Counter()
    for row in csv.DictReader(io.StringIO(text)):
        if row["outcome"] == "sent":
            row["recipient"] = row["recipient"].lower()
            sent.append(row)
        else:
            other[row["outcome"]] += 1
    return sent, other


def read_runs(app, campaign_ids):
    """run id -> {campaign, tick (aware datetime), trigger, status, audience, sent, failed, waiting, not_sent}."""
    runs = {}
    for cid in campaign_ids:
        for line in app.run("campaign", "show", str(cid)).splitlines():
            if not line.startswith("run "):
                continue
            m = RUN_LINE_RE.match(line)
            if not m:
                raise RuntimeError(f"cannot read this line of `campaign show {cid}`: {line}")
            rid, tick, trigger, status, audience, sent, failed, waiting, not_sent = m.groups()
            runs[int(rid)] = dict(
                campaign=cid,
                tick=datetime.datetime.strptime(tick, "%Y-%m-%d %H:%M:%S").replace(tzinfo=TOKYO),
                trigger=trigger, status=status, audience=int(audience), sent=int(sent),
                failed=int(failed), waiting=int(waiting), not_sent=int(not_sent), line=line,
            )
    return runs


# ----------------------------------------------------------------------------- checks


def check_ticks(failures, runs, cron_id, one_time, created, created_end, stop_wall, send_due_end):
    """One run per tick; the cron campaign fired every whole minute of the soak once."""
    by_campaign = defaultdict(list)
    for r in runs.values():
        by_campaign[r["campaign"]].append(r)
    for cid, rs in by_campaign.items():
        ticks = Counter(r["tick"] for r in rs)
        for tick, n in ticks.items():
            if n > 1:
                failures.fail(f"campaign {cid} has {n} runs for the tick {tick:%Y-%m-%d %H:%M:%S}")

    cron = sorted({r["tick"] for r in by_campaign[cron_id]})
    if not cron:
        failures.fail(f"the cron campaign {cron_id} never fired")
    else:
        for t in cron:
            if t.second or t.microsecond:
                failures.fail(f"the cron campaign {cron_id} has a run for {t:%H:%M:%S}, not a whole minute")
        for a, b in zip(cron, cron[1:]):
            if b - a != datetime.timedelta(minutes=1):
                failures.fail(f"the cron campaign {cron_id} has no run between {a:%H:%M} and {b:%H:%M}")
        # The first boundary after the campaign was created (the creation may straddle one) ...
        if cron[0] > whole_minute_after(created_end) or cron[0] <= created.replace(second=0, microsecond=0):
            failures.fail(f"the cron campaign {cron_id} first fired for {cron[0]:%H:%M}; it was created at "
                          f"{created:%H:%M:%S}")
        # ... to the last boundary before the serves stopped (send-due fires one that was due then).
        last_due = stop_wall.replace(second=0, microsecond=0)
        if cron[-1] < last_due or cron[-1] > send_due_end:
            failures.fail(f"the cron campaign {cron_id} last fired for {cron[-1]:%H:%M}; the serves stopped "
                          f"at {stop_wall:%H:%M:%S}, so the last tick is {last_due:%H:%M}")
    for cid, at in one_time.items():
        ticks = [r["tick"] for r in by_campaign[cid]]
        if ticks != [at]:
            failures.fail(f"the one-time campaign {cid} (at {at:%H:%M}) has runs for "
                          f"{[f'{t:%H:%M:%S}' for t in ticks]}, expected exactly one for {at:%H:%M:%S}")


def check_recipients(failures, runs, theme_of, audience_by_theme, sent_rows, captures):
    """Every run is done and every recipient of its audience got its mail, which arrived."""
    sent_by_run = defaultdict(set)
    for row in sent_rows:
        sent_by_run[int(row["run_id"])].add(row["recipient"])
    for rid in sorted(set(sent_by_run) - set(runs)):
        failures.fail(f"the send log has sent rows for run {rid}, which no campaign lists")
    for rid, r in sorted(runs.items()):
        expected = audience_by_theme[theme_of[r["campaign"]]]
        if not (r["status"] == "done" and r["sent"] == r["audience"] == len(expected)
                and r["failed"] == r["waiting"] == r["not_sent"] == 0):
            failures.fail(f"run {rid} is not complete (expected {len(expected)} recipients, all sent): {r['line']}")
        got = sent_by_run.get(rid, set())
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            failures.fail(f"run {rid}: {len(missing)} of its audience have no sent row in the log "
                          f"(e.g. {missing[:5]}), {len(extra)} outside it do (e.g. {extra[:5]})")
    captured = {(c.recipient, c.message_id) for c in captures}
    lost = [(row["recipient"], row["message_id"]) for row in sent_rows
            if (row["recipient"], row["message_id"]) not in captured]
    if lost:
        failures.fail(f"{len(lost)} mails logged as sent never arrived, e.g. {lost[:5]}")


def check_log_lists_captures(failures, sent_rows, captures):
    """Every mail that arrived has a sent row with its recipient and Message-ID."""
    logged = {(row["recipient"], row["message_id"]) for row in sent_rows}
    unlisted = sorted({(c.recipient, c.message_id) for c in captures} - logged)
    if unlisted:
        failures.fail(f"{len(unlisted)} mails arrived that the send log does not list as sent, e.g. {unlisted[:5]}")
    unparsed = sorted({c.message_id for c in captures if not MESSAGE_ID_RE.match(c.message_id)})
    if unparsed:
        failures.fail(f"{len(unparsed)} mails arrived with an unexpected Message-ID, e.g. {unparsed[:5]}")


def check_duplicates(failures, captures, kills, processes):
    """Counts duplicates, attributes each to the kill -9 that caused it, checks the bounds; returns the total.

    The first copy of a duplicate names (by its EHLO name) the process that sent it and then did not
    record it: that process must be one killed with kill -9, and no kill may cause more than pool_size."""
    first = {}
    duplicates = []  # (capture, first copy)
    ids_by_run_recipient = defaultdict(set)
    for c in sorted(captures, key=lambda c: c.at):
        key = (c.recipient, c.message_id)
        if key in first:
            duplicates.append((c, first[key]))
        else:
            first[key] = c
        m = MESSAGE_ID_RE.match(c.message_id)
        if m:
            ids_by_run_recipient[(int(m.group(1)), c.recipient)].add(c.message_id)
    for (run_id, rcpt), ids in sorted(ids_by_run_recipient.items()):
        if len(ids) > 1:
            failures.fail(f"{rcpt} got {len(ids)} different Message-IDs in run {run_id}: {sorted(ids)}")

    kill9 = {k.label: k for k in kills if k.sig == "kill -9"}
    unexplained = defaultdict(list)  # sender of the first copy -> [(duplicate, first copy)]
    for dup, orig in duplicates:
        k = kill9.get(orig.sender)
        if k is None:
            unexplained[orig.sender].append((dup, orig))
        else:
            k.duplicates += 1
    for sender, pairs in sorted(unexplained.items()):
        p = processes.get(sender)
        who = (f"serve #{p.slot} (pid {p.pid}, {sender}), whose fate: {p.fate}" if p is not None
               else f"the process that said EHLO {sender!r}")
        lines = [f"    {dup.recipient} got {dup.message_id} at {orig.at - T0:.1f} s and again at "
                 f"{dup.at - T0:.1f} s (from {dup.sender})" for dup, orig in pairs]
        failures.fail(f"{len(pairs)} duplicates whose first copy came from {who}; only a kill -9 may cause "
                      f"duplicates (SIGTERM and normal operation none):\n" + "\n".join(lines))
    for k in kill9.values():
        if k.duplicates > POOL_SIZE:
            failures.fail(f"the kill -9 of {k.instance} (pid {k.pid}, {k.label}) caused {k.duplicates} "
                          f"duplicates, more than pool_size = {POOL_SIZE}")
    if len(duplicates) > POOL_SIZE * len(kill9):
        failures.fail(f"{len(duplicates)} duplicates, more than pool_size x kill -9 = {POOL_SIZE * len(kill9)}")
    return len(duplicates)


def check_audit_log(failures, app, pg):
    """The serves sealed while they were killed and restarted: once what they left is sealed, the verifiable
    log holds every send-log row, action and consent change exactly once and `audit verify` says OK."""
    try:
        app.run("audit", "seal")
        said = app.run("audit", "verify", timeout=600).strip()
    except RuntimeError as e:
        failures.fail(f"the audit log does not verify: {e}")
        return "FAILED"
    rows = int(pg.psql("SELECT (SELECT COUNT(*) FROM send_log) + (SELECT COUNT(*) FROM actions) "
                       "+ (SELECT COUNT(*) FROM member_events)").strip())
    leaves = int(pg.psql("SELECT COUNT(*) FROM audit_leaves").strip())
    if not said.startswith(f"OK {rows} ") or leaves != rows:
        failures.fail(f"the audit log holds {leaves} leaves for {rows} logged rows: {said}")
    return said.split(" (")[0]


def scan_serve_logs(failures, logs):
    """A panic in a serve is a failure; ERROR lines are reported (a serve recovers from them)."""
    errors = Counter()
    for path in logs:
        with open(path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                line = ANSI_RE.sub("", line)
                if "panicked" in line:
                    failures.fail(f"a serve panicked ({os.path.basename(path)}): {line}")
                elif " ERROR " in line:
                    # The message without its timestamp, for counting alike lines together.
                    errors[line.split(" ERROR ", 1)[1][:300]] += 1
    for msg, n in errors.most_common():
        log(f"serve logs: {n} x ERROR {msg}")


def measure_takeovers(kills, captures):
    """For each kill -9 of an instance that held deliveries: the time until the next mail arrived, and
    until the first mail of one of the deliveries it held arrived after its own in-flight mails."""
    ordered = sorted(captures, key=lambda c: c.at)
    for k in kills:
        if k.sig != "kill -9" or not k.held:
            continue
        for c in ordered:
            if c.at > k.at and k.flow_s is None:
                k.flow_s = c.at - k.at
            if c.at > k.at + IN_FLIGHT_SECS:
                m = MESSAGE_ID_RE.match(c.message_id)
                if m and int(m.group(2)) in k.held:
                    k.takeover_s = c.at - k.at
                    break


if __name__ == "__main__":
    sys.exit(main())
