#!/usr/bin/env bash
# Throughput benchmark: `outreach send-due` against Postfix's smtp-sink, compared with smtp-source
# pushing the same number of same-sized mails into the same sink.
#
# Usage: tests/bench/throughput.sh [N ...]          (default: 10000 100000)
# Env:   BENCH_CONCURRENCY  SMTP connections for both outreach (smtp.pool_size) and smtp-source (-s); default 8
#        OUTREACH_BIN       the binary; default target/release/outreach (built with cargo if missing)
#        BENCH_SOURCE_ARGS  extra smtp-source flags, e.g. "-d" to reuse connections as outreach's pool does
#        BENCH_KEEP=1       keep the temporary directories (printed at the end)
# Needs: /usr/sbin/smtp-sink, /usr/sbin/smtp-source (Debian package postfix), /usr/bin/time (package time),
#        python3 (free port), awk. Everything listens and connects on 127.0.0.1 only.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

CONCURRENCY=${BENCH_CONCURRENCY:-8}
STEP_TIMEOUT=1800
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source
if [[ $# -gt 0 ]]; then sizes=("$@"); else sizes=(10000 100000); fi
for n in "${sizes[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bad N: $n" >&2; exit 2; }
done

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for tool in "$SINK" "$SOURCE"; do
    [[ -x $tool ]] || die "$tool missing (apt-get install postfix)"
done
if [[ ! -x /usr/bin/time ]]; then
    log "installing GNU time"
    timeout "$STEP_TIMEOUT" apt-get install -y -qq time >/dev/null || die "cannot install /usr/bin/time"
fi

# ---------------------------------------------------------------- binary
if [[ -n ${OUTREACH_BIN:-} ]]; then
    bin=$OUTREACH_BIN
else
    bin=target/release/outreach
    if [[ ! -x $bin ]]; then
        log "building $bin"
        timeout "$STEP_TIMEOUT" cargo build --release
        bin=${CARGO_TARGET_DIR:-target}/release/outreach
    fi
fi
[[ -x $bin ]] || die "no executable at $bin"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# ---------------------------------------------------------------- cleanup
sink_pid=""
tmpdirs=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $sink_pid ]]; then
        kill "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" 2>/dev/null || true
    fi
    # Any other background job of this script (there should be none).
    local pids
    pids=$(jobs -p) || true
    [[ -n $pids ]] && kill $pids 2>/dev/null || true
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        [[ ${#tmpdirs[@]} -gt 0 ]] && log "kept: ${tmpdirs[*]}"
    else
        for d in "${tmpdirs[@]}"; do rm -rf "$d"; done
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_sink PORT LOGFILE: starts smtp-sink in the background, sets sink_pid, waits until it accepts.
start_sink() {
    local port=$1 out=$2 i
    "$SINK" -c -u root "127.0.0.1:$port" 1000 >"$out" 2>&1 &
    sink_pid=$!
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$sink_pid" 2>/dev/null; then
            cat "$out" >&2
            die "smtp-sink exited"
        fi
        if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    die "smtp-sink does not accept connections on 127.0.0.1:$port"
}

# check_sink WHAT: fails if smtp-sink is no longer running.
check_sink() {
    if ! kill -0 "$sink_pid" 2>/dev/null; then
        local rc=0
        wait "$sink_pid" || rc=$?
        sink_pid=""
        tr '\r' '\n' <"$dir/sink.out" | grep -v '^sess=' >&2 || true
        die "smtp-sink died during $1 (wait status $rc; last counters: $(tr '\r' '\n' <"$dir/sink.out" | tail -n 1))"
    fi
}

stop_sink() {
    if [[ -n $sink_pid ]]; then
        kill "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" 2>/dev/null || true
        sink_pid=""
    fi
}

# The service's environment for a working dir ($1); extra VAR=VALUE pairs follow.
# Runs COMMAND from inside the working dir, bounded by the step timeout.
# Usage: in_env DIR [VAR=VALUE ...] -- COMMAND ARGS...
in_env() {
    local dir=$1; shift
    local extra=()
    while [[ $1 != -- ]]; do extra+=("$1"); shift; done
    shift
    (
        cd "$dir"
        env OUTREACH_DATABASE__URL="sqlite://$dir/bench.db" \
            OUTREACH_TEMPLATES__DIR="$repo/templates/email" \
            OUTREACH_WEB__SIGNING_KEY=bench-signing-key-0123456789abcdef0123 \
            OUTREACH_DELIVERY__BATCH_SIZE=500 \
            OUTREACH_SMTP__POOL_SIZE="$CONCURRENCY" \
            OUTREACH_LOG=warn \
            "${extra[@]}" \
            timeout "$STEP_TIMEOUT" "$@"
    )
}

# Usage: ob DIR [VAR=VALUE ...] -- OUTREACH-ARGS...
ob() {
    local pre=()
    while [[ $1 != -- ]]; do pre+=("$1"); shift; done
    shift
    in_env "${pre[@]}" -- "$bin" "$@"
}

# members_csv N FILE
members_csv() {
    awk -v n="$1" 'BEGIN {
        print "email,company,contact_name,themes,locale"
        for (i = 1; i <= n; i++) printf "m%06d@bench.example,株式会社ベンチ%d,担当 %d,telework,ja\n", i, i, i
    }' >"$2"
}

# At least a minute ahead (2 minutes, truncated to the minute), in the configured zone: a one-time
# tick that is not yet due when send-due runs, so only the manual run of send-now is sent.
at_time() { TZ=Asia/Tokyo date -d '+2 minutes' +%Y-%m-%dT%H:%M; }

# start_run DIR [VAR=VALUE ...]: creates the campaign and starts its run now.
start_run() {
    local dir=$1; shift
    local id
    id=$(ob "$dir" "$@" -- campaign create --name bench --theme telework --channel newsletter --at "$(at_time)")
    [[ $id =~ ^[0-9]+$ ]] || die "campaign create printed: $id"
    ob "$dir" "$@" -- campaign send-now "$id" >&2
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------- size of one mail
log "outreach: $bin; concurrency $CONCURRENCY"
sizedir=$(mktemp -d /tmp/outreach-bench-size.XXXXXX)
tmpdirs+=("$sizedir")
file_env=(OUTREACH_DELIVERY__TRANSPORT=file "OUTREACH_DELIVERY__OUTBOX=$sizedir/outbox")
ob "$sizedir" "${file_env[@]}" -- init >/dev/null
members_csv 1 "$sizedir/one.csv"
ob "$sizedir" "${file_env[@]}" -- members import "$sizedir/one.csv" >/dev/null
start_run "$sizedir" "${file_env[@]}"
ob "$sizedir" "${file_env[@]}" -- send-due >&2
eml=$(find "$sizedir/outbox" -type f -name '*.eml' | head -n 1)
[[ -n $eml ]] || die "file transport wrote no .eml into $sizedir/outbox"
mail_size=$(stat -c %s "$eml")
log "one rendered mail: $mail_size bytes"

# ---------------------------------------------------------------- runs
rows=()
for n in "${sizes[@]}"; do
    log "===== N=$n"
    dir=$(mktemp -d /tmp/outreach-bench.XXXXXX)
    tmpdirs+=("$dir")
    port=$(free_port)
    start_sink "$port" "$dir/sink.out"
    log "smtp-sink on 127.0.0.1:$port (pid $sink_pid)"
    smtp_env=(OUTREACH_DELIVERY__TRANSPORT=smtp OUTREACH_WEB__ALLOW_HTTP=true OUTREACH_SMTP__HOST=127.0.0.1 "OUTREACH_SMTP__PORT=$port")

    ob "$dir" "${smtp_env[@]}" -- init >&2
    members_csv "$n" "$dir/members.csv"
    t0=$(now)
    ob "$dir" "${smtp_env[@]}" -- members import "$dir/members.csv" >&2
    t1=$(now)
    import_s=$(elapsed "$t0" "$t1")
    log "import of $n members: ${import_s}s"

    # What the import wrote is sealed first, as serve does within audit.seal_secs: send-due's own seal then
    # covers the mails it sent, which is the cost of sealing per mail.
    ob "$dir" "${smtp_env[@]}" -- audit seal >&2
    start_run "$dir" "${smtp_env[@]}"

    t0=$(now)
    in_env "$dir" "${smtp_env[@]}" -- /usr/bin/time -v -o "$dir/time.txt" "$bin" send-due >"$dir/send-due.out" 2>"$dir/send-due.err" \
        || { cat "$dir/send-due.out" "$dir/send-due.err" >&2; die "send-due failed (N=$n)"; }
    t1=$(now)
    send_s=$(elapsed "$t0" "$t1")
    cat "$dir/send-due.out" >&2
    check_sink "send-due"
    rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
    [[ -n $rss_kb ]] || die "no RSS in $dir/time.txt"
    if grep -q 'started:' "$dir/send-due.out"; then
        die "send-due fired a scheduled run as well (N=$n): the figure would not be for N mails"
    fi
    sent=$(ob "$dir" "${smtp_env[@]}" -- log list --status sent | wc -l)
    [[ $sent -eq $n ]] || die "N=$n but the log has $sent sent mails"
    log "send-due: $n mails in ${send_s}s, peak RSS $(mb "$rss_kb") MB"
    # send-due seals what it wrote into the audit log after sending, and says how long that took.
    seal_s=$(sed -n 's/^sealed [0-9]* entries into the audit log in \([0-9.]*\)s$/\1/p' "$dir/send-due.out")
    [[ -n $seal_s ]] || die "send-due did not say how long sealing took"
    t0=$(now)
    ob "$dir" "${smtp_env[@]}" -- audit verify >&2 || die "the audit log does not verify (N=$n)"
    t1=$(now)
    verify_s=$(elapsed "$t0" "$t1")
    log "sealing: ${seal_s}s; audit verify: ${verify_s}s"

    t0=$(now)
    # shellcheck disable=SC2086 # BENCH_SOURCE_ARGS is a list of flags
    timeout "$STEP_TIMEOUT" "$SOURCE" ${BENCH_SOURCE_ARGS:-} -s "$CONCURRENCY" -m "$n" -l "$mail_size" \
        -f bench@bench.example -t sink@bench.example "127.0.0.1:$port" \
        || die "smtp-source failed (N=$n)"
    t1=$(now)
    source_s=$(elapsed "$t0" "$t1")
    check_sink "smtp-source"
    log "smtp-source: $n mails in ${source_s}s"

    stop_sink
    # smtp-sink -c prints running counters "sess=.. quit=.. mesg=.." separated by carriage returns.
    sink_mesg=$(tr '\r' '\n' <"$dir/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1)
    [[ ${sink_mesg:-0} -eq $((2 * n)) ]] || die "smtp-sink counted ${sink_mesg:-0} messages, expected $((2 * n))"
    rows+=("$(awk -v n="$n" -v a="$send_s" -v b="$source_s" -v kb="$rss_kb" -v imp="$import_s" \
        -v seal="$seal_s" -v ver="$verify_s" 'BEGIN {
        o = n / a; s = n / b; u = n / (a - seal)
        printf "%-8d %16.1f %19.1f %8.3f %18.1f %9.1f%% %11.2f %14.1f %11.2f", n, o, s, o / s, u, 100 * seal / a, ver, kb / 1024, imp
    }')")
done

# ---------------------------------------------------------------- report
echo
echo "mail size $mail_size bytes, concurrency $CONCURRENCY, sink and clients on 127.0.0.1"
printf '%-8s %16s %19s %8s %18s %10s %11s %14s %11s\n' N "outreach mail/s" "smtp-source mail/s" ratio "without sealing/s" "sealing" "verify (s)" "peak RSS (MB)" "import (s)"
for r in "${rows[@]}"; do echo "$r"; done
echo "machine: $(nproc) cores, $(uname -r)"
