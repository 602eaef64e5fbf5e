#!/usr/bin/env bash
# meshlint end-to-end benchmark on the synthetic scale corpus; see bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/run.sh [options]
  --namespaces N   corpus namespaces            (env NAMESPACES, default 5000)
  --files M        corpus files                 (env FILES, default 500)
  --seed S         generator seed               (env SEED, default 1)
  --out DIR        corpus and results directory (env OUT, default /tmp/meshlint-bench)
  --codes LIST     codes checked against the injected pitfalls, comma separated
                   (env CODES, default GKE002,ALB001,ALB002,TLS001,H2001)
  --runs K         run meshlint K times, report the best wall time (env RUNS, default 1)
  --cpus LIST      pin meshlint to these CPUs with taskset, e.g. 0,1 (env CPUS)
  --strict         also fail on unexpected findings and decoy hits
  --no-build       do not run `cargo build --release`
Other environment: GEN (generator script), MESHLINT (binary to run instead of the release build).
The corpus is regenerated only when its arguments or the generator changed.
Exit status: 0 all checked pitfalls found, 1 some missing, 2 meshlint or setup failure.
EOF
}

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

NAMESPACES="${NAMESPACES:-5000}"
FILES="${FILES:-500}"
SEED="${SEED:-1}"
OUT="${OUT:-/tmp/meshlint-bench}"
CODES="${CODES:-GKE002,ALB001,ALB002,TLS001,H2001}"
RUNS="${RUNS:-1}"
CPUS="${CPUS:-}"
GEN="${GEN:-$here/../../shared/bench/gen_scale_corpus.py}"
BUILD=1
STRICT=()

need_value() { [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --namespaces) need_value "$@"; NAMESPACES="$2"; shift 2 ;;
    --files) need_value "$@"; FILES="$2"; shift 2 ;;
    --seed) need_value "$@"; SEED="$2"; shift 2 ;;
    --out) need_value "$@"; OUT="$2"; shift 2 ;;
    --codes) need_value "$@"; CODES="$2"; shift 2 ;;
    --runs) need_value "$@"; RUNS="$2"; shift 2 ;;
    --cpus) need_value "$@"; CPUS="$2"; shift 2 ;;
    --namespaces=*) NAMESPACES="${1#*=}"; shift ;;
    --files=*) FILES="${1#*=}"; shift ;;
    --seed=*) SEED="${1#*=}"; shift ;;
    --out=*) OUT="${1#*=}"; shift ;;
    --codes=*) CODES="${1#*=}"; shift ;;
    --runs=*) RUNS="${1#*=}"; shift ;;
    --cpus=*) CPUS="${1#*=}"; shift ;;
    --strict) STRICT=(--strict); shift ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

for v in NAMESPACES FILES SEED RUNS; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]] || { [ "$v" != SEED ] && [ "${!v}" -lt 1 ]; }; then
    echo "run.sh: $v must be a positive integer, got '${!v}'" >&2
    exit 2
  fi
done
command -v python3 >/dev/null || { echo "run.sh: python3 is required" >&2; exit 2; }
if [ ! -f "$GEN" ]; then
  echo "run.sh: corpus generator not found: $GEN (set GEN=/path/to/gen_scale_corpus.py)" >&2
  exit 2
fi
OUT="${OUT%/}"
[ -n "$OUT" ] || OUT=/

# ---------------------------------------------------------------- build
if [ -n "${MESHLINT:-}" ]; then
  bin="$MESHLINT"
else
  target_dir="${CARGO_TARGET_DIR:-target}"
  case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
  bin="$target_dir/release/meshlint"
  if [ "$BUILD" = 1 ]; then
    echo "== cargo build --release" >&2
    (cd "$repo" && cargo build --release)
  fi
fi
[ -x "$bin" ] || { echo "run.sh: meshlint binary not found: $bin" >&2; exit 2; }

# ---------------------------------------------------------------- corpus
gen_sha="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$GEN")"
stamp="namespaces=$NAMESPACES files=$FILES seed=$SEED generator=$gen_sha"
if [ -f "$OUT/.bench-corpus" ] && [ "$(cat "$OUT/.bench-corpus")" = "$stamp" ] &&
  [ -d "$OUT/manifests" ] && [ -f "$OUT/expectations.json" ]; then
  echo "== corpus: reusing $OUT ($NAMESPACES namespaces, $FILES files, seed $SEED)" >&2
else
  echo "== corpus: generating $OUT ($NAMESPACES namespaces, $FILES files, seed $SEED)" >&2
  mkdir -p "$OUT"
  rm -rf "$OUT/manifests" "$OUT/expectations.json" "$OUT/.bench-corpus"
  python3 "$GEN" --namespaces "$NAMESPACES" --files "$FILES" --seed "$SEED" --out "$OUT"
  printf '%s\n' "$stamp" >"$OUT/.bench-corpus"
