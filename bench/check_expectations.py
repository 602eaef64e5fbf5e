#!/usr/bin/env python3
"""Compare meshlint's JSON output with the pitfalls and decoys injected by gen_scale_corpus.py.

Usage:
  check_expectations.py --out DIR                       # DIR/expectations.json + DIR/out.json
  check_expectations.py --expectations E.json --findings OUT.json [--codes GKE002,ALB001 ...]

For every expected pitfall whose catalog code is selected (default: GKE002 ALB001 ALB002 TLS001
H2001) prints FOUND or MISSING with file:line. A pitfall counts as found when meshlint reports its
code at the same file and line, or elsewhere in the same YAML document (the line is then shown).
Then lists findings of the selected codes that match no pitfall (possible false positives) and
findings on a decoy (same file and line, or the decoy's code in the decoy's document).

Exit status: 0 if every selected pitfall was found, 1 if some are missing (or, with --strict, if
there are unexpected findings or decoy hits), 2 on unreadable input.
Standard library only.
"""
import argparse
import json
import os
import sys

DEFAULT_CODES = ["GKE002", "ALB001", "ALB002", "TLS001", "H2001"]

# Same table as gen_scale_corpus.py (decoy records carry only "rule", not "code").
RULE_CODES = {
    "gke-ingress-backend-port-443-without-https-app-protocol": "TLS002",
    "neg-service-workload-without-readinessGates": "GKE002",
    "alb-target-type-instance-to-clusterip-service": "ALB001",
    "alb-in-front-of-loadbalancer-gateway-service": "ALB002",
    "istio-httpsredirect-behind-l7-tls-terminating-lb": "TLS001",
    "h2c-or-grpc-port-probed-with-httpGet": "H2001",
    "virtualservice-weights-not-100": "IRT006",
    "virtualservice-subset-not-in-destinationrule": "IRT004",
    "virtualservice-gateway-not-defined": "IRT001",
}


def die(msg):
    sys.stderr.write("check_expectations: %s\n" % msg)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as e:
        die("cannot read %s %s: %s" % (what, path, e.strerror or e))
    except ValueError as e:
        die("%s %s is not valid JSON: %s" % (what, path, e))


def parse_codes(values):
    codes = []
    for v in values or []:
        for c in v.replace(",", " ").split():
            if c not in codes:
                codes.append(c)
    return codes or list(DEFAULT_CODES)


class Documents(object):
    """Maps (relative file, line) to the index of the YAML document holding that line."""

    def __init__(self, root):
        self.root = root
        self.cache = {}

    def starts(self, rel):
        if rel not in self.cache:
            starts = None
            try:
                with open(os.path.join(self.root, rel), encoding="utf-8", errors="replace") as fh:
                    starts = [i + 1 for i, line in enumerate(fh)
                              if line.rstrip("\r\n") == "---" or line.startswith("--- ")]
            except OSError:
                pass
            self.cache[rel] = starts
        return self.cache[rel]

    def doc(self, rel, line):
        """Document index of `line` in `rel`, or None when the file cannot be read."""
        starts = self.starts(rel)
        if starts is None:
            return None
        n = 0
        for s in starts:
            if s <= line:
                n += 1
            else:
                break
        return n


