#!/usr/bin/env python3
"""Writes the envelope-level EDIFACT fixtures: valid variants and one mutated negative per 0085 code.

Each negative gets NAME.expect with the findings it must produce, one per line:
    code segmentNumber byteOffset elementPosition componentPosition
(segment numbers count from 1 at UNB; UNA is not a segment; element positions count the tag as 1,
as CONTRL's 0098 does). Offsets are computed here from the mutated text itself, independently of
the Swift reader. A first line `# options: strict-release` asks the test for that option.
Run from the repository root: python3 scripts/make-edifact-fixtures.py
"""
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "EDIFACTTests", "Fixtures")

BASE = """UNA:+.? '
UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000123++CUSCAR'
UNH+M0001+CUSCAR:D:95B:UN'
BGM+85+MAN2025-0042+9'
DTM+137:202501310930:203'
RFF+AFB:MAN2025-0042'
NAD+CA+MSC:172:20'
TDT+20+FA503R+1++MSC:172:20+++3FZO7:103::MSC GULSUN'
LOC+5+CNSHA:139:6'
LOC+60+KEMBA:139:6'
DTM+132:202502051400:203'
EQD+CN+MSCU1234566+45G1:102:5++3+5'
MEA+AAE+G+KGM:18250'
SEL+FJ123456+CA'
EQD+CN+TGHU7654320+22G1:102:5++3+5'
MEA+AAE+G+KGM:9800'
SEL+FJ123457+CA'
CNT+16:2'
CNI+1+MEDUSH123456'
RFF+BM:MEDUSH123456'
LOC+9+CNSHA:139:6'
LOC+11+KEMBA:139:6'
NAD+CZ+++SHANGHAI EXPORTS LTD'
NAD+CN+++NAIROBI IMPORTS LTD'
GID+1+120:CT'
FTX+AAA+++COTTON T-SHIRTS?, KNITTED'
MEA+AAE+G+KGM:18250'
SGP+MSCU1234566+120'
PCI+24+MARKS 1-120'
CST++610910:122'
GID+2+40:PK'
FTX+AAA+++MACHINE PARTS'
MEA+AAE+G+KGM:9800'
SGP+TGHU7654320+40'
CST++847990:122'
UNT+34+M0001'
UNZ+1+CUS000123'
"""

# The body of the message above (BGM..CST), reused to build multi-message interchanges.
BODY = BASE.split("UNH+M0001+CUSCAR:D:95B:UN'\n")[1].split("UNT+34+M0001'")[0]

CUSRES_BODY = """BGM+962+RES2025000777+9'
DTM+137:202501311002:203'
GIS+1'
RFF+AFB:MAN2025-0042'
DTM+171:202501310930:203'
RFF+BM:MEDUSH123456'
"""


def segments(text):
    """(number, offset, segment text) for each segment; UNA is not a segment."""
    out, n, i = [], 0, 0
    if text.startswith("UNA"):
        i = 9
    while i < len(text):
        while i < len(text) and text[i] in "\r\n":
            i += 1
        if i >= len(text):
            break
        j = i
        while j < len(text):
            if text[j] == "?":
                j += 2
                continue
            if text[j] == "'":
                break
            j += 1
        n += 1
        out.append((n, i, text[i:j]))
        i = j + 1
    return out


def byte_offset(text, char_index):
    return len(text[:char_index].encode("utf-8"))


def at(text, seg_prefix, element=0, component=0, nth=1):
    """Finding position at the value (element, component; tag = element 1) of the nth segment starting with seg_prefix."""
    count = 0
    for n, off, seg in segments(text):
        if seg.startswith(seg_prefix):
            count += 1
            if count < nth:
                continue
            if element <= 1:
                return n, byte_offset(text, off)
            # walk to the value
            e, c, k = 1, 1, 0
            while k < len(seg) and not (e == element and c == max(component, 1)):
                ch = seg[k]
                if ch == "?":
                    k += 2
                    continue
                if ch == "+":
                    e, c = e + 1, 1
                elif ch == ":":
                    c += 1
                k += 1
            return n, byte_offset(text, off + k)
    raise KeyError(seg_prefix)


