#!/usr/bin/env bash
# The reproduction run of docs/results: two wasm servers on loopback (one
# compute worker each, checkpoints under data/checkpoints/repro-{a,b}), the
# campaign of docs/results/campaign.json over both, wall time recorded in
# docs/results/run.txt. Resumable: run it again after an interruption and
# finished units are skipped (models on the servers are reused).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=docs/results
mkdir -p data/checkpoints/repro-a data/checkpoints/repro-b "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for s in a:50071 b:50072; do
  name=${s%%:*}; port=${s##*:}
  deno run --allow-net --allow-read=.,/usr/share/datasets \
    --allow-write=./data/checkpoints --allow-env \
    --allow-sys=hostname,uid,gid server/main.ts --port "$port" \
    --checkpoint-dir "data/checkpoints/repro-$name" --workers 1 \
    --backend wasm --log-level warn >"data/repro-$name.log" 2>&1 &
  pids+=($!)
done
sleep 10
start=$(date -u +%s)
echo "start $(date -u -Is) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/run.txt"
rc=0
deno task campaign "$out/campaign.json" --server 127.0.0.1:50071=wasm \
  --server 127.0.0.1:50072=wasm --results "$out/results.jsonl" "$@" || rc=$?
end=$(date -u +%s)
echo "end $(date -u -Is) rc $rc wall $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s, load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/run.txt"
