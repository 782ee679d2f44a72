#!/usr/bin/env bash
# Load check of the member pages (not a test): one-click unsubscribe POSTs per second for distinct members,
# with the server on one core, next to GETs of /healthz (a static 200 through the same layers) as the yardstick.
# The load generator (examples/web_load.rs) runs on the other core.
#
# Usage: tests/bench/web.sh [MEMBERS] [SECONDS] [CONCURRENCY]      (default: 20000 10 32)
# Needs: taskset (util-linux), cargo. SQLite in a temporary folder; everything on 127.0.0.1.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
members=${1:-20000} seconds=${2:-10} concurrency=${3:-32}
[[ $members =~ ^[1-9][0-9]*$ && $seconds =~ ^[1-9][0-9]*$ && $concurrency =~ ^[1-9][0-9]*$ ]] \
    || { echo "usage: $0 [MEMBERS] [SECONDS] [CONCURRENCY]" >&2; exit 2; }
cargo build --release --quiet --bin outreach --example web_load
bin=$repo/target/release/outreach load=$repo/target/release/examples/web_load
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
export OUTREACH_LOG=warn OUTREACH_WEB__SIGNING_KEY=bench-signing-key-0123456789abcdef0123456789
export OUTREACH_WEB__BIND=127.0.0.1:0
"$bin" init > /dev/null
{
    echo "email,company,contact_name,themes,locale"
    for i in $(seq 1 "$members"); do echo "m$i@example.co.jp,株式会社ベンチ,担当 $i,telework,ja"; done
} > members.csv
"$bin" members import members.csv > /dev/null
taskset -c 0 "$bin" web > web.out 2> web.err &
server=$!
for _ in $(seq 100); do grep -q "^listening on" web.out && break; sleep 0.1; done
address=$(sed -n 's|^listening on http://\([^ ]*\).*|\1|p' web.out)
[ -n "$address" ] || { cat web.err; echo "the web server did not start" >&2; exit 1; }
echo "server on core 0 at $address; $members members; $concurrency connections; $seconds s each"
taskset -c 1 "$load" "$address" "$OUTREACH_WEB__SIGNING_KEY" "$members" "$seconds" "$concurrency"
left=$("$bin" members list --theme telework | wc -l)
echo "members still subscribed after the POSTs: $left of $members (the POSTs go round the members in order)"
