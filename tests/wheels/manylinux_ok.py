"""Reads `auditwheel show --json WHEEL` on standard input; fails unless auditwheel finds the wheel
manylinux for ARCH (the argument) with glibc no newer than 2.17, needing no library outside the
policy's, and the wheel's file name claims no newer tag than that."""
import json
import re
import sys

arch = sys.argv[1]
LEGACY = {"manylinux1": 5, "manylinux2010": 12, "manylinux2014": 17}


def glibc_minor(tag: str) -> int:
    m = re.fullmatch(r"manylinux_2_(\d+)_" + arch, tag)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(manylinux\d+)_" + arch, tag)
    assert m and m.group(1) in LEGACY, f"{tag} is not a manylinux tag for {arch}"
    return LEGACY[m.group(1)]


r = json.load(sys.stdin)
overall = r["overall_tag"]
assert glibc_minor(overall) <= 17, f"auditwheel: {overall}, newer than manylinux_2_17"
assert not r["external_libs"], f"needs libraries outside the policy: {r['external_libs']}"
claimed = r["wheel"][: -len(".whl")].split("-")[-1].split(".")
assert max(glibc_minor(t) for t in claimed) <= glibc_minor(overall), f"the name claims {claimed}, auditwheel allows {overall}"
print(f"manylinux: {r['wheel']}: {overall}, no external libraries")
