#!/usr/bin/env bash
# Lints the API contract and regenerates proto/gen from proto/rnnexplain/v1/*.proto.
#
# buf and the ts-proto plugin are the npm packages pinned in deno.json and
# deno.lock, run under Deno, so generation needs neither Node.js nor a global
# buf. The output is committed; CI runs this and fails on any diff.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The buf version pinned in deno.json's import map (one place to bump it).
buf_spec=$(grep -o '"npm:@bufbuild/buf@[^"]*"' deno.json | tr -d '"')
if [[ -z "$buf_spec" ]]; then
  echo "Cannot find @bufbuild/buf in deno.json imports" >&2
  exit 1
fi

# --allow-run: the npm package is a launcher that runs buf's native binary,
# which in turn runs the ts-proto plugin (see proto/buf.gen.yaml).
buf() {
  deno run --quiet --allow-read --allow-env --allow-run --allow-sys "$buf_spec" "$@"
}

buf lint proto
buf generate proto --template proto/buf.gen.yaml
echo "Generated proto/gen with $(buf --version | head -n 1 | sed 's/^/buf /')"
