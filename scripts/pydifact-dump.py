#!/usr/bin/env python3
"""Prints the segments pydifact (PyPI pydifact==0.2.3) reads from EDIFACT files, as canonical JSON.

usage: pydifact-dump.py FILE              -> a JSON array of {"tag": ..., "elements": [[component, ...], ...]}
       pydifact-dump.py --jsonl FILE...   -> one line per file: {"file": ..., "segments": [...]} or {"file": ..., "error": ...}

Used by Tests/EDIFACTTests/PydifactDifferentialTests.swift as an independent reading to compare ours with.
The output is pydifact's reading as it is (UNA included, as pydifact yields it), with two shape rules only:
  * bytes are decoded as Latin-1, so every byte is one code point and nothing is lost whatever the
    repertoire (UNOC, UNOY, ...); the Swift side decodes our values the same way;
  * a simple element (pydifact gives a str) becomes a one-component list, so every element is a list.
One input adaptation, because pydifact has no Level B support: a file without UNA whose UNB is followed
by IS3 (0x1D) is parsed with the Level B separators (IS1 component, IS3 element, IS4 terminator, no
release character) passed to pydifact's Parser, as a pydifact user would have to do.
"""
import json
import sys
import warnings


def level_b_characters():
    from pydifact.control import Characters

    chars = Characters(component_separator="\x1f", data_separator="\x1d", segment_terminator="\x1c")
    # Level B has no release character; pydifact's constructor cannot say "none", so use a code point
    # that cannot occur in Latin-1 decoded text.
    chars.escape_character = "\uffff"
    return chars


def read_segments(path):
    from pydifact.parser import Parser

    with open(path, "rb") as f:
        text = f.read().decode("latin-1")
    characters = None
    if not text.startswith("UNA") and text.startswith("UNB\x1d"):
        characters = level_b_characters()
    out = []
    for segment in Parser().parse(text, characters=characters):
        elements = []
        for element in segment.elements:
            if isinstance(element, list):
                elements.append([str(c) for c in element])
            else:
                elements.append([str(element)])
        out.append({"tag": segment.tag, "elements": elements})
    return out


def main():
    warnings.simplefilter("ignore")  # pydifact warns on every service segment it has no XML for
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import pydifact  # noqa: F401
    except ImportError:
        print("pydifact is not installed: run scripts/setup-test-deps.sh", file=sys.stderr)
        return 3
    if args[0] == "--jsonl":
        for path in args[1:]:
            try:
                record = {"file": path, "segments": read_segments(path)}
            except Exception as e:  # pydifact raises on input it cannot read; that is a result too
                record = {"file": path, "error": f"{type(e).__name__}: {e}"}
            print(json.dumps(record, ensure_ascii=True))
        return 0
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(read_segments(args[0]), sys.stdout, ensure_ascii=True, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
