#!/usr/bin/env bash
# Schemathesis (from PyPI) over /openapi.json against a real server, on SQLite and, when
# CHATDESK_TEST_PG_URL is set, on PostgreSQL: no 5xx, and every response matches the schema.
# Run by scripts/test after the Rust tests (it uses the debug binary they built).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
# A fixed seed and number of examples, so that CI runs the same cases each time; set
# CHATDESK_SCHEMATHESIS_SEED to explore others. The time budget is only a cap.
SEED=${CHATDESK_SCHEMATHESIS_SEED:-20261202}
EXAMPLES=${CHATDESK_SCHEMATHESIS_EXAMPLES:-8}
BUDGET_SECS=${CHATDESK_SCHEMATHESIS_SECS:-150}
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet --bin chatdesk
bin=target/debug/chatdesk
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export CHATDESK_JWT_SECRET=schemathesis-secret-0123456789
# One address sends everything: the per-address limits would answer 429 to most of it.
export CHATDESK_LIMITS__SESSION_OPENS_PER_IP='{burst=0, every_secs=1}'
export CHATDESK_LIMITS__LOGIN_PER_IP='{burst=0, every_secs=1}'
export CHATDESK_LIMITS__LOGIN_FAILURES_PER_ACCOUNT='{burst=0, every_secs=1}'

# Run schemathesis against a server on database $1; $2 names the run.
run() {
  local db=$1 name=$2
  CHATDESK_DATABASE_URL=$db CHATDESK_ATTACHMENTS__DIR="$work/$name-files" "$bin" serve --listen 127.0.0.1:0 2>"$work/$name.log" &
  server=$!
  local addr=""
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*addr=\([0-9.:]*\).*/\1/p' "$work/$name.log" | head -1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$work/$name.log"; echo "schemathesis: the $name server did not start" >&2; exit 1; }
  local token
  token=$(CHATDESK_DATABASE_URL=$db "$bin" token --sub schemathesis-admin --role admin)
  echo "== schemathesis on $name (http://$addr, seed $SEED, $EXAMPLES examples per operation)"
  (cd "$work" && "$OLDPWD/$venv/bin/st" run "http://$addr/openapi.json" \
      -H "Authorization: Bearer $token" \
      --checks not_a_server_error,response_schema_conformance \
      --phases examples,coverage,fuzzing --seed "$SEED" -n "$EXAMPLES" \
      --max-time "$BUDGET_SECS" -w 2 --no-color)
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

run "sqlite://$work/st.db" sqlite
if [ -n "${CHATDESK_TEST_PG_URL:-}" ]; then
  scratch="chatdesk_schemathesis_$$"
  psql "$CHATDESK_TEST_PG_URL" -qc "CREATE DATABASE $scratch"
  base=${CHATDESK_TEST_PG_URL%/*}
  run "$base/$scratch" postgresql
  psql "$CHATDESK_TEST_PG_URL" -qc "DROP DATABASE $scratch WITH (FORCE)"
fi
echo "schemathesis: no server errors, every response matched the schema"
