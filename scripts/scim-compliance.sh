#!/usr/bin/env bash
# SCIM compliance: run scim2-tester (`scim2 test`, from scim2-cli) against a freshly started
# orgadmin server's /scim/v2: discovery, then for Users and Groups creation, reads (with
# attributes and excludedAttributes), search, replacement, deletion and PATCH add, remove and
# replace of every attribute the server's /Schemas publish. Fails on any check that is not a
# success, and on a 5xx or a panic in the server's log.
#
#   scripts/scim-compliance.sh
#
# Environment:
#   ORGADMIN_BIN           server binary (default target/debug/orgadmin; this script builds nothing)
#   ORGADMIN_TEST_BACKEND  sqlite (default: an in-memory database) or postgres: a database of its
#                          own, orgadmin_test_[<ORGADMIN_TEST_RUN_ID>_]scim_<random>, created with
#                          psql on ORGADMIN_TEST_POSTGRES_URL and dropped when the script ends
#   VENV                   virtualenv holding scim2-cli (default .venv), filled from
#                          scripts/requirements-scim.txt when needed
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac; }
log() { printf '[scim-compliance.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

VENV=$(abspath "${VENV:-.venv}")
ORGADMIN_BIN=$(abspath "${ORGADMIN_BIN:-target/debug/orgadmin}")
REQUIREMENTS="$ROOT/scripts/requirements-scim.txt"
[[ -x $ORGADMIN_BIN ]] || die "no server binary at $ORGADMIN_BIN; run 'cargo build' or set ORGADMIN_BIN"

pinned=$(sed -n 's/^scim2-tester==\([^[:space:]#]*\).*/\1/p' "$REQUIREMENTS")
[[ -n $pinned ]] || die "$REQUIREMENTS does not pin scim2-tester==VERSION"
[[ -x $VENV/bin/python ]] || "${PYTHON:-python3}" -m venv "$VENV"
if [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("scim2-tester"))' 2>/dev/null || true)" != "$pinned" ]]; then
    log "installing scim2-tester $pinned into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$REQUIREMENTS"
fi
PY="$VENV/bin/python"

BACKEND=${ORGADMIN_TEST_BACKEND:-sqlite}
PG_ADMIN_URL=${ORGADMIN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DATABASE=
pg() { PGCONNECT_TIMEOUT=5 psql --no-psqlrc -X -v ON_ERROR_STOP=1 -Atq --dbname "$PG_ADMIN_URL" "$@"; }
case $BACKEND in
    sqlite) DATABASE_URL='sqlite::memory:' ;;
    postgres | postgresql)
        command -v psql >/dev/null || die "ORGADMIN_TEST_BACKEND=postgres needs the psql client"
        run=${ORGADMIN_TEST_RUN_ID:-}
        [[ $run =~ ^[A-Za-z0-9]{0,24}$ ]] || die "ORGADMIN_TEST_RUN_ID must be at most 24 letters and digits"
        PG_DATABASE="orgadmin_test_${run:+${run,,}_}scim_$(printf '%04x%04x%04x' "$RANDOM" "$RANDOM" "$RANDOM")"
        pg -c "CREATE DATABASE \"$PG_DATABASE\"" ||
            { PG_DATABASE=; die "cannot create a database on ORGADMIN_TEST_POSTGRES_URL=$PG_ADMIN_URL"; }
        DATABASE_URL=$("$PY" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN_URL" "$PG_DATABASE")
        ;;
    *) die "ORGADMIN_TEST_BACKEND must be sqlite or postgres, not '$BACKEND'" ;;
esac

WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/orgadmin-scim.XXXXXX")
SERVER_LOG="$WORKDIR/server.stderr.log"
SERVER_PID=
cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n $PG_DATABASE ]]; then
        pg -c "DROP DATABASE IF EXISTS \"$PG_DATABASE\" WITH (FORCE)" || log "warning: could not drop $PG_DATABASE"
    fi
    if [[ $rc -ne 0 ]]; then
        log "kept $WORKDIR (server log, checker output)"
        tail -n 20 "$SERVER_LOG" >&2 || true
    else
        rm -rf "$WORKDIR"
    fi
    exit "$rc"
}
trap cleanup EXIT

ADMIN_KEY="sk-admin-$("$PY" -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(40)))')"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
# The key is passed in the environment only, never in argv.
ORGADMIN_ADMIN_KEY="$ADMIN_KEY" NO_COLOR=1 RUST_LOG="${RUST_LOG:-info,sqlx=warn}" \
    "$ORGADMIN_BIN" serve --listen "127.0.0.1:$PORT" --database "$DATABASE_URL" \
    >"$WORKDIR/server.stdout.log" 2>"$SERVER_LOG" &
SERVER_PID=$!
for _ in $(seq 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited; see $SERVER_LOG"
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
    sleep 0.2
done
URL="http://127.0.0.1:$PORT/scim/v2"
log "scim2-tester $pinned against $URL on $BACKEND"

set +e
SCIM_CLI_HEADERS="Authorization: Bearer $ADMIN_KEY" timeout 600 \
    "$VENV/bin/scim2" --url "$URL" test >"$WORKDIR/checks.txt" 2>&1
rc=$?
set -e
cat "$WORKDIR/checks.txt"
passed=$(grep -c '^SUCCESS' "$WORKDIR/checks.txt" || true)
failed=$(grep -Ec '^(ERROR|CRITICAL|WARNING)' "$WORKDIR/checks.txt" || true)
log "$passed checks passed, $failed failed (scim2 exit status $rc)"
[[ $rc -eq 0 && $failed -eq 0 && $passed -gt 0 ]] || { log "the SCIM compliance check failed"; exit 1; }
if grep -Eq 'http.status=5[0-9][0-9]|panicked' "$SERVER_LOG"; then
    log "the server answered a 5xx or panicked; see $SERVER_LOG"
    exit 1
fi
# The line scripts/test-all adds up.
echo "$passed passed, 0 failed (scim2-tester)"
