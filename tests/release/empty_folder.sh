#!/usr/bin/env bash
# The release binary as a new user runs it: from an empty temporary folder, with nothing but environment
# variables (no repository, no configuration file). init, template check, preview, campaign create, send-now,
# send-due, instances; then the same data from another folder through OUTREACH_DATA_DIR. Fails loudly.
#
#   tests/release/empty_folder.sh target/release/outreach
set -euo pipefail
bin=$(realpath "${1:?usage: $0 PATH-TO-RELEASE-BINARY}")
repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
run() { env -i PATH=/usr/bin:/bin OUTREACH_LOG=warn "$@"; }
fail() { echo "empty folder: FAILED: $*" >&2; exit 1; }

run "$bin" init > init.out || fail "init"
grep -q "created the signing key $dir/data/signing.key" init.out || fail "init does not say where the key went: $(cat init.out)"
grep -q "ready: sqlite://$dir/data/outreach.db" init.out && grep -q "mail is written to $dir/data/outbox" init.out || fail "init does not say where the database is: $(cat init.out)"
grep -q "^installation [0-9a-f]\{12\}$" init.out || fail "init does not name the installation"
run "$bin" template check | grep -q "mails compiled and rendered" || fail "template check"
run "$bin" preview --theme telework --channel newsletter | grep -q "^Subject: " || fail "preview"
printf 'email,company,contact_name,themes,locale\nfirst@example.co.jp,株式会社空,担当 一郎,telework,ja\n' > members.csv
run "$bin" members import members.csv | grep -q "1 created" || fail "members import"
id=$(run "$bin" campaign create --name 空のフォルダ --theme telework --channel newsletter --cron "0 9 * * MON#1") \
    || fail "campaign create"
run "$bin" campaign send-now "$id" | grep -q "1 recipients" || fail "send-now"
run "$bin" send-due | grep -q "^sent 1, deferred 0" || fail "send-due"
ls data/outbox/*.eml > /dev/null 2>&1 || fail "no mail in data/outbox"
# The verifiable log: send-due sealed what it wrote; an export verifies with the independent verifier.
run "$bin" audit verify | grep -q "^OK [0-9]* .* 0 committed entries not yet sealed" || fail "audit verify"
run "$bin" audit export --out audit.export > /dev/null || fail "audit export"
python3 "$repo/tools/verify-log.py" export audit.export --key "$(run "$bin" audit key)" | grep -q "^OK " \
    || fail "the export does not verify independently"
run "$bin" instances | grep -q "stopped	send-due" || fail "instances does not list the send-due that ran"
# Accounts, and serve's web server: it says where it listens, and is ready.
printf 'correct horse battery staple\n' | run "$bin" user add --role staff staff@example.org --password-stdin \
    | grep -q "staff account created" || fail "user add"
run "$bin" user list | grep -q "^staff@example.org	staff	active" || fail "user list"
run "$bin" token create --user staff@example.org 2>/dev/null | grep -q "^otk_" || fail "token create"
env -i PATH=/usr/bin:/bin OUTREACH_LOG=warn OUTREACH_WEB__BIND=127.0.0.1:0 "$bin" serve > serve.out 2> serve.err &
serve=$!
for _ in $(seq 50); do grep -q "^listening on http://" serve.out && break; sleep 0.2; done
address=$(sed -n 's|^listening on \(http://[^ ]*\).*|\1|p' serve.out)
[ -n "$address" ] || { kill "$serve"; fail "serve does not say where it listens: $(cat serve.out serve.err)"; }
ready=$(curl -s -o /dev/null -w '%{http_code}' "$address/readyz" || true)
kill -TERM "$serve"; wait "$serve" || fail "serve did not stop cleanly on SIGTERM: $(cat serve.err)"
[ "$ready" = 200 ] || fail "/readyz answered $ready"
# Any folder, the same data.
cd /
env -i PATH=/usr/bin:/bin OUTREACH_LOG=warn OUTREACH_DATA_DIR="$dir/data" "$bin" campaign list | grep -q "telework" \
    || fail "OUTREACH_DATA_DIR from another folder"
[ ! -e /data ] || [ -n "$(ls -A /data 2>/dev/null)" ] || fail "a data folder appeared in /"
echo "empty folder: ok (init, template check, preview, members import, campaign create, send-now, send-due, audit verify and an export the independent verifier accepts, instances, user add, token create, serve and /readyz)"
