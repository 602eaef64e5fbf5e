#!/usr/bin/env bash
# Precision measurement on real public repositories; see docs/precision.md.
#
# Lints each repository of the list below (one snapshot each, at a pinned commit) from the
# subtree a user would lint, and prints per repository the findings by code and severity, the
# unknowns by code, the notices meshlint printed (skipped kustomize / Helm folders), and the
# difference with the counts measured with the engine before the world model (docs/precision.md).
# Whether each finding is true or false is judged by reading the manifests: that part is in
# docs/precision.md, not here.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: MESHLINT=/path/to/meshlint bench/precision.sh [options] [REPOS_DIR]
  REPOS_DIR        extracted repositories, one folder per name below (default /tmp/repos)
  --fetch          first clone every missing repository at its pinned commit (git over https)
                   and copy the .yaml/.yml/.json files of its subtree into REPOS_DIR/<name>/
  --closed-world   lint with --closed-world
  --only NAME      only this repository (repeatable)
  --out DIR        keep meshlint's JSON and stderr here (env OUT, default /tmp/meshlint-precision)
Layout: REPOS_DIR/<name>/<subtree>/... holds the repository's files at their own paths (only
.yaml, .yml and .json files are needed). The lint runs from REPOS_DIR on `<name>/<subtree>`, so
paths in the output read `<name>/<path in the repository>`.
Environment: MESHLINT (binary, default target/release/meshlint), OUT, GIT_URL (clone URL
pattern for --fetch, %s = owner/repo; default https://github.com/%s.git).
Exit status: 0 when every present repository was linted, 2 when meshlint failed or nothing ran.
EOF
}

# name | owner/repo | commit | subtree linted ("." = the whole repository)
REPOS='
istio|istio/istio|86c9f01fd735fb01d8192f5bcaf0d424afb7f14c|samples
gke-networking-recipes|GoogleCloudPlatform/gke-networking-recipes|cce161862be77c541b1b1eac8899e7012f5a9985|.
istio-samples|GoogleCloudPlatform/istio-samples|3b73ff8ee2b1f70d09973aba5f8a31a5e2849e13|.
anthos-service-mesh-samples|GoogleCloudPlatform/anthos-service-mesh-samples|8f853c9f9ecdcf3318c49d87a2cccba427af8fa8|.
istio-on-eks|aws-samples/istio-on-eks|0978632deb7079feaa60a68d5435a5ad1b102025|.
anthos-config-management-samples|GoogleCloudPlatform/anthos-config-management-samples|d94cab09dfb77ad4f2d93c0087e449e6598fa9b9|.
eks-workshop-v2|aws-samples/eks-workshop-v2|bb1b30007ba61a406d5efc18e48dff87ea879a36|manifests
gitops-istio|stefanprodan/gitops-istio|3851e1802537cd5f7f833b05502f6db1f4528f47|.
eks-alb-istio-with-tls|aws-samples/eks-alb-istio-with-tls|1dddec451e541bb4518155318562c2ebe79ea7c2|.
'

# Counts measured with the engine before the world model (release build of main at 8909feb,
# open world, --fail-on never): name | CODE:severity=count ... | unknown CODE=count ...
BEFORE='
istio|IGW001:e=3 IGW002:w=1 IGW003:i=3 IRT008:e=1 IRT009:e=5 IRT011:e=20 IRT012:w=1 IRT014:w=1 IRT015:w=1 IRT016:w=3 IRT017:w=1 WRK002:i=5 WRK006:i=3 WRK009:i=1 YAML001:e=1|IRT007=5 WRK005=8
gke-networking-recipes|GKE002:i=18 MC003:i=1 MC003:w=1 WRK001:w=1 WRK002:i=2 WRK005:i=6 WRK006:i=57 YAML001:e=4|IGW004=1 WRK005=1
istio-samples|API005:w=17 IGW003:i=2 IRT005:w=1 IRT007:e=1 IRT011:e=10 IRT017:w=1|IRT001=1 WRK005=4
anthos-service-mesh-samples|API005:w=2 GKE002:i=1 GKE003:w=2 IGW001:e=2 IGW003:i=2 IRT001:e=1 IRT005:w=2 IRT008:e=1 IRT009:e=2 IRT011:e=6 IRT014:w=2 IRT017:w=8 MC003:w=1 SE001:w=1 SE002:w=1 WRK001:w=1 WRK007:w=14|IGW004=5 IRT005=2 IRT007=2 WRK005=2
istio-on-eks|IRT009:e=22 IRT011:e=16 IRT014:w=3 WRK002:i=2|IRT005=3 IRT007=21 WRK005=2
anthos-config-management-samples|GKE002:i=2 WRK001:w=1 WRK006:i=4 YAML001:e=1|GKE003=1 WRK001=1
eks-workshop-v2|ALB003:i=2 ALB003:w=5 WRK001:w=3 YAML002:e=1|
gitops-istio||
eks-alb-istio-with-tls||WRK005=1
'

