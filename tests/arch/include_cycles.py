#!/usr/bin/env python3
"""include_cycles.py - fails when the modules of daemon/ and include/ include
each other in a circle.

A module is a base name: daemon/x.c, daemon/text/x.c and include/plantrack/x.h
are one module "x". An edge x -> y is an `#include "plantrack/y.h"` line in
any file of x (y != x). Any cycle in that graph is printed and makes the exit
status 1; otherwise the layering is printed (modules with no dependencies
first) and the status is 0.

    python3 tests/arch/include_cycles.py [SOURCE_DIR]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"plantrack/([A-Za-z0-9_]+)\.h"', re.M)


def module_files(root):
    for top in ("daemon", "include"):
        for dirpath, _dirs, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    yield os.path.splitext(f)[0], os.path.join(dirpath, f)


def graph(root):
    edges = {}
    for mod, path in module_files(root):
        edges.setdefault(mod, set())
        with open(path, encoding="utf-8", errors="replace") as fh:
            for dep in INCLUDE.findall(fh.read()):
                if dep != mod:
                    edges[mod].add(dep)
                    edges.setdefault(dep, set())
    return edges


def find_cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sccs


def one_cycle(edges, comp):
    """A concrete path v -> ... -> v inside one component, for the message."""
    members = set(comp)
    start = comp[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in edges[path[-1]] if w in members)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            return path + [start]
        fresh = [w for w in nxt if w not in seen]
        if not fresh:
            return path + [nxt[0]]
        path.append(fresh[0])
        seen.add(fresh[0])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    edges = graph(root)
    cycles = find_cycles(edges)
    if cycles:
        for comp in cycles:
            print("include cycle among: " + ", ".join(comp))
            print("  e.g. " + " -> ".join(one_cycle(edges, comp)))
        return 1
    level = {}

    def depth(v):
        if v not in level:
            level[v] = 1 + max((depth(w) for w in edges[v]), default=-1)
        return level[v]

    for v in edges:
        depth(v)
    for lv in range(max(level.values()) + 1):
        print("layer %d: %s" % (lv, " ".join(sorted(v for v in level if level[v] == lv))))
    print("no include cycles among %d modules" % len(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
