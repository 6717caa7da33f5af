#!/usr/bin/env bash
# Package test: what a .NET developer does with the NuGet packages, not with project references.
#   1. packs the library, scoring and data packages into a temporary local feed (a unique version, so no
#      stale copy in the NuGet cache is ever used);
#   2. a fresh console app referencing BlockSparse.MLNet + libtorch-cpu-linux-x64 through that feed trains a
#      small model on synthetic data, saves it and writes its scores;
#   2b. the same app without the native package must fail with a message naming libtorch-cpu-linux-x64;
#   3. a second fresh app referencing only BlockSparse.MLNet.Scoring loads the zip with plain
#      mlContext.Model.Load, scores the same rows, and fails if a TorchSharp assembly or libtorch got loaded;
#   4. the two apps' scores must be identical, and the scoring app's `dotnet publish -r linux-x64` must stay
#      under 80 MiB (printed).
# Builds src/ in Release if needed (build/test.sh runs it after the tests). BLOCKSPARSE_KEEP=1 keeps the folder;
# BLOCKSPARSE_PACKAGE_TEST_IMAGES=1 also measures a scoring app that carries ImageAnalytics.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here="$root/build/package-test"
work=$(mktemp -d "${TMPDIR:-/tmp}/blocksparse-package-test.XXXXXX")
version="0.0.0-pkgtest.$(date +%s).$$"
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}
cleanup() {
  rm -rf "$packages/blocksparse.mlnet/$version" "$packages/blocksparse.mlnet.scoring/$version" "$packages/blocksparse.mlnet.data/$version"
  [[ ${BLOCKSPARSE_KEEP:-0} == 1 ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
say() { echo "package-test: $*"; }

say "packing $version into $work/feed"
dotnet build "$root/src/Microsoft.ML.BlockSparse.Data/Microsoft.ML.BlockSparse.Data.csproj" -c Release -nologo -v q
for project in Microsoft.ML.BlockSparse.Scoring Microsoft.ML.BlockSparse Microsoft.ML.BlockSparse.Data; do
  dotnet pack "$root/src/$project/$project.csproj" -c Release --no-build -nologo -v q -p:Version="$version" -o "$work/feed"
done
ls "$work/feed"

cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="blocksparse-local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML

app() {  # app NAME SOURCE PACKAGE...
  local name=$1 source=$2; shift 2
  mkdir -p "$work/$name"
  cp "$here/$source" "$work/$name/Program.cs"
  cp "$here/Rows.cs" "$work/$name/Rows.cs"
  {
    echo '<Project Sdk="Microsoft.NET.Sdk">'
    echo '  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings><TreatWarningsAsErrors>true</TreatWarningsAsErrors></PropertyGroup>'
    echo '  <ItemGroup>'
    for package in "$@"; do echo "    <PackageReference Include=\"${package%@*}\" Version=\"${package#*@}\" />"; done
    echo '  </ItemGroup>'
    echo '</Project>'
  } > "$work/$name/$name.csproj"
  dotnet build "$work/$name" -c Release -nologo -v q --configfile "$work/nuget.config" -o "$work/$name/bin"
}

say "training app (BlockSparse.MLNet + libtorch-cpu-linux-x64)"
app Train Train.cs "BlockSparse.MLNet@$version" "libtorch-cpu-linux-x64@2.10.0"
# One OpenMP thread: libtorch's spinning threads crawl on a small machine shared with other jobs.
OMP_NUM_THREADS=1 dotnet "$work/Train/bin/Train.dll" "$work/model.zip" "$work/train-scores.txt"

say "training app without the native package"
# The same app minus libtorch, with no NuGet cache to fall back on (TorchSharp looks there too): Fit must
# name the package to add.
cp -r "$work/Train/bin" "$work/no-natives"
find "$work/no-natives" \( -name 'libtorch*' -o -name 'libLibTorchSharp*' -o -name 'libc10*' \) -delete
mkdir -p "$work/empty-home"
# The app does not catch the exception, so .NET aborts the process; the outer 2>/dev/null keeps bash's
# "Aborted" job notice out of the output, since that end is the expected one.
if { HOME="$work/empty-home" NUGET_PACKAGES="$work/empty-home/packages" DOTNET_CLI_HOME="$work/empty-home" \
    dotnet "$work/no-natives/Train.dll" "$work/no-natives.zip" "$work/no-natives.txt" > "$work/no-natives.log" 2>&1; } 2>/dev/null; then
  say "FAILED: training without native libraries did not fail"; exit 1
fi
grep -q 'Unhandled exception. System.InvalidOperationException: BlockSparse trains with TorchSharp.*dotnet add package libtorch-cpu-linux-x64' "$work/no-natives.log" \
  || { say "FAILED: training without natives did not name the package to add:"; grep -m3 -i 'exception' "$work/no-natives.log"; exit 1; }
say "without natives, Fit says: $(grep -o 'for the CPU add the package libtorch-cpu-linux-x64[^,]*' "$work/no-natives.log" | head -1)"

say "scoring app (BlockSparse.MLNet.Scoring only)"
app Score Score.cs "BlockSparse.MLNet.Scoring@$version"
dotnet "$work/Score/bin/Score.dll" "$work/model.zip" "$work/score-scores.txt"
if ls "$work/Score/bin" | grep -qi torch; then
  say "FAILED: the scoring app's output carries TorchSharp: $(ls "$work/Score/bin" | grep -i torch)"; exit 1
fi

if ! cmp -s "$work/train-scores.txt" "$work/score-scores.txt"; then
  say "FAILED: the scoring app's scores differ from the training process's"
  diff "$work/train-scores.txt" "$work/score-scores.txt" | head -5
  exit 1
fi
say "scores identical in the training process and the scoring-only app ($(wc -l < "$work/train-scores.txt") rows)"

dotnet publish "$work/Score" -c Release -r linux-x64 -nologo -v q --configfile "$work/nuget.config" -o "$work/publish" -p:UseAppHost=true
size=$(du -sb "$work/publish" | cut -f1)
mib=$(( (size + 1048575) / 1048576 ))
say "scoring app: dotnet publish -r linux-x64 is $mib MiB ($size bytes)"
if ls "$work/publish" | grep -qi torch; then say "FAILED: the published scoring app carries $(ls "$work/publish" | grep -i torch)"; exit 1; fi
(( mib < 80 )) || { say "FAILED: the published scoring app is $mib MiB; expected under 80"; exit 1; }

# With BLOCKSPARSE_PACKAGE_TEST_IMAGES=1: the same app with what image models need at scoring time
# (ImageAnalytics and SkiaSharp's Linux natives), published the same way, to see the size budget for them.
if [[ ${BLOCKSPARSE_PACKAGE_TEST_IMAGES:-0} == 1 ]]; then
  app ScoreImages Score.cs "BlockSparse.MLNet.Scoring@$version" "Microsoft.ML.ImageAnalytics@5.0.1" "SkiaSharp.NativeAssets.Linux.NoDependencies@2.88.9"
  dotnet publish "$work/ScoreImages" -c Release -r linux-x64 -nologo -v q --configfile "$work/nuget.config" -o "$work/publish-images"
  size=$(du -sb "$work/publish-images" | cut -f1)
  say "scoring app with ImageAnalytics + SkiaSharp natives: dotnet publish -r linux-x64 is $(( (size + 1048575) / 1048576 )) MiB ($size bytes)"
fi
say "passed"
