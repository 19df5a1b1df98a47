#!/usr/bin/env bash
# Runs Microsoft's SCIM reference Postman collection with newman against a
# scimforge server built from this checkout, started on a free 127.0.0.1
# port with a fresh database, and stops it afterwards. See README.md here.
#
#   e2e/newman/run.sh COLLECTION.json [NEWMAN_DIR]
#
# NEWMAN_DIR is a folder holding node_modules/.bin/newman (default: newman
# on PATH). The JSON report goes to $OUT (default /tmp/scimforge-newman).
set -euo pipefail

collection=${1:?usage: run.sh COLLECTION.json [NEWMAN_DIR]}
newman=newman
if [ -n "${2:-}" ]; then newman="$2/node_modules/.bin/newman"; fi
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp/scimforge-newman}
rm -rf "$out" && mkdir -p "$out"

(cd "$root" && go build -o "$out/scimforge" ./app/cmd/scimforge)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=newman-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

SCIMFORGE_LISTEN=127.0.0.1:$port SCIMFORGE_DATABASE_URL=sqlite://$out/scim.db SCIMFORGE_TOKEN=$token \
	"$out/scimforge" serve >"$out/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/scim/v2/ServiceProviderConfig" && break
	sleep 0.1
done

# The "Get Token" folder calls the reference server's own /Token endpoint
# (not SCIM) and overwrites {{token}} with its answer; scimforge uses a
# static bearer token, so that folder is left out of the copy newman runs.
python3 - "$collection" "$out/collection.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["item"] = [i for i in c["item"] if i.get("name") != "Get Token"]
json.dump(c, open(sys.argv[2], "w"))
PY
cat >"$out/env.json" <<JSON
{"name": "scimforge", "values": [
 {"key": "Protocol", "value": "http", "enabled": true},
 {"key": "Server", "value": "127.0.0.1", "enabled": true},
 {"key": "Port", "value": ":$port", "enabled": true},
 {"key": "Api", "value": "scim/v2", "enabled": true},
 {"key": "token", "value": "$token", "enabled": true}]}
JSON

status=0
"$newman" run "$out/collection.json" -e "$out/env.json" --reporters cli,json \
	--reporter-json-export "$out/report.json" --color off || status=$?
echo "report: $out/report.json, server log: $out/server.log"
exit $status