here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/.." && pwd)"
MESHLINT="${MESHLINT:-$repo_root/target/release/meshlint}"
OUT="${OUT:-/tmp/meshlint-precision}"
# Where --fetch clones from; %s is owner/repo (a local mirror works too: file:///srv/git/%s.git).
GIT_URL="${GIT_URL:-https://github.com/%s.git}"
REPOS_DIR=/tmp/repos
FETCH=0
EXTRA=()
ONLY=()

while [ $# -gt 0 ]; do
  case "$1" in
    --fetch) FETCH=1; shift ;;
    --closed-world) EXTRA+=(--closed-world); shift ;;
    --only) [ $# -ge 2 ] || { echo "precision.sh: --only needs a name" >&2; exit 2; }; ONLY+=("$2"); shift 2 ;;
    --out) [ $# -ge 2 ] || { echo "precision.sh: --out needs a directory" >&2; exit 2; }; OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "precision.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) REPOS_DIR="$1"; shift ;;
  esac
done

command -v python3 >/dev/null || { echo "precision.sh: needs python3" >&2; exit 2; }
for n in ${ONLY[@]+"${ONLY[@]}"}; do
  grep -q "^$n|" <<<"$REPOS" || { echo "precision.sh: no repository named $n in the list" >&2; exit 2; }
done
[ -x "$MESHLINT" ] || { echo "precision.sh: no meshlint binary at $MESHLINT (set MESHLINT)" >&2; exit 2; }
mkdir -p "$OUT" "$REPOS_DIR"
REPOS_DIR="$(cd "$REPOS_DIR" && pwd)"

wanted() {
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local n
  for n in "${ONLY[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

# Clones owner/repo at commit and copies the manifest files of the subtree to REPOS_DIR/name.
fetch_repo() {
  local name="$1" slug="$2" commit="$3" subtree="$4" tmp
  tmp="$(mktemp -d)"
  git -C "$tmp" init -q
  # shellcheck disable=SC2059
  git -C "$tmp" remote add origin "$(printf "$GIT_URL" "$slug")"
  if ! git -C "$tmp" fetch -q --depth 1 --filter=blob:limit=4m origin "$commit" 2>/dev/null &&
     ! git -C "$tmp" fetch -q --depth 1 origin "$commit"; then
    echo "precision.sh: cannot fetch $slug@$commit" >&2
    rm -rf "$tmp"; return 1
  fi
  mkdir -p "$REPOS_DIR/$name"
  git -C "$tmp" ls-tree -r --name-only FETCH_HEAD -- "$subtree" | grep -Ei '\.(ya?ml|json)$' |
    while IFS= read -r f; do
      mkdir -p "$REPOS_DIR/$name/$(dirname "$f")"
      git -C "$tmp" show "FETCH_HEAD:$f" >"$REPOS_DIR/$name/$f" 2>/dev/null || rm -f "$REPOS_DIR/$name/$f"
    done
  printf '%s %s\n' "$slug" "$commit" >"$REPOS_DIR/$name.source"
  rm -rf "$tmp"
}

status=0
ran=0
rm -f "$OUT/.ran"
while IFS='|' read -r name slug commit subtree; do
  [ -n "$name" ] || continue
  wanted "$name" || continue
  if [ ! -d "$REPOS_DIR/$name" ] && [ "$FETCH" = 1 ]; then
    fetch_repo "$name" "$slug" "$commit" "$subtree" || { status=2; continue; }
  fi
  target="$name"
  [ "$subtree" = "." ] || target="$name/$subtree"
  if [ ! -e "$REPOS_DIR/$target" ]; then
    echo "== $name ($slug @ ${commit:0:7}, $subtree): missing $REPOS_DIR/$target (run with --fetch)"
    continue
  fi
  rc=0
  (cd "$REPOS_DIR" && "$MESHLINT" --format json --fail-on never --show-unknown ${EXTRA[@]+"${EXTRA[@]}"} "$target") \
    >"$OUT/$name.json" 2>"$OUT/$name.stderr" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "== $name: meshlint exited $rc; see $OUT/$name.stderr" >&2
    status=2
    continue
  fi
  ran=$((ran + 1))
  printf '%s|%s|%s|%s\n' "$name" "$slug" "$commit" "$subtree" >>"$OUT/.ran"
done <<<"$REPOS"

[ "$ran" -gt 0 ] || { echo "precision.sh: nothing was linted" >&2; exit 2; }

BEFORE="$BEFORE" MODE="${EXTRA[*]:-open world}" python3 - "$OUT" <<'PY'
import collections, json, os, sys

out = sys.argv[1]
ran = [l.rstrip("\n").split("|") for l in open(os.path.join(out, ".ran"))]
os.remove(os.path.join(out, ".ran"))
sev_short = {"error": "e", "warning": "w", "info": "i"}
before = {}
for line in os.environ["BEFORE"].strip().splitlines():
    name, found, unknown = line.split("|")
    f = collections.Counter()
    for item in found.split():
        key, n = item.split("=")
        f[tuple(key.split(":"))] = int(n)
    u = collections.Counter({k: int(n) for k, n in (i.split("=") for i in unknown.split())})
    before[name] = (f, u)

if os.environ["MODE"] != "open world":
    print(f"note: this run uses {os.environ['MODE']}; the 'before' column is the open-world measurement")
tot_now = collections.Counter()
tot_before = collections.Counter()
for name, slug, commit, subtree in ran:
    d = json.load(open(os.path.join(out, name + ".json")))
    now = collections.Counter((f["code"], sev_short.get(f["severity"], f["severity"])) for f in d["findings"])
    unk = collections.Counter(f["code"] for f in d["unknown"])
    bf, bu = before.get(name, (collections.Counter(), collections.Counter()))
    notices = [l for l in open(os.path.join(out, name + ".stderr")) if l.strip()]
    s = d["summary"]
    print(f"== {name}  ({slug} @ {commit[:7]}, subtree {subtree})")
    print(f"   {s['files']} files, {s['objects']} objects: {s['errors']} errors, {s['warnings']} warnings, "
          f"{s['infos']} infos, {s['unknown']} unknown; {len(notices)} notices")
    print(f"   {'code':8} {'sev':4} {'now':>5} {'before':>7}")
    for key in sorted(set(now) | set(bf)):
        mark = "" if now[key] == bf[key] else f"  ({now[key] - bf[key]:+d})"
        print(f"   {key[0]:8} {key[1]:4} {now[key]:5} {bf[key]:7}{mark}")
    for code in sorted(set(unk) | set(bu)):
        mark = "" if unk[code] == bu[code] else f"  ({unk[code] - bu[code]:+d})"
        print(f"   {code:8} {'unk':4} {unk[code]:5} {bu[code]:7}{mark}")
    for sev in ("e", "w", "i"):
        tot_now[sev] += sum(n for (c, v), n in now.items() if v == sev)
        tot_before[sev] += sum(n for (c, v), n in bf.items() if v == sev)
    tot_now["unk"] += sum(unk.values())
    tot_before["unk"] += sum(bu.values())
    for l in notices[:5]:
        print("   notice:", l.rstrip()[:160])
    if len(notices) > 5:
        print(f"   ... {len(notices) - 5} more notices in {os.path.join(out, name + '.stderr')}")
print("== total over the repositories linted")
for sev, label in (("e", "errors"), ("w", "warnings"), ("i", "infos"), ("unk", "unknown")):
    print(f"   {label:9} now {tot_now[sev]:4}   before {tot_before[sev]:4}")
print("Classify the error and warning findings by reading the manifests (docs/precision.md).")
PY
exit "$status"
