#!/usr/bin/env bash
# Peak memory of training from an image folder of 100,000 training images, streamed (--caching stream) and
# copied into memory (--caching memory), each measured as the maximum resident set size of the sample's
# process (/usr/bin/time -v). The folder is MNIST exported as PNG files by the sample's export-images (60,000
# training and 10,000 test images), plus the first 40,000 training images again under other names (hard
# links: no disk space, but every file is read and decoded like any other), so 100,000 training images. It is
# generated once into $BLOCKSPARSE_STREAM_FOLDER (default ~/.cache/blocksparse/mnist-100k) and reused.
# Each run trains 1 epoch of a small network; pass other train options after the script's name.
# Usage: bash build/stream-memory.sh [more train options]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/build/setup.sh" >/dev/null
folder=${BLOCKSPARSE_STREAM_FOLDER:-$HOME/.cache/blocksparse/mnist-100k}
out=${BLOCKSPARSE_STREAM_OUT:-$root/artifacts/stream-memory}
mkdir -p "$out"
dotnet build -c Release "$root/src/Samples" -v quiet -nologo >/dev/null
dll="$root/src/Samples/bin/Release/net10.0/BlockSparse.Samples.dll"

if [[ ! -f "$folder/.complete" ]]; then
  echo "Generating $folder (once)"
  dotnet "$dll" export-images --out "$folder" --force
  # 40,000 more training images: 00001.png ... 40000.png again as copy-NNNNN.png, in their class folders.
  python3 - "$folder/train" <<'PY'
import os, sys
for label in sorted(os.listdir(sys.argv[1])):
    folder = os.path.join(sys.argv[1], label)
    for name in os.listdir(folder):
        stem = name[:-4]
        if stem.isdigit() and int(stem) <= 40000:
            copy = os.path.join(folder, "copy-" + name)
            if not os.path.exists(copy):
                os.link(os.path.join(folder, name), copy)
PY
  touch "$folder/.complete"
fi
echo "$(find "$folder/train" -name '*.png' | wc -l) training images, $(find "$folder/test" -name '*.png' | wc -l) test images in $folder"

# What the copy-everything path holds for the features alone: rows x features x 4 bytes (it reads them into a
# list, copies that to an array and the array to a tensor, so about three times that at its peak).
measure() {   # name, caching, train options...
  local name=$1 caching=$2; shift 2
  echo "== $name: --caching $caching $*"
  /usr/bin/time -v -o "$out/time-$name.txt" dotnet "$dll" train --data "$folder" --caching "$caching" --epochs 1 \
    --hidden 100 --device cpu --model "$out/model-$name.zip" "$@" > "$out/train-$name.txt"
  grep -E 'training rows|micro accuracy|Trained in' "$out/train-$name.txt"
  local features rows
  rows=$(grep -oE '^[0-9]+ training rows' "$out/train-$name.txt" | grep -oE '^[0-9]+')
  features=$(grep -oE '[0-9]+ features' "$out/train-$name.txt" | grep -oE '^[0-9]+')
  echo "copy-everything features: $rows x $features x 4 bytes = $(( rows * features * 4 / 1048576 )) MiB"
  grep -E 'Maximum resident|Elapsed \(wall' "$out/time-$name.txt"
}
measure grey28-stream stream "$@"
measure grey28-memory memory "$@"
# The same folder read as 64x64 RGB: 12,288 features a row, 4.7 GiB for the copy-everything path's features
# alone (not run here: about three times that at its peak, more than a shared 24 GiB machine should give).
if [[ ${STREAM_MEMORY_LARGE:-1} == 1 ]]; then
  measure rgb64-stream stream --image-size 64x64 --channels 3 "$@"
fi
