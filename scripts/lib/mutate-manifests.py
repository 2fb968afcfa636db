#!/usr/bin/env python3
"""Mutated carrier manifests for scripts/probe-manifests.sh: hostile and near-valid values where a real
file would carry codes, numbers and text, so that files get past the syntax check into the mapping, the
library and the agency copies.

  mutate-manifests.py cuscar SEED_DIR OUT_DIR SEED COUNT   (SEED_DIR: valid CUSCARs, e.g. from route-bench)
  mutate-manifests.py xml SAMPLE.xml OUT_DIR SEED COUNT    (SAMPLE.xml: a valid manifest-1.xsd document)

Each CUSCAR mutant: 1 to 3 edits (a data element or component replaced, a segment duplicated, dropped or
swapped), UNT recounted, its own interchange reference and (97 %) its own BGM document number. Each XML
mutant: 1 to 3 edits (a leaf's text or attribute replaced, an element duplicated or dropped), its own
DocumentNumber, Function mostly "original". Deterministic for a seed."""
import copy, os, random, re, sys
import xml.etree.ElementTree as ET

HOSTILE = ["", "X" * 600, "-1", "1E400", "99999999999999999999", "0", "<&>\"'", "A?B", "20250231", "202502281", "ÿÿÿ",
           "é" * 40, "-0.0", "1.5", "NaN", "000", "ZZZZ", "1", "9999", "25:61", "202513012500", "\t", " ", "ABC DEF", "1-1",
           ".5", "5.", "X" * 35, "X" * 36, "X" * 71, "&#x1;", "]]>", "<!DOCTYPE x>", "AAAU1234567", "ABCU1234560", "99", "4",
           "5", "9", "3", "0101", "999999", "KGM", "TNE", "LBR", "GRM", "MTR", "1234567890123456789", "2", "CN", "BM", "BH",
           "AAE", "G", "16", "11"]
GENTLE = ["A", "AB", "ABC", "ZZ", "ZZ999", "1A", "00", "0", "00000", "99999", "X1", "CNSHA", "KEMBA", "DEHAM", "US", "CN",
          "2.1", "1.4S", "9", "3", "1203", "123456", "12345678", "Q", "45G1", "CT", "PK", "AB12", "a", "ab", "cnsha", "1234",
          "2", "10"]
XML_VALUES = ["", "X" * 35, "X" * 36, "A" * 512, "A" * 513, "B" * 8192, "01", " 1", "0", "99999", "100000", "999999999",
              "9999999999999", "9999999999999.99999999999999999999", "0.00000000000000000001", "CNSHA", "cnsha", "ZZ999",
              "CN", "PA", "1.4S", "2.1", "9", "45G1", "CT", "1A", "123456", "1234567890", "1263", "full", "empty",
              "original", "replace", "change", "cancel", "sea", "road", "rail", "air", "inlandWaterway",
              "2024-05-17T08:30:00+08:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999-14:00", "MSCU1234566",
              "CSQU3054383", "TGHU8765436", "COSU4001201", "ÿé民生", "a b", "A'B", "A+B", "A:B", "A?B", "A\"B", "<>&",
              "CHANGJIANG STAR 88 " * 3]


def split(text, sep):
    """Splits on `sep` outside ?-escapes (EDIFACT's release character)."""
    parts, cur, i = [], "", 0
    while i < len(text):
        c = text[i]
        if c == "?" and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if c == sep:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def cuscar(seed_dir, out, rnd, count):
    seeds = [open(os.path.join(seed_dir, f), encoding="latin-1").read() for f in sorted(os.listdir(seed_dir))]
    for k in range(count):
        segs = [s.strip() for s in split(rnd.choice(seeds).strip(), "'") if s.strip()]
        if segs[0].startswith("UNA"):
            segs[0] = "UNA:+.? "
        head, body, unz = segs[:2], segs[2:-1], segs[-1]
        for _ in range(rnd.randint(1, 3)):
            lo, hi = 1, len(body) - 1  # UNH and UNT stay
            if hi <= lo:
                break
            i, r = rnd.randrange(lo, hi), rnd.random()
            if r < 0.7:
                els = split(body[i], "+")
                if len(els) < 2:
                    continue
                e = rnd.randrange(1, len(els) + (1 if rnd.random() < 0.2 else 0))
                while e >= len(els):
                    els.append("")
                comps = split(els[e], ":")
                c = rnd.randrange(0, len(comps) + (1 if rnd.random() < 0.2 else 0))
                while c >= len(comps):
                    comps.append("")
                comps[c] = re.sub(r"([?+:'])", r"?\1", rnd.choice(HOSTILE if rnd.random() < 0.5 else GENTLE))
                els[e] = ":".join(comps)
                body[i] = "+".join(els)
            elif r < 0.8:
                body.insert(i, body[i])
            elif r < 0.9:
                del body[i]
            else:
                j = rnd.randrange(lo, hi)
                body[i], body[j] = body[j], body[i]
        unt = split(body[-1], "+")
        if len(unt) >= 3:
            unt[1] = str(len(body))
            body[-1] = "+".join(unt)
        ref = "MU%010d" % k
        unb = split(head[1], "+")
        unb[5] = ref
        head[1] = "+".join(unb)
        z = split(unz, "+")
        z[2] = ref
        if rnd.random() < 0.97:
            for idx, s in enumerate(body):
                b = split(s, "+")
                if b[0] == "BGM" and len(b) > 2:
                    b[2] = "DOC%06d" % k
                    body[idx] = "+".join(b)
        text = "'".join(head + body + ["+".join(z)]) + "'"
        open(os.path.join(out, "MU%05d.edi" % k), "w", encoding="latin-1").write(text)


def xml(sample, out, rnd, count):
    ns = "urn:swg:manifest:1"
    ET.register_namespace("", ns)
    base = ET.parse(sample).getroot()
    for k in range(count):
        root = copy.deepcopy(base)
        for _ in range(rnd.randint(1, 3)):
            leaves = [e for e in root.iter() if len(e) == 0]
            x = rnd.random()
            if x < 0.75:
                e = rnd.choice(leaves)
                if e.tag.endswith("DocumentNumber"):
                    continue
                if e.attrib and rnd.random() < 0.3:
                    e.set(rnd.choice(list(e.attrib)), rnd.choice(["kg", "t", "lb", "g", "", "-1", "01", "999999999", "1000000000"]))
                else:
                    e.text = rnd.choice(XML_VALUES)
            else:
                parents = {c: p for p in root.iter() for c in p}
                e = rnd.choice(leaves)
                p = parents.get(e)
                if p is None:
                    continue
                if x < 0.9:
                    p.insert(list(p).index(e), copy.deepcopy(e))
                else:
                    p.remove(e)
        for e in root.iter("{%s}DocumentNumber" % ns):
            e.text = "XDOC%06d" % k
        for e in root.iter("{%s}Function" % ns):
            if e.text != "original" and rnd.random() < 0.7:
                e.text = "original"
        ET.ElementTree(root).write(os.path.join(out, "XM%05d.xml" % k), encoding="UTF-8", xml_declaration=True)


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] not in ("cuscar", "xml"):
        sys.exit(__doc__)
    kind, source, out, seed, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    (cuscar if kind == "cuscar" else xml)(source, out, random.Random(seed), count)
