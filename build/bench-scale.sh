#!/usr/bin/env bash
# Re-runs `bench --scale` twice (the library's malloc setting on, then off with --no-malloc-tuning; two
# processes, because the setting is process-wide) and rewrites the scaling table in README.md between the
# scale:begin and scale:end markers from the two scale.json files, and copies the chart to docs/scale.png. Run it on a quiet machine: every
# number is a measured time. Usage: bash build/bench-scale.sh [--no-readme]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dotnet build src/Samples/Samples.csproj -c Release -v quiet -nologo >/dev/null
app=(dotnet src/Samples/bin/Release/net10.0/BlockSparse.Samples.dll)
"${app[@]}" bench --scale --out artifacts/scale
"${app[@]}" bench --scale --no-malloc-tuning --out artifacts/scale-untuned
[[ "${1:-}" == "--no-readme" ]] && exit 0
cp artifacts/scale/scale.png docs/scale.png

tuned=artifacts/scale/scale.json untuned=artifacts/scale-untuned/scale.json
table=$(jq -r --slurpfile off "$untuned" '
  def f2: (. * 100 | round / 100 | tostring) as $s | if ($s | test("\\.")) then ($s | if test("\\.[0-9]$") then . + "0" else . end) else $s + ".00" end;
  def f3: (. * 1000 | round / 1000 | tostring);
  def f0: (. | round | tostring);
  ($off[0] | map({key: "\(.width)/\(.rank)/\(.threads)", value: .}) | from_entries) as $o
  | "| width | block | rank | threads | FLOP ratio | wall ratio, median (min) | dense ms / step | factored ms / step | minor faults / step, dense / factored | without malloc tuning: wall ratio, dense ms, faults dense / factored |",
    "|---|---|---|---|---|---|---|---|---|---|",
    (sort_by(.threads, .rank, .width)[] | . as $r | $o["\(.width)/\(.rank)/\(.threads)"] as $u
      | "| \(.width) | \(.block) | \(.rank) | \(.threads) | \(.flopRatio | f3) | **\(.wallRatio | f2)** (\(.minWallRatio | f2)) | \(.denseMs | f2) | \(.factoredMs | f2) | \(.denseFaultsPerStep | f0) / \(.factoredFaultsPerStep | f0) | \($u.wallRatio | f2), \($u.denseMs | f2), \($u.denseFaultsPerStep | f0) / \($u.factoredFaultsPerStep | f0) |")
' "$tuned")
# Per rank and thread count: the smallest width from which the factored step is faster at every larger width.
wins=$(jq -r '
  group_by(.rank, .threads)[] | sort_by(.width) as $rows
  | ([range(0; $rows | length) | select(all($rows[.:][]; .wallRatio < 1))] | first) as $i
  | "- rank \($rows[0].rank), \($rows[0].threads) thread\(if $rows[0].threads == 1 then "" else "s" end): "
    + (if $i == null then "not faster at any width measured" else "faster from width \($rows[$i].width) on" end)
' "$tuned")
machine=$(grep -m1 -c . /proc/cpuinfo >/dev/null 2>&1 && echo "$(nproc) cores" || echo "this machine")

block=$(mktemp)
trap 'rm -f "$block"' EXIT
cat > "$block" <<MD
<!-- scale:begin (written by build/bench-scale.sh; do not edit by hand) -->
\`bash build/bench-scale.sh\` ($machine; it runs \`bench --scale --out artifacts/scale\` and, for the last
column, \`bench --scale --no-malloc-tuning --out artifacts/scale-untuned\`):

$table

Where the factored step is faster than the dense one (median wall ratio below 1 from that width on):

$wins
<!-- scale:end -->
MD
grep -q '^<!-- scale:begin' README.md && grep -q '^<!-- scale:end -->' README.md \
  || { echo "README.md lacks the scale:begin / scale:end markers" >&2; exit 1; }
awk -v block="$block" '
  /^<!-- scale:begin/ { while ((getline line < block) > 0) print line; skip = 1; next }
  /^<!-- scale:end -->/ { skip = 0; next }
  !skip { print }
' README.md > README.md.tmp && mv README.md.tmp README.md
echo "README.md: scaling table rewritten"
