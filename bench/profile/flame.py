#!/usr/bin/env python3
"""Turns `perf script` output into a self-contained SVG flame graph (no scripts, no network resources).

    perf record -F 2999 -g -p PID -- sleep 10
    perf script | python3 bench/profile/flame.py --title "miniss bench ping-pong" > docs/profiles/ping-pong.svg

Each sample's stack is read from its frames (innermost first, as perf prints them), folded root-first, and merged
with the others; a frame's width is its share of the samples that pass through it, children left to right by name.
.NET frames are named when the process ran with DOTNET_PerfMapEnabled=1 (perf then reads /tmp/perf-PID.map).
`--folded` prints the folded stacks ("a;b;c COUNT") instead of the SVG, `--top N` the N hottest leaf frames.
"""
import argparse
import html
import re
import sys
from collections import defaultdict

FRAME = re.compile(r"^\s+[0-9a-f]+\s+(.*?)(?:\s+\((.*)\))?$")


def read_samples(lines, keep_offsets):
    """Yields one root-first tuple of frame names per sample."""
    stack = []
    in_sample = False
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                yield tuple(reversed(stack))
            stack = []
            in_sample = False
            continue
        if not line.startswith((" ", "\t")):
            in_sample = True  # the sample's header: comm pid time event
            stack = []
            continue
        if not in_sample:
            continue
        match = FRAME.match(line)
        if not match:
            continue
        name = match.group(1) or "[unknown]"
        if not keep_offsets:
            name = re.sub(r"\+0x[0-9a-f]+$", "", name)
        if name == "[unknown]" and match.group(2):
            name = "[" + match.group(2).rsplit("/", 1)[-1] + "]"
        stack.append(name)
    if stack:
        yield tuple(reversed(stack))


class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name = name
        self.count = 0
        self.children = {}

    def add(self, frames):
        node = self
        node.count += 1
        for frame in frames:
            child = node.children.get(frame)
            if child is None:
                child = node.children[frame] = Node(frame)
            child.count += 1
            node = child


def colour(name):
    """Warm colours, stable per name: managed code (a dot in the name) orange-red, native and kernel yellow."""
    h = 0
    for ch in name:
        h = (h * 31 + ord(ch)) & 0xFFFF
    if "[k]" in name or name.startswith(("entry_", "__x64_", "do_", "io_")):
        return f"rgb(230,{150 + h % 60},{40 + h % 40})"
    if "." in name or "::" in name:
        return f"rgb(240,{90 + h % 80},{50 + h % 30})"
    return f"rgb(220,{180 + h % 50},{60 + h % 40})"


def svg(root, title, width=1200, row=16):
    depth = 0

    def measure(node, level):
        nonlocal depth
        depth = max(depth, level)
        for child in node.children.values():
            measure(child, level + 1)

    measure(root, 0)
    top = 40
    height = top + (depth + 1) * row + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="monospace" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#fdfdf6"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
        f'<text x="10" y="{height - 10}">{root.count} samples; width = share of samples, root at the bottom; hover a frame for its figures</text>',
    ]
    scale = (width - 20) / max(root.count, 1)

    def draw(node, x, level):
        w = node.count * scale
        if w < 0.3:
            return
        y = height - 30 - (level + 1) * row
        share = 100.0 * node.count / max(root.count, 1)
        label = html.escape(node.name)
        out.append(f'<g><title>{label} ({node.count} samples, {share:.2f}%)</title>'
                   f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{row - 1}" fill="{colour(node.name)}" rx="2"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[: chars - 2] + ".."
            out.append(f'<text x="{x + 3:.2f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        cx = x
        for name in sorted(node.children):
            child = node.children[name]
            draw(child, cx, level + 1)
            cx += child.count * scale

    root.name = "all"
    draw(root, 10, 0)
    out.append("</svg>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--title", default="Miniss profile")
    parser.add_argument("--folded", action="store_true", help="print folded stacks instead of the SVG")
    parser.add_argument("--top", type=int, default=0, help="print the N hottest leaf frames instead of the SVG")
    parser.add_argument("--only", default=None, help="keep only samples with a frame matching this regular expression")
    parser.add_argument("--offsets", action="store_true", help="keep +0x offsets in frame names")
    args = parser.parse_args()
    only = re.compile(args.only) if args.only else None
    root = Node("all")
    folded = defaultdict(int)
    leaves = defaultdict(int)
    for frames in read_samples(sys.stdin, args.offsets):
        if only and not any(only.search(f) for f in frames):
            continue
        root.add(frames)
        folded[";".join(frames)] += 1
        if frames:
            leaves[frames[-1]] += 1
    if root.count == 0:
        print("flame.py: no samples with call stacks in the input (record with -g)", file=sys.stderr)
        return 1
    if args.folded:
        for stack, count in sorted(folded.items()):
            print(f"{stack} {count}")
    elif args.top:
        for name, count in sorted(leaves.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"{100.0 * count / root.count:6.2f}%  {count:7d}  {name}")
    else:
        print(svg(root, args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
