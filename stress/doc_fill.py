"""Put the outputs of stress/doc_examples.sh into README.md and docs/.

Usage: python stress/doc_fill.py [OUT_DIR]   (default /tmp/rcu-harness-doc-examples)

Every fenced block of the docs whose first line is a command (``$ ...``)
is an output block.  :data:`BLOCKS` says, per file and in order, which
example file(s) each output block shows and how it is cut; this script
replaces the blocks' contents with the fresh outputs, cut the same way,
and leaves all other text alone.  A file whose number of output blocks no
longer matches :data:`BLOCKS` is an error: add the new block's example to
stress/doc_examples.sh and its entry here.  Prose that quotes numbers from
an output (steps, preemptions) must be checked by hand afterwards.

An entry is ``NAME[#N][|CUT...]``: the example file NAME.txt (its N-th
command only, when given), then cuts, each marked ``…`` in the output:
``il=K`` keeps the last K rows of an interleaving; ``frames=K`` keeps the
first K and the last frame of each call chain; ``upto=TEXT`` stops at the
first line starting with TEXT; ``sections=A,B`` keeps only the report
sections titled A and B; ``tail=K`` keeps the command and the last K
lines; ``json=K`` keeps the first K findings of a ``--json`` object;
``resume`` keeps the first and last two progress lines of a resumed run;
``min`` drops the replay before ``Minimizing`` and cuts the interleaving;
``leak`` keeps the first object of a kmemleak report.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCKS: dict[str, list[list[str]]] = {
    "README.md": [["readme#1"], ["readme#2|frames=2|il=6"]],
    "docs/cli.md": [["list"], ["stress-default"], ["readme#1"], ["stress-json|json=2"],
                    ["stress-resume|resume"], ["errors"]],
    "docs/finding-reports.md": [
        ["finding-stress"], ["finding"],
        ["kind-reader-without-rcu-lock#2|upto=Interleaving"],
        ["kind-publish-before-fill#2|upto=Interleaving"],
        ["kind-error-path-skips-destroy#2|leak"],
        ["kind-resume-without-pause#2|upto=Interleaving"], ["replay-events"],
        ["replay-minimize|min"]],
    "docs/reports.md": [
        ["report-stress", "report"],
        ["report-buggy#2|sections=rcutorture-style reader histograms (buckets 0..10),"
         "Findings"],
        ["report-clean", "report-compare"], ["report-html#1|tail=2"]],
    "docs/scenarios-and-mutants.md": [["scenario-cve"]],
}
_FENCE = re.compile(r"(?ms)^```[^\n]*\n(.*?)^```$")
_ROW = re.compile(r"^ *(\d+|…|setup) \|")
_GAP = re.compile(r"^ *(…|setup) \|")
"""A row the excerpt adds before its last steps: an elided gap or a setup mark."""


def commands(out: Path, name: str) -> list[str]:
    """The commands of example @name, each with its output."""
    text = (out / f"{name}.txt").read_text().rstrip("\n")
    return [p.rstrip("\n") for p in re.split(r"(?m)^(?=\$ )", text) if p.strip()]


def interleaving(lines: list[str], keep: int) -> list[str]:
    """@lines with each interleaving table cut to its last @keep rows; the
    rows the excerpt adds before its last steps (the object's life and the
    pointer's load, with their gap rows) are kept."""
    out, i = [], 0
    while i < len(lines):
        out.append(lines[i])
        i += 1
        if out[-1].startswith("------+"):
            rows = []
            while i < len(lines) and _ROW.match(lines[i]):
                rows.append(lines[i])
                i += 1
            gaps = [n for n, row in enumerate(rows) if _GAP.match(row)]
            head = rows[:gaps[-1] + 1] if gaps else []
            tail = rows[len(head):]
            out += head + ([" …"] if len(tail) > keep else []) + tail[-keep:]
    return out


def frames(lines: list[str], keep: int) -> list[str]:
    """@lines with each call chain cut to its first @keep and last frame."""
    out: list[str] = []
    chain: list[str] = []
    for line in [*lines, ""]:
        if line.startswith(" ") and line.endswith(")") and " (" in line \
                and "|" not in line:
            chain.append(line)
            continue
        out += chain if len(chain) <= keep + 2 else [*chain[:keep], " …", chain[-1]]
        chain = []
        out.append(line)
    return out[:-1]


def sections(lines: list[str], titles: list[str]) -> list[str]:
    """The command line and the report sections titled @titles."""
    out, keep = [], False
    for i, line in enumerate(lines):
        under = lines[i + 1] if i + 1 < len(lines) else ""
        if under and set(under) == {"="} and len(under) == len(line):
            keep = line in titles
        if keep and not line.startswith("[exit"):
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return [lines[0], "…", "", *out]


def cut(lines: list[str], how: str, value: str) -> list[str]:
    """@lines cut as @how (with @value) says."""
    if how == "il":
        return interleaving(lines, int(value))
    if how == "frames":
        return frames(lines, int(value))
    if how == "upto":
        n = next(i for i, line in enumerate(lines) if line.startswith(value))
        return [*lines[:n], "…", *(x for x in lines[n:] if x.startswith("[exit"))]
    if how == "sections":
        return sections(lines, value.split(","))
    if how == "tail":
        return [lines[0], "…", *lines[-int(value):]]
    if how == "json":
        first = lines.index(' "findings": [')
        starts = [i for i in range(first, len(lines)) if lines[i] == "  {"]
        end = lines.index(" ],", first)
        if len(starts) > int(value):
            return [*lines[:starts[int(value)]], "  …", *lines[end:]]
        return lines
    if how == "resume":
        second = [i for i, line in enumerate(lines) if line.startswith("$ ")][1]
        progress = [i for i in range(second + 1, len(lines))
                    if lines[i].endswith(" left")]
        if len(progress) > 4:
            return [*lines[:progress[2]], "…", *lines[progress[-2]:]]
        return lines
    if how == "min":
        m = next(i for i, line in enumerate(lines) if line.startswith("Minimizing"))
        return interleaving(
            [lines[0], "… (the report, as replay prints it)", "", *lines[m:]], 6)
    if how == "leak":
        objects = [i for i, line in enumerate(lines)
                   if line.startswith("unreferenced object")]
        if len(objects) > 1:
            more = len(objects) - 1
            return [*lines[:objects[1]],
                    f"… ({more} more objects from the same allocation)"]
        return lines
    raise SystemExit(f"doc_fill: unknown cut {how!r}")


def render(out: Path, entry: str) -> str:
    """The output block text of one entry."""
    name, _, cuts = entry.partition("|")
    name, _, index = name.partition("#")
    found = commands(out, name)
    lines = (found[int(index) - 1] if index else "\n".join(found)).split("\n")
    for how in filter(None, cuts.split("|")):
        kind, _, value = how.partition("=")
        lines = cut(lines, kind, value)
    return "\n".join(lines)


def fill(path: Path, entries: list[list[str]], out: Path) -> None:
    """Replace the output blocks of @path."""
    text = path.read_text()
    parts, pos, k = [], 0, 0
    for m in _FENCE.finditer(text):
        if not m.group(1).startswith("$ "):
            continue
        if k == len(entries):
            raise SystemExit(f"doc_fill: {path} has more output blocks than BLOCKS")
        parts += [text[pos:m.start(1)],
                  "\n".join(render(out, e) for e in entries[k]) + "\n"]
        pos = m.end(1)
        k += 1
    if k != len(entries):
        raise SystemExit(f"doc_fill: {path} has {k} output blocks, "
                         f"BLOCKS {len(entries)}")
    path.write_text("".join([*parts, text[pos:]]))
    print(f"{path.relative_to(ROOT)}: {k} output blocks")


def main(argv: list[str]) -> None:
    """Fill every file of BLOCKS."""
    out = Path(argv[0] if argv else "/tmp/rcu-harness-doc-examples")
    for rel, entries in BLOCKS.items():
        fill(ROOT / rel, entries, out)


if __name__ == "__main__":
    main(sys.argv[1:])