def relative_path(path, known):
    """The expectations-style relative path ('manifests/part-0001.yaml') of a finding's path."""
    p = path.replace("\\", "/")
    if p in known:
        return p
    parts = p.split("/")
    for i in range(1, len(parts)):
        tail = "/".join(parts[i:])
        if tail in known:
            return tail
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="bench output directory (expectations.json, out.json)")
    ap.add_argument("--expectations", help="expectations JSON (default OUT/expectations.json)")
    ap.add_argument("--findings", help="meshlint --format json output (default OUT/out.json)")
    ap.add_argument("--codes", action="append",
                    help="codes to check, comma/space separated, repeatable (default: %s)"
                    % " ".join(DEFAULT_CODES))
    ap.add_argument("--strict", action="store_true",
                    help="also fail on unexpected findings of the checked codes and on decoy hits")
    a = ap.parse_args(argv)
    if not a.expectations and not a.out:
        ap.error("give --out DIR or --expectations FILE")
    if not a.findings and not a.out:
        ap.error("give --out DIR or --findings FILE")
    exp_path = a.expectations or os.path.join(a.out, "expectations.json")
    out_path = a.findings or os.path.join(a.out, "out.json")
    codes = parse_codes(a.codes)
    selected = set(codes)

    exp = load_json(exp_path, "expectations")
    report = load_json(out_path, "meshlint output")
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
        die('%s has no "findings" list' % out_path)
    pitfalls = exp.get("pitfalls", [])
    decoys = exp.get("decoys", [])
    for d in decoys:
        d.setdefault("code", RULE_CODES.get(d.get("rule"), ""))
    docs = Documents(os.path.dirname(os.path.abspath(exp_path)))

    known = set(r["file"] for r in pitfalls + decoys)
    findings = []
    for f in report["findings"]:
        path = f.get("path", f.get("file", ""))
        line = f.get("line")
        if not isinstance(line, int):
            line = (f.get("location") or f.get("span") or {}).get("line")
        findings.append({"code": f.get("code", ""), "path": path, "line": line,
                         "rel": relative_path(path, known), "message": f.get("message", ""),
                         "used": False})

    def same_doc(rel, line, finding):
        if finding["rel"] != rel or finding["line"] is None:
            return False
        a_doc, b_doc = docs.doc(rel, line), docs.doc(rel, finding["line"])
        return a_doc is not None and a_doc == b_doc

    # ------------------------------------------------------------------ pitfalls
    checked = [p for p in pitfalls if p.get("code") in selected]
    others = sorted(set(p.get("code") or p.get("rule") for p in pitfalls
                        if p.get("code") not in selected))
    by_code = {}
    for f in findings:
        by_code.setdefault(f["code"], []).append(f)
    match = {}
    for exact in (True, False):  # exact file:line first, then same document
        for i, p in enumerate(checked):
            if i in match:
                continue
            for f in by_code.get(p["code"], []):
                if f["used"]:
                    continue
                if (f["rel"] == p["file"] and f["line"] == p["line"]) if exact else \
                        same_doc(p["file"], p["line"], f):
                    f["used"] = True
                    match[i] = f
                    break

    missing = 0
    print("pitfalls with codes %s: %d expected, %d found, %d missing"
          % (" ".join(codes), len(checked), len(match), len(checked) - len(match)))
    for i, p in enumerate(checked):
        where = "%s:%d" % (p["file"], p["line"])
        f = match.get(i)
        if f is None:
            missing += 1
            print("  MISSING  %-7s %s  %s %s/%s: %s" % (p["code"], where, p.get("kind", ""),
                                                     p.get("namespace") or "", p.get("name", ""),
                                                     p.get("detail", p.get("rule", ""))))
        elif f["line"] == p["line"]:
            print("  FOUND    %-7s %s" % (p["code"], where))
        else:
            print("  FOUND    %-7s %s  (reported at line %s, same document)"
                  % (p["code"], where, f["line"]))
    if others:
        print("  (not checked: pitfalls with codes %s)" % " ".join(others))

    # ------------------------------------------------------------------ unexpected findings
    unexpected = [f for f in findings if f["code"] in selected and not f["used"]]
    print("findings of these codes matching no pitfall (possible false positives): %d"
          % len(unexpected))
    for f in sorted(unexpected, key=lambda f: (f["path"], f["line"] or 0, f["code"])):
        print("  UNEXPECTED %-7s %s:%s  %s" % (f["code"], f["path"], f["line"], f["message"]))

    # ------------------------------------------------------------------ decoys
    hits = []
    for d in decoys:
        for f in findings:
            if f["rel"] != d["file"] or f["line"] is None:
                continue
            if f["line"] == d["line"]:
                hits.append((d, f, "same line"))
            elif f["code"] and f["code"] == d["code"] and same_doc(d["file"], d["line"], f):
                hits.append((d, f, "same document"))
    print("decoys: %d, findings on decoys: %d" % (len(decoys), len(hits)))
    for d, f, how in hits:
        print("  DECOY HIT %-7s %s:%s (%s; decoy %s:%d %s: %s)  %s"
              % (f["code"], f["path"], f["line"], how, d["file"], d["line"], d.get("rule", ""),
                 d.get("detail", ""), f["message"]))

    counts = {}
    for f in findings:
        counts[f["code"]] = counts.get(f["code"], 0) + 1
    print("all findings by code: %s" % (", ".join("%s=%d" % kv for kv in sorted(counts.items()))
                                        or "none"))
    if missing:
        return 1
    if a.strict and (unexpected or hits):
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        sys.exit(1)
