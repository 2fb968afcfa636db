#!/usr/bin/env python3
# gen-cuscar.py TEMPLATE DROP N KB [PREFIX [distinct]]: N CUSCAR interchanges of about KB kilobytes each into DROP,
# made from TEMPLATE (the sample manifest): more consignments (CNI groups, renumbered) until the file is about K KB,
# the UNT count fixed, and a distinct interchange reference per file (so every file has its own hash). With
# "distinct", each file is also its own manifest (BGM document number PREFIX + number), so every one is filed and
# routed; else they all repeat the sample's manifest number. Used by the benchmarks.
import os, sys
tpl = open(sys.argv[1], "rb").read().decode("latin-1"); drop = sys.argv[2]; n = int(sys.argv[3])
target = int(float(sys.argv[4]) * 1000)
segs = [x.strip("\n") for x in tpl.split("'") if x.strip("\n")]
una, unb, body, unz = segs[0], segs[1], segs[2:-2], segs[-1]
cni_start = next(i for i, x in enumerate(body) if x.startswith("CNI+"))
head, group = body[:cni_start], body[cni_start:]
def render(groups):
    msg = list(head)
    for g in range(1, groups + 1):
        block = list(group); block[0] = f"CNI+{g}+MEDUSH{123456 + g}"; block[1] = f"RFF+BM:MEDUSH{123456 + g}"
        msg += block
    msg.append(f"UNT+{len(msg) + 1}+M0001")
    return msg
groups = 1
while len("'\n".join(render(groups + 1))) + 200 <= target: groups += 1
msg = "'\n".join(render(groups))
prefix = sys.argv[5] if len(sys.argv) > 5 else "R"
distinct = len(sys.argv) > 6 and sys.argv[6] == "distinct"
for i in range(n):
    ref = prefix + "%0*d" % (13 - len(prefix), i)  # 13 characters (0020 is an..14)
    u = unb.replace("+CUS000123++", f"+{ref}++")
    body = msg.replace("BGM+85+MAN2025-0042+", f"BGM+85+MAN-{ref}+") if distinct else msg
    data = f"{una}'\n{u}'\n{body}'\nUNZ+1+{ref}'\n".encode("latin-1")
    with open(os.path.join(drop, "bench-%s%06d.edi" % (prefix, i)), "wb") as f: f.write(data)
