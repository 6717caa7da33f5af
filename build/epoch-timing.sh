#!/usr/bin/env bash
# Seconds per epoch of two training runs, interleaved run by run (one thread each) so a busy or noisy machine
# slows both alike. Two comparisons:
#   search   the bench's fixed-shape Kronecker row against its λ2 search row (same rank and λ1, learning rates 0.005
#            and 0.01; the search's candidates within 10 % of each layer's dense FLOPs, deciding after epoch 1);
#            prints the median ratio search/fixed of the epochs after the decision, of the first, and of whole runs
#   default  the library's default network (784-300-100, rank 4) against the dense network of the same sizes;
#            prints the median ratio Kronecker/dense of each round's median epoch (the first epoch left out)
# Usage: bash build/epoch-timing.sh search|default [ROUNDS] [EPOCHS] [TRAIN_ROWS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=${1:-}
[[ $mode == search || $mode == default ]] || { echo "usage: bash build/epoch-timing.sh search|default [ROUNDS] [EPOCHS] [TRAIN_ROWS]" >&2; exit 2; }
rounds=${2:-3} epochs=${3:-5} rows=${4:-60000}
dotnet build -c Release "$root/src/Samples" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
epoch_times() {  # epoch seconds of one run, space-separated
  dotnet run -c Release --no-build --project "$root/src/Samples" -- train --model "$out/m.zip" --epochs "$epochs" --train-rows "$rows" --test-rows 1000 "$@" 2>&1 \
    | grep '^epoch' | sed -E 's/.* ([0-9.]+)s( .*)?$/\1/' | tr '\n' ' '
}
if [[ $mode == search ]]; then
  first=(--rank 2 --lr 0.005 --block 4x112,2x60,auto --l1 0.0005 --l1-increment 0.0001); first_name="fixed 4x112,2x60,auto"
  second=(--rank 2 --lr 0.01 --search --search-flops 0.10 --l1 0.0005 --l1-increment 0.0001); second_name="search (10 % budget)"
else
  first=(--method dense); first_name="dense"
  second=(); second_name="default Kronecker"
fi
: >"$out/first"; : >"$out/second"
for ((i = 1; i <= rounds; i++)); do
  f=$(epoch_times "${first[@]}"); echo "$first_name: $f"; echo "$f" >>"$out/first"
  s=$(epoch_times "${second[@]}"); echo "$second_name: $s"; echo "$s" >>"$out/second"
done
python3 - "$mode" "$out/first" "$out/second" <<'PY'
import statistics, sys
mode = sys.argv[1]
first = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
second = [list(map(float, l.split())) for l in open(sys.argv[3]) if l.strip()]
if mode == "search":
    later = [s / f for fr, sr in zip(first, second) for f, s in zip(fr[1:], sr[1:])]
    firsts = [sr[0] / fr[0] for fr, sr in zip(first, second)]
    whole = [sum(sr) / sum(fr) for fr, sr in zip(first, second)]
    print(f"search/fixed seconds per epoch: after the decision median {statistics.median(later):.2f} (min {min(later):.2f}, max {max(later):.2f}); "
          f"first epoch median {statistics.median(firsts):.2f}; whole runs median {statistics.median(whole):.2f}")
else:
    ratios = [statistics.median(sr[1:]) / statistics.median(fr[1:]) for fr, sr in zip(first, second)]
    print(f"default Kronecker/dense seconds per epoch: median {statistics.median(ratios):.2f} "
          f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}); medians {statistics.median(sum((r[1:] for r in second), [])):.2f} s "
          f"against {statistics.median(sum((r[1:] for r in first), [])):.2f} s")
PY
