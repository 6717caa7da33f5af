#!/usr/bin/env bash
# Re-runs, on full MNIST, every configuration the README's "How the defaults were chosen" table
# quotes, and prints that table. About 7 minutes on 2 cores. Arguments are passed to every run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/build/setup.sh" >/dev/null
dotnet build -c Release "$root/src/Samples" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # run "description" train-arguments...
  local name=$1; shift
  local log="$out/run.log"
  dotnet run -c Release --no-build --project "$root/src/Samples" -- train --model "$out/m.zip" "$@" "${extra[@]}" >"$log" 2>&1 \
    || { echo "| $name | failed: $(tail -1 "$log") | | | | |"; return; }
  local accuracy zero train params flops
  accuracy=$(sed -nE 's/^ +micro accuracy +([0-9.]+ %)$/\1/p' "$log")
  zero=$(sed -nE 's/^total +[0-9]+\/[0-9]+ \(([0-9.]+ %)\).*/\1/p' "$log")
  train=$(grep '^epoch' "$log" | tail -1 | sed -nE 's/.*train acc ([0-9.]+ %).*/\1/p')
  # total row: zero blocks, params (share), dense params, train FLOPs (share), ...
  params=$(sed -nE 's/^total +[0-9]+\/[0-9]+ \([0-9.]+ %\) +([0-9.]+k? \([0-9.]+ %\)).*/\1/p' "$log")
  flops=$(sed -nE 's/^total +[0-9]+\/[0-9]+ \([0-9.]+ %\) +[0-9.]+k? \([0-9.]+ %\) +[0-9.]+k +[0-9.]+k \(([0-9.]+ %)\).*/\1/p' "$log")
  echo "| $name | $accuracy | $train | $zero | $params | $flops |"
}

extra=("$@")
no_l1=(--l1 0 --l1-increment 0)
constant=(--lr 0.001 --lr-schedule constant)
echo "| setting | test accuracy | train accuracy (last epoch) | zero blocks | trainable params (of dense) | training FLOPs (of dense) |"
echo "|---|---|---|---|---|---|"
run "rank 2, λ1 = 0, lr 1e-3 constant, 20 epochs" --rank 2 --epochs 20 "${no_l1[@]}" "${constant[@]}"
run "rank 4, λ1 = 0, lr 1e-3 constant, 20 epochs" --rank 4 --epochs 20 "${no_l1[@]}" "${constant[@]}"
run "rank 4, λ1 = 0, lr 3e-3 cosine, 20 epochs" --rank 4 --epochs 20 "${no_l1[@]}"
run "rank 8, λ1 = 0, lr 3e-3 cosine, 20 epochs" --rank 8 --epochs 20 "${no_l1[@]}"
run "rank 2, λ1 = 0.001 (+0.0002/5 epochs), lr 1e-3 constant, 20 epochs" --rank 2 --epochs 20 --l1 0.001 --l1-increment 0.0002 "${constant[@]}"
run "rank 2, λ1 = 0.003 (+0.0006/5 epochs), lr 1e-3 constant, 20 epochs" --rank 2 --epochs 20 --l1 0.003 --l1-increment 0.0006 "${constant[@]}"
run "rank 2, λ1 = 0.01 (+0.002/5 epochs, docs/method.md's), lr 1e-3 constant, 20 epochs" --rank 2 --epochs 20 --l1 0.01 --l1-increment 0.002 "${constant[@]}"
run "defaults, output layer forced to 2x10 blocks" --block 15x28,10x15,2x10
run "defaults, output layer forced to 1x10 blocks" --block 15x28,10x15,1x10
run "defaults, output layer forced to 1x50 blocks" --block 15x28,10x15,1x50
run "defaults at rank 8" --rank 8
run "**defaults** (rank 4, λ1 = 0.001 +0.0002/5 epochs, lr 3e-3 cosine, 30 epochs; output layer dense)"
