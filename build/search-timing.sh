#!/usr/bin/env bash
# Seconds per epoch of the bench's fixed-shape Kronecker row against its λ2 search row (same rank and learning
# rate; the search's candidates within 7.5 % of each layer's dense FLOPs, λ1 0.0003, deciding after epoch 1),
# interleaved run by run so a busy machine slows both
# alike. Prints each run's epoch times and the median ratio search/fixed of the epochs after the decision
# and of the first. Usage: bash build/search-timing.sh [ROUNDS] [EPOCHS] [TRAIN_ROWS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3} epochs=${2:-3} rows=${3:-60000}
dotnet build -c Release "$root/src/Samples" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(--rank 2 --lr 0.005 --epochs "$epochs" --train-rows "$rows" --test-rows 1000)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
times() {  # epoch seconds of one run, space-separated
  dotnet run -c Release --no-build --project "$root/src/Samples" -- train --model "$out/m.zip" "${common[@]}" "$@" 2>&1 \
    | grep '^epoch' | sed -E 's/.* ([0-9.]+)s( .*)?$/\1/' | tr '\n' ' '
}
: >"$out/fixed"; : >"$out/search"
for ((i = 1; i <= rounds; i++)); do
  f=$(times --block 4x112,2x60,auto --l1 0.0005 --l1-increment 0.0001); echo "fixed  4x112,2x60,auto: $f"; echo "$f" >>"$out/fixed"
  s=$(times --search --search-flops 0.075 --l1 0.0003 --l1-increment 0.00006); echo "search (7.5 % budget, decides after epoch 1): $s"; echo "$s" >>"$out/search"
done
python3 - "$out/fixed" "$out/search" <<'PY'
import statistics, sys
fixed = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
search = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
later = [s / f for fr, sr in zip(fixed, search) for f, s in zip(fr[1:], sr[1:])]
first = [sr[0] / fr[0] for fr, sr in zip(fixed, search)]
whole = [sum(sr) / sum(fr) for fr, sr in zip(fixed, search)]
print(f"search/fixed seconds per epoch: after the decision median {statistics.median(later):.2f} (min {min(later):.2f}, max {max(later):.2f}); "
      f"first epoch median {statistics.median(first):.2f}; whole runs median {statistics.median(whole):.2f}")
PY
