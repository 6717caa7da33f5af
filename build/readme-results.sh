#!/usr/bin/env bash
# Re-runs the README's main command and rewrites the "Results on MNIST" table and sparsity report in
# README.md (between the results:begin and results:end markers) from what that run printed and wrote,
# so the README's headline numbers always come from the code that ships. Run it on a quiet machine:
# the seconds per epoch are measured. Usage: bash build/readme-results.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mkdir -p artifacts
report=artifacts/mnist-report.json
log=artifacts/mnist-train.log

start=$(date +%s)
bash build/train.sh --report "$report" | tee "$log"
seconds=$(( $(date +%s) - start ))

# One number from the report's JSON (flat keys written by SparsityReport.ToJson and the train command).
num() { sed -nE "s/^  \"$1\": *([-0-9.eE+]+),?$/\1/p" "$report" | head -1; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f %%", 100 * a / b }'; }
thousands() { awk -v n="$1" 'BEGIN { s = sprintf("%d", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
kilo() { awk -v n="$1" 'BEGIN { printf "%.1fk", n / 1000 }'; }

micro=$(awk -v x="$(num microAccuracy)" 'BEGIN { printf "%.2f %%", 100 * x }')
macro=$(awk -v x="$(num macroAccuracy)" 'BEGIN { printf "%.2f %%", 100 * x }')
logloss=$(awk -v x="$(num logLoss)" 'BEGIN { printf "%.4f", x }')
params=$(num trainableParameters); dense_params=$(num denseParameters)
zero=$(num zeroBlocks); blocks=$(num blocks)
train_flops=$(num trainingFlopsPerExample); dense_train_flops=$(num denseTrainingFlopsPerExample)
infer_flops=$(num inferenceFlopsPerExample); dense_infer_flops=$(num denseInferenceFlopsPerExample)
zip=$(num modelBytes)
per_epoch=$(awk -v x="$(num secondsPerEpoch)" 'BEGIN { printf "%.2f", x }')
# The sparsity table as the command printed it: from its header line to the line before the blank one.
table=$(awk '/^layer  in→out/ { on = 1 } on && /^$/ { exit } on && !/^Replaced the existing file/ { print }' "$log")

block=$(mktemp)
trap 'rm -f "$block"' EXIT
cat > "$block" <<MD
<!-- results:begin (written by build/readme-results.sh; do not edit by hand) -->
\`bash build/train.sh --report $report\` (the defaults: 784 → 300 → 100 → 10, rank 4, 30 epochs) on
the 2-core, 24 GiB CPU machine of this project, no GPU, re-run by \`bash build/readme-results.sh\`:

| | BlockSparse | dense network of the same sizes |
|---|---|---|
| test accuracy (10,000 rows) | **$micro** (macro $macro, log-loss $logloss) | see [the benchmark](#baselines-and-the-benchmark) |
| trainable parameters | **$(thousands "$params") ($(pct "$params" "$dense_params"))** | $(thousands "$dense_params") |
| zero blocks | **$zero / $blocks ($(pct "$zero" "$blocks"))** | – |
| training FLOPs / example / epoch | $(kilo "$train_flops") ($(pct "$train_flops" "$dense_train_flops")) | $(kilo "$dense_train_flops") |
| inference FLOPs / example | $(kilo "$infer_flops") ($(pct "$infer_flops" "$dense_infer_flops")) | $(kilo "$dense_infer_flops") |
| saved model zip | **$(thousands "$zip") bytes** | see [the benchmark](#baselines-and-the-benchmark) |
| time | $per_epoch s per epoch, $seconds s for the whole command (set-up already done) | see [the benchmark](#baselines-and-the-benchmark) |

\`\`\`
$table
\`\`\`
<!-- results:end -->
MD

grep -q '^<!-- results:begin' README.md && grep -q '^<!-- results:end -->' README.md \
  || { echo "README.md lacks the results:begin / results:end markers" >&2; exit 1; }
awk -v block="$block" '
  /^<!-- results:begin/ { while ((getline line < block) > 0) print line; skip = 1; next }
  /^<!-- results:end -->/ { skip = 0; next }
  !skip { print }' README.md > README.md.new
mv README.md.new README.md
echo "README.md: results table rewritten from $report and $log"
