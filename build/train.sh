#!/usr/bin/env bash
# The main job: prepare the machine if needed, then train on MNIST and print metrics and the
# sparsity report. Arguments go to the sample's `train` command (see README, or pass --help).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/build/setup.sh"
if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  exec dotnet run -c Release --project "$root/src/Samples" -- --help
fi
exec dotnet run -c Release --project "$root/src/Samples" -- train "$@"