fi

# ---------------------------------------------------------------- run
now() {
  local t
  t="$(date +%s.%N)"
  case "$t" in
    *N*) python3 -c 'import time; print("%.6f" % time.time())' ;;
    *) echo "$t" ;;
  esac
}

cmd=("$bin" --format json --fail-on never "$OUT/manifests")
if [ -n "$CPUS" ]; then
  command -v taskset >/dev/null || { echo "run.sh: --cpus needs taskset (apt-get install util-linux)" >&2; exit 2; }
  cmd=(taskset -c "$CPUS" "${cmd[@]}")
fi
have_time=0
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
  have_time=1
else
  echo "note: GNU time (/usr/bin/time -v) not found: no peak memory figure. Install it with: apt-get install time" >&2
fi

best_wall=""
peak_kb=""
status=0
for ((i = 1; i <= RUNS; i++)); do
  echo "== run $i/$RUNS: ${cmd[*]} > $OUT/out.json" >&2
  rm -f "$OUT/time.txt"
  t0="$(now)"
  set +e
  if [ "$have_time" = 1 ]; then
    /usr/bin/time -v -o "$OUT/time.txt" "${cmd[@]}" >"$OUT/out.json" 2>"$OUT/stderr.txt"
  else
    "${cmd[@]}" >"$OUT/out.json" 2>"$OUT/stderr.txt"
  fi
  status=$?
  set -e
  t1="$(now)"
  wall="$(python3 -c 'import sys; print("%.6f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1")"
  best_wall="$(python3 -c 'import sys; print(min(float(a) for a in sys.argv[1:] if a))' "$wall" "$best_wall")"
  if [ "$have_time" = 1 ]; then
    kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes):[[:space:]]*//p' "$OUT/time.txt")"
    if [ -n "$kb" ] && { [ -z "$peak_kb" ] || [ "$kb" -gt "$peak_kb" ]; }; then peak_kb="$kb"; fi
  fi
  if [ "$status" != 0 ]; then
    echo "warning: meshlint exited with status $status (expected 0 with --fail-on never); stderr:" >&2
    head -n 20 "$OUT/stderr.txt" >&2
    break
  fi
done
if [ -s "$OUT/stderr.txt" ] && [ "$status" = 0 ]; then
  echo "meshlint stderr ($(wc -l <"$OUT/stderr.txt") lines, first 5):" >&2
  head -n 5 "$OUT/stderr.txt" >&2
fi

cores="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"
[ "$status" = 0 ] || echo "(meshlint failed: the figures below are not meaningful)"
python3 - "$OUT" "$best_wall" "${peak_kb:-}" "$cores" "$RUNS" "${CPUS:-all}" <<'PY'
import json, os, sys

out, wall, peak_kb, cores, runs, cpus = sys.argv[1:7]
wall = float(wall)
nbytes = nfiles = 0
for d, _, names in os.walk(os.path.join(out, "manifests")):
    for n in names:
        nbytes += os.path.getsize(os.path.join(d, n))
        nfiles += 1
mb = nbytes / 1e6
mbps = mb / wall if wall > 0 else float("inf")
res = {"input_bytes": nbytes, "input_files": nfiles, "wall_seconds": round(wall, 4),
       "mb_per_s": round(mbps, 2), "cores": cores, "cpus": cpus, "runs": int(runs)}
print("input:       %.2f MB in %d files" % (mb, nfiles))
print("wall:        %.3f s (best of %s; cores online %s, cpus %s)" % (wall, runs, cores, cpus))
print("throughput:  %.1f MB/s   target >= 25 MB/s on 2 cores: %s"
      % (mbps, "OK" if mbps >= 25 else "BELOW"))
if peak_kb:
    rss = int(peak_kb) * 1024 / 1e6
    ratio = rss / mb if mb else float("inf")
    res.update(peak_rss_bytes=int(peak_kb) * 1024, rss_over_input=round(ratio, 2))
    print("peak RSS:    %.1f MB" % rss)
    print("RSS/input:   %.2fx   target < 10x: %s" % (ratio, "OK" if ratio < 10 else "ABOVE"))
else:
    print("peak RSS:    n/a (needs GNU time: apt-get install time)")
with open(os.path.join(out, "bench.json"), "w") as fh:
    json.dump(res, fh, indent=1)
    fh.write("\n")
PY

# ---------------------------------------------------------------- expectations
echo "== expectations ($OUT/expectations.json vs $OUT/out.json)" >&2
set +e
python3 "$here/check_expectations.py" --out "$OUT" --codes "$CODES" ${STRICT[@]+"${STRICT[@]}"}
check=$?
set -e
if [ "$status" != 0 ]; then
  exit 2
fi
exit "$check"