def write(kind, name, text, expect=(), options=None):
    d = os.path.join(ROOT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".edi"), "wb") as f:
        f.write(text.encode("utf-8") if isinstance(text, str) else text)
    if kind == "invalid":
        with open(os.path.join(d, name + ".expect"), "w") as f:
            if options:
                f.write("# options: %s\n" % options)
            for code, (n, off), el, comp in expect:
                f.write("%d %d %d %d %d\n" % (code, n, off, el, comp))


def mutate(old, new, text=BASE):
    assert old in text, old
    return text.replace(old, new, 1)


def main():
    # --- valid variants -------------------------------------------------------------------------
    # Grouped interchange: UNG/UNE around two messages.
    grouped = ("UNA:+.? '\nUNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000200'\n"
               "UNG+CUSCAR+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+G01+UN+D:95B'\n"
               "UNH+M0001+CUSCAR:D:95B:UN'\n" + BODY + "UNT+34+M0001'\n"
               "UNH+M0002+CUSCAR:D:95B:UN'\n" + BODY + "UNT+34+M0002'\n"
               "UNE+2+G01'\nUNZ+1+CUS000200'\n")
    write("valid", "cuscar-d95b-grouped", grouped)
    # Level B: UNOB without UNA, information separators, no line breaks.
    levelb = BASE.split("\n", 1)[1].replace("?,", ",").replace("UNOC", "UNOB")
    levelb = levelb.replace("'\n", "\x1c").replace("+", "\x1d").replace(":", "\x1f")
    write("valid", "cuscar-d95b-unob-level-b", levelb)
    # Syntax version 4 with the repetition separator and a Chinese party name in UNOY (UTF-8).
    v4 = (mutate("UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000123++CUSCAR'",
                 "UNB+UNOY:4+CARRIERX:ZZZ+SWGATEWAY:ZZZ+20250131:0930+CUS000123++CUSCAR'")
          .replace("UNA:+.? '", "UNA:+.?*'")
          .replace("NAD+CN+++NAIROBI IMPORTS LTD'", "NAD+CN+++上海进出口有限公司重庆分公司第一国际物流部门:进口部'"))
    write("valid", "cuscar-d95b-unoy-v4-chinese", v4)
    # Several interchanges in one file.
    write("valid", "cuscar-d95b-two-interchanges", BASE + BASE.replace("CUS000123", "CUS000124"))

    # --- negatives --------------------------------------------------------------------------------
    t = mutate("UNZ+1+CUS000123'", "UNZ+1+CUS000124'")
    write("invalid", "28-unz-reference", t, [(28, at(t, "UNZ", 3), 3, 0)])
    t = mutate("UNZ+1+CUS000123'", "UNZ+2+CUS000123'")
    write("invalid", "29-unz-count", t, [(29, at(t, "UNZ", 2), 2, 0)])
    t = mutate("UNT+34+M0001'", "UNT+33+M0001'")
    write("invalid", "29-unt-count", t, [(29, at(t, "UNT", 2), 2, 0)])
    t = mutate("UNT+34+M0001'", "UNT+34+M0002'")
    write("invalid", "28-unt-reference", t, [(28, at(t, "UNT", 3), 3, 0)])
    t = mutate("UNT+34+M0001'\n", "")
    write("invalid", "13-missing-unt", t, [(13, at(t, "UNZ"), 0, 0)])
    t = BASE.replace("UNZ+1+CUS000123'\n", "")
    write("invalid", "13-missing-unz-truncated", t, [(13, (len(segments(t)) + 1, len(t.encode())), 0, 0)])
    cut = BASE.index("FTX+AAA+++MACHINE PARTS'") + len("FTX+AAA+++MACHINE PA")
    t = BASE[:cut]
    write("invalid", "18-truncated-inside-segment", t, [(18, at(t, "FTX+AAA+++MACHINE"), 0, 0)])
    t = "UNA:+.? '\nUNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000300'\nUNZ+0+CUS000300'\n"
    write("invalid", "32-empty-interchange", t, [(32, at(t, "UNZ"), 0, 0)])
    t = mutate("UNT+34+M0001'\n", "UNT+34+M0001'\nFTX+AAI+++STRAY TEXT'\n")
    write("invalid", "33-segment-outside-message", t, [(33, at(t, "FTX+AAI"), 0, 0)])
    t = (BASE.replace("UNZ+1+CUS000123'", "UNH+M0001+CUSCAR:D:95B:UN'\n" + BODY + "UNT+34+M0001'\nUNZ+2+CUS000123'"))
    write("invalid", "26-duplicate-message-reference", t, [(26, at(t, "UNH", 2, nth=2), 2, 0)])
    t = grouped.replace("UNE+2+G01'\nUNZ+1+CUS000200'", "UNE+2+G01'\nUNH+M0003+CUSCAR:D:95B:UN'\n" + BODY + "UNT+34+M0003'\nUNZ+2+CUS000200'")
    # UNZ counts groups when groups are used: 1 group, so the count 2 is wrong too.
    write("invalid", "30-groups-and-messages-mixed", t, [(30, at(t, "UNH", nth=3), 0, 0), (29, at(t, "UNZ", 2), 2, 0)])
    t = grouped.replace("UNH+M0002+CUSCAR:D:95B:UN'\n" + BODY + "UNT+34+M0002'",
                        "UNH+M0002+CUSRES:D:96A:UN'\n" + CUSRES_BODY + "UNT+8+M0002'")
    write("invalid", "31-message-type-not-of-group", t, [(31, at(t, "UNH", 3, 1, nth=2), 3, 1)])
    t = grouped.replace("UNE+2+G01'", "UNE+3+G01'")
    write("invalid", "29-une-count", t, [(29, at(t, "UNE", 2), 2, 0)])
    t = grouped.replace("UNE+2+G01'", "UNE+2+G02'")
    write("invalid", "28-une-reference", t, [(28, at(t, "UNE", 3), 3, 0)])
    t = grouped.replace("UNE+2+G01'\n", "")
    write("invalid", "13-missing-une", t, [(13, at(t, "UNZ"), 0, 0)])
    t = mutate("UNB+UNOC:3", "UNB+UNOZ:3")
    write("invalid", "2-unknown-syntax-identifier", t, [(2, at(t, "UNB", 2, 1), 2, 1)])
    t = mutate("UNB+UNOC:3", "UNB+UNOC:7")
    write("invalid", "2-unknown-syntax-version", t, [(2, at(t, "UNB", 2, 2), 2, 2)])
    t = mutate("UNA:+.? '", "UNA:+.?+'")
    write("invalid", "20-una-separator-used-twice", t, [(20, (1, 0), 0, 0)])
    t = mutate("UNB+UNOC:3", "UNB+UNOA:3").replace("NAD+CZ+++SHANGHAI EXPORTS LTD'", "NAD+CZ+++Shanghai EXPORTS LTD'")
    n, off = at(t, "NAD+CZ", 5, 1)
    write("invalid", "21-lower-case-in-unoa", t, [(21, (n, off + 1), 5, 1)])
    t = BASE
    n, off = at(t, "FTX+AAA+++COTTON", 5, 1)
    write("invalid", "22-release-before-ordinary-character", t,
          [(22, (n, off + len("COTTON T-SHIRTS")), 5, 1)], options="strict-release")
    t = v4.replace("BGM+85+MAN2025-0042+9'", "BGM+85+MAN2025-0042+9+'")
    write("invalid", "45-trailing-separator-v4", t, [(45, at(t, "BGM", 5), 5, 1)])
    t = BASE.replace("CUS000123", "CUS0001234567890")
    write("invalid", "39-unb-reference-too-long", t, [(39, at(t, "UNB", 6), 6, 0), (39, at(t, "UNZ", 3), 3, 0)])
    t = mutate("250131:0930", "25013:0930")
    write("invalid", "40-unb-date-too-short", t, [(40, at(t, "UNB", 5, 1), 5, 1)])
    t = b"\x00\x01PK\x03\x04 this is not EDIFACT at all"
    write("invalid", "13-not-edifact", t, [(13, (1, 0), 0, 0)])
    write("invalid", "32-empty-file", b"", [(32, (1, 0), 0, 0)])


if __name__ == "__main__":
    main()
