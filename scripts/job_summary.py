#!/usr/bin/env python3
"""Renders meshlint's JSON output as a Markdown table for the GitHub job summary."""
import json
import sys


def cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def main(path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    s = data.get("summary", {})
    print("## meshlint")
    print()
    print("%d errors, %d warnings, %d infos in %d files (%d objects); %d undecided"
          % (s.get("errors", 0), s.get("warnings", 0), s.get("infos", 0), s.get("files", 0),
             s.get("objects", 0), s.get("unknown", 0)))
    findings = data.get("findings", [])
    if not findings:
        return 0
    print()
    print("| Severity | Code | Location | Message |")
    print("|---|---|---|---|")
    for f in findings:
        print("| %s | %s `%s` | `%s:%d:%d` | %s |" % (
            cell(f["severity"]), cell(f["code"]), cell(f["id"]), cell(f["path"]), f["line"],
            f["column"], cell(f["message"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
