#!/usr/bin/env bash
# The auditor's send-log page over 1,000,000 log rows (not a test): generates the rows in the database, signs in
# as an auditor and times filtered queries of /audit/log with curl on 127.0.0.1 (median of 5), on SQLite and on
# PostgreSQL; `GET /healthz` of the same server is the yardstick. The aim is under 100 ms per page.
#
# Usage: tests/bench/send_log.sh [sqlite] [postgres]        (default: both)
# Env:   OUTREACH_BIN    the binary (default: target/release/outreach, built first)
#        BENCH_POSTGRES  admin URL of a PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test);
#                        the script makes and drops the database outreach_bench there.
# Needs: sqlite3, psql, curl. Takes a few minutes (most of it generating the rows).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
backends=("$@"); [ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)
admin=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
for tool in sqlite3 psql curl; do command -v "$tool" > /dev/null || { echo "$tool is missing" >&2; exit 2; }; done
if [ -z "${OUTREACH_BIN:-}" ]; then cargo build --release --quiet --bin outreach; fi
bin=${OUTREACH_BIN:-$repo/target/release/outreach}
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export OUTREACH_LOG=warn OUTREACH_WEB__BIND=127.0.0.1:0 OUTREACH_WEB__SIGNING_KEY=bench-signing-key-0123456789abcdef0123456789

# The generator SQL for one backend: :series(x, a, b) becomes its row generator, :overriding its identity clause.
rows_sql() {
    case $1 in
        sqlite) sed -E -e 's/:series\(([a-z]), ([0-9]+), ([0-9]+)\)/(SELECT value AS \1 FROM generate_series(\2, \3)) AS s/g' \
                       -e 's/ :overriding//' "$repo/tests/bench/send_log_rows.sql" ;;
        postgres) sed -E -e 's/:series\(([a-z]), ([0-9]+), ([0-9]+)\)/generate_series(\2, \3) AS s(\1)/g' \
                         -e 's/:overriding/OVERRIDING SYSTEM VALUE/' "$repo/tests/bench/send_log_rows.sql" ;;
    esac
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for backend in "${backends[@]}"; do
    dir=$work/$backend; mkdir -p "$dir"; cd "$dir"
    case $backend in
        sqlite) url="sqlite://$dir/outreach.db" ;;
        postgres)
            psql -q "$admin" -c "DROP DATABASE IF EXISTS outreach_bench" -c "CREATE DATABASE outreach_bench"
            url="${admin%/*}/outreach_bench" ;;
        *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    export OUTREACH_DATABASE__URL=$url
    "$bin" init > /dev/null
    for theme in telework work-style-reform smooth-biz life-work-balance women-advancement; do
        "$bin" campaign create --name "bench $theme" --theme "$theme" --channel newsletter --cron "0 9 1 * *" > /dev/null
    done
    start=$(date +%s)
    # sql QUERY runs one statement; without it, standard input.
    case $backend in
        sqlite) sql() { sqlite3 -bail "$dir/outreach.db" "$@"; } ;;
        postgres) sql() { if [ $# -gt 0 ]; then psql -q -t -A -v ON_ERROR_STOP=1 "$url" -c "$1"; \
                          else psql -q -t -A -v ON_ERROR_STOP=1 "$url"; fi; } ;;
    esac
    rows_sql "$backend" > rows.sql
    sql < rows.sql
    sql "ANALYZE"
    rows=$(sql "SELECT COUNT(*) FROM send_log")
    [ "$rows" = 1000000 ] || { echo "$backend: $rows log rows instead of 1,000,000" >&2; exit 1; }
    echo "$backend: 1,000,000 log rows generated in $(( $(date +%s) - start )) s"
    printf 'a long enough passphrase\n' | "$bin" user add --role auditor audit@example.org --password-stdin > /dev/null
    "$bin" web > web.out 2> web.err &
    server=$!
    for _ in $(seq 100); do grep -q "^listening on" web.out && break; sleep 0.1; done
    base=$(sed -n 's|^listening on \(http://[^ ]*\).*|\1|p' web.out)
    [ -n "$base" ] || { cat web.err; exit 1; }
    curl -s -o /dev/null -c jar -d 'email=audit@example.org&password=a long enough passphrase' "$base/sign-in"
    printf '%-58s %9s\n' "$backend: GET" "median ms"
    for query in "/healthz" "/audit/log" "/audit/log?after=500000" "/audit/log?recipient=m4242@example.co.jp" \
        "/audit/log?campaign=3" "/audit/log?outcome=failed" "/audit/log?theme=smooth-biz&outcome=failed" \
        "/audit/log?channel=newsletter&after=900000" "/audit/log?from=2020-09-01&to=2020-09-30" \
        "/audit/log?recipient=m4242@example.co.jp&outcome=sent&from=2020-06-01&to=2021-03-31"; do
        status=$(curl -s -o page.html -w '%{http_code}' -b jar "$base$query")
        [ "$status" = 200 ] || { echo "$query answered $status" >&2; exit 1; }
        case $query in /audit/log*) grep -q "m[0-9]*@example.co.jp" page.html || { echo "$query shows no rows" >&2; exit 1; } ;; esac
        ms=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -b jar -w '%{time_total}\n' "$base$query"; done \
            | median | awk '{ printf "%.1f", $1 * 1000 }')
        printf '%-58s %9s\n' "$query" "$ms"
    done
    kill "$server"; wait "$server" 2>/dev/null || true; server=
    cd "$repo"
    [ "$backend" = postgres ] && psql -q "$admin" -c "DROP DATABASE outreach_bench"
done
