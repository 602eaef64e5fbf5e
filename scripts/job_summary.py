#!/usr/bin/env python3
"""Renders meshlint's JSON output as a Markdown table for the GitHub job summary.

Text from the manifests (names, paths, messages) is escaped for Markdown and HTML, and control,
bidi and zero-width characters are dropped, so a hostile manifest cannot inject markup, links
or hidden text. GitHub drops summaries over 1 MiB: the first MAX_ROWS findings are listed in
full, the rest counted per rule.
"""
import collections
import json
import sys
import unicodedata

MAX_ROWS = 500
# Characters that change how the text reads without being visible.
INVISIBLE = {"\u00ad", "\u061c", "\u180e", "\ufeff"} | {chr(c) for c in range(0x200b, 0x2010)} \
    | {chr(c) for c in range(0x2028, 0x202f)} | {chr(c) for c in range(0x2060, 0x2070)}


def clean(s):
    """Drops control and invisible characters (newlines become spaces)."""
    out = []
    for ch in str(s):
        if ch in "\n\r\t":
            out.append(" ")
        elif ch in INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def cell(s):
    """Text for a table cell: HTML entities for markup characters, backslashes for Markdown."""
    s = clean(s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch, ent in (("|", "&#124;"), ("`", "&#96;"), ("[", "&#91;"), ("]", "&#93;"),
                    ("*", "&#42;"), ("_", "&#95;"), ("~", "&#126;"), ("\\", "&#92;")):
        s = s.replace(ch, ent)
    return s


def code(s):
    """Inline code that survives any content (no backtick can close it)."""
    return "<code>%s</code>" % cell(s)


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def main(path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    s = data.get("summary", {})
    print("## meshlint")
    print()
    print("%s, %s, %s in %s (%s); %d undecided"
          % (plural(s.get("errors", 0), "error"), plural(s.get("warnings", 0), "warning"),
             plural(s.get("infos", 0), "info"), plural(s.get("files", 0), "file"),
             plural(s.get("objects", 0), "object"), s.get("unknown", 0)))
    findings = data.get("findings", [])
    if not findings:
        return 0
    print()
    print("| Severity | Code | Location | Message |")
    print("|---|---|---|---|")
    for f in findings[:MAX_ROWS]:
        print("| %s | %s %s | %s | %s |" % (
            cell(f["severity"]), cell(f["code"]), code(f["id"]),
            code("%s:%d:%d" % (f["path"], f["line"], f["column"])), cell(f["message"])))
    rest = findings[MAX_ROWS:]
    if rest:
        print()
        print("%s more not listed (job summaries are limited to 1 MiB); by rule:"
              % plural(len(rest), "finding"))
        print()
        print("| Code | Findings |")
        print("|---|---|")
        for c, n in sorted(collections.Counter(f["code"] for f in rest).items()):
            print("| %s | %d |" % (cell(c), n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
