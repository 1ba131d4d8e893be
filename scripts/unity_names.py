#!/usr/bin/env python3
"""Lists names defined at the top level of anonymous namespaces in more than
one source file of the same target: in the unity build (-DBB_UNITY=ON) two
such files may land in one translation unit, and the names then collide.
Type aliases are left out (repeating the same alias is allowed).

usage: python3 scripts/unity_names.py [SOURCE_DIR]   (exit 1 when any)"""
import re, sys, os, glob, collections
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
def groups():
    g = collections.defaultdict(list)
    for f in glob.glob(root + "/**/*.cpp", recursive=True):
        rel = os.path.relpath(f, root)
        if rel.startswith(("build", ".git")) or "/fuzz/" in rel: continue
        parts = rel.split("/")
        if parts[0] == "tests" and parts[1] == "unit": key = "unit_" + parts[2]
        elif parts[0] == "tests" and parts[1] == "functional": key = "functional"
        elif parts[0] == "master" and parts[1] == "db": key = "master_db"
        elif parts[0] in ("bench",): key = rel  # one program per file
        else: key = parts[0]
        g[key].append(f)
    return g
defn = re.compile(r'^(?:inline |static |constexpr |const |template <[^>]*> )*(?:[\w:<>,*& ]+?)\s[*&]?(\w+)\s*(?:\(|=|\{|\[|;)')
kind = re.compile(r'^(?:struct|class|enum(?: class)?)\s+(\w+)')
def names(f):
    out = set(); depth = 0; inanon = []
    for line in open(f, errors="replace"):
        s = line.rstrip("\n")
        if re.match(r'^namespace\s*\{', s): inanon.append(True); continue
        if re.match(r'^\}\s*//\s*namespace\s*$', s) and inanon: inanon.pop(); continue
        if not inanon: continue
        if s.startswith((" ", "\t", "}", "#", "//", "using ", "namespace ", "TEST")) or not s: continue
        m = kind.match(s) or defn.match(s)
        if m and m.group(1) not in ("operator",): out.add(m.group(1))
    return out
bad = 0
for key, files in sorted(groups().items()):
    seen = collections.defaultdict(list)
    for f in files:
        for n in names(f): seen[n].append(os.path.relpath(f, root))
    for n, fs in sorted(seen.items()):
        if len(fs) > 1:
            bad += 1; print(f"{key}: {n}: {' '.join(fs)}")
sys.exit(1 if bad else 0)
