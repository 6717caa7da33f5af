#!/usr/bin/env bash
# Prepare the machine if needed, then build and run every test of the solution.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/build/setup.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test "$root/BlockSparse.MLNet.sln" -c Release "$@" 2>&1 | tee "$log" || status=$?
# One plain summary line, the same for every runner: "N passed, N failed".
if summary=$(grep -E '(Passed|Failed)!  - Failed: +[0-9]+, Passed: +[0-9]+' "$log" | tail -1); then
  failed=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")
  echo "$passed passed, $failed failed"
fi
# The packages as a user gets them (pack, local feed, fresh apps): on a full run only, since a --filter run
# asks for some tests, and this takes about two minutes.
if [[ $# -eq 0 && $status -eq 0 ]]; then
  bash "$root/build/package-test.sh" || status=$?
fi
exit $status
