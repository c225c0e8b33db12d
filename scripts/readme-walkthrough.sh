#!/usr/bin/env bash
# Runs the README's curl walkthrough verbatim against a fresh server on the default port,
# started the way the README says, and checks what it printed.
set -euo pipefail
cd "$(dirname "$0")/.."

block=$(sed -n '/<!-- walkthrough:start -->/,/<!-- walkthrough:end -->/p' README.md | sed '1,2d;$d' | sed '$d')
[ -n "$block" ] || { echo "walkthrough block not found in README.md"; exit 1; }

cargo build -q --release --bin chatdesk
rm -rf chatdesk.db chatdesk.db-shm chatdesk.db-wal chatdesk.db.files
cargo run -q --release --bin chatdesk -- serve 2>walkthrough-server.log &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf chatdesk.db chatdesk.db-shm chatdesk.db-wal chatdesk.db.files receipt.txt walkthrough-server.log' EXIT
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:8080/healthz >/dev/null && break
  sleep 0.1
done

out=$(bash -euo pipefail -c "$block")
echo "$out"
# The block prints three JSON documents: the sent message, the one with the file, the list.
echo "$out" | jq -s -e 'length == 3 and .[0].seq == 1 and .[1].seq == 2
  and .[1].attachments[0].name == "receipt.txt" and .[1].attachments[0].content_type == "text/plain"
  and (.[2].messages | length == 2) and .[2].messages[0].content == "Where is my parcel?"
  and (.[2].messages[1].attachments[0].url | startswith("/v1/attachments/"))' >/dev/null \
  || { echo "walkthrough: the message list is not what the README promises"; exit 1; }
echo "README walkthrough: ok"
