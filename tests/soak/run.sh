#!/usr/bin/env bash
# Soak with crashes: three `outreach serve` on one PostgreSQL, killed and restarted for minutes
# (see tests/soak/soak.py). Arguments are passed on, e.g. tests/soak/run.sh --seconds 180 --keep.
# Needs the release binary (cargo build --release), psql, PostgreSQL and python3-aiosmtpd.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec /usr/bin/python3 tests/soak/soak.py --binary target/release/outreach "$@"
