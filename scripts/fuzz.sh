#!/usr/bin/env bash
# Runs one cargo-fuzz target for a given time: scripts/fuzz.sh TARGET SECONDS
#
#   TARGET   loader (bytes -> YAML tree) or pipeline (text -> all rules -> every output format)
#   SECONDS  how long to fuzz (libFuzzer -max_total_time)
#
# The corpus (fuzz/corpus/TARGET) is seeded from fixtures/ and tests/regressions/ on every run
# and grows between runs. Crashing inputs land in fuzz/artifacts/TARGET/: copy each one to
# tests/regressions/TARGET-<what> (tests/adversarial.rs replays them) and fix the bug.
#
# Works on a stable toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags. Environment:
#   FUZZ_TOOLCHAIN  rustup toolchain to use (default: the active one), e.g. nightly
#   FUZZ_SANITIZER  address (default) or none (faster, finds panics and hangs only)
#   FUZZ_JOBS       parallel fuzzing processes (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 loader|pipeline SECONDS" >&2
  exit 2
fi
target=$1
seconds=$2
case "$target" in
  loader | pipeline) ;;
  *) echo "unknown target '$target' (loader, pipeline)" >&2; exit 2 ;;
esac

if ! cargo fuzz --version > /dev/null 2>&1; then
  echo "== installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

corpus=fuzz/corpus/$target
mkdir -p "$corpus"
# Seed: every fixture and regression input, named by its path so reruns do not duplicate.
while IFS= read -r -d '' f; do
  cp -n "$f" "$corpus/seed-$(echo "$f" | tr '/ ' '__')" 2> /dev/null || true
done < <(find fixtures tests/regressions -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -path 'tests/regressions/*' \) ! -name README.md -print0)

parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
  parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi
toolchain=()
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  toolchain=("+$FUZZ_TOOLCHAIN")
fi
export RUSTC_BOOTSTRAP=1
echo "== fuzzing $target for ${seconds}s (sanitizer ${FUZZ_SANITIZER:-address}, corpus $corpus)" >&2
cargo "${toolchain[@]}" fuzz run --sanitizer "${FUZZ_SANITIZER:-address}" "$target" "$corpus" -- \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -max_len=65536 \
  -dict=fuzz/yaml.dict \
  "${parallel[@]}" \
  -print_final_stats=1
