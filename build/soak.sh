#!/usr/bin/env bash
# Runs the whole test suite N times in a row (default 5) while the sample trains on MNIST in a loop
# beside it, the way a busy CI machine or developer laptop runs it. Any failure is a bug until shown
# otherwise: intermittent failures come from timing, and load changes the timing.
# Usage: bash build/soak.sh [N]     (after build/setup.sh; each run's log is kept in artifacts/soak/)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-5}
logs="$root/artifacts/soak"
mkdir -p "$logs"
bash "$root/build/setup.sh" >/dev/null
dotnet build "$root/BlockSparse.MLNet.sln" -c Release -v quiet -nologo >/dev/null

# The competing load: the README's main job, again and again, until the runs are done.
( while true; do
    dotnet run -c Release --no-build --project "$root/src/Samples" -- train --model "$logs/load-model.zip" >/dev/null 2>&1 || true
  done ) &
load=$!
trap 'kill "$load" 2>/dev/null; pkill -f "$logs/load-model.zip" 2>/dev/null || true' EXIT

failed=0
for i in $(seq 1 "$runs"); do
  if dotnet test "$root/BlockSparse.MLNet.sln" -c Release --no-build >"$logs/run-$i.log" 2>&1; then
    echo "run $i/$runs: $(grep -E 'Passed!|Failed!' "$logs/run-$i.log" | tail -1 | sed -E 's/.*(Failed: +[0-9]+, Passed: +[0-9]+).*/\1/')"
  else
    failed=$((failed + 1))
    echo "run $i/$runs FAILED (log: $logs/run-$i.log):"
    grep -E '^\s+Failed |Error Message' -A2 "$logs/run-$i.log" | head -20
  fi
done
echo "$((runs - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
