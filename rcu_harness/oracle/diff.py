"""The differential runner: one trace through the kernel driver and the model.

The kernel side is here (:func:`run_kernel`), the model side in
:mod:`.model`.

Both sides produce one line per operation in the format of FORMAT.md;
:func:`first_divergence` finds the first operation after which they differ
and renders the two trees side by side, one node per row.

``every`` elides the tree (``.``) on lines whose index is not a multiple of
it (``validate`` lines are always full): the return value, height and node
count are still compared after every operation, and a divergence found this
way is pinned down by a second run that dumps every line from the last full
match on (``full_from``).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rcu_harness.oracle.model import ELIDED, run_model
from rcu_harness.oracle.ops import Op, format_op, format_trace

if TYPE_CHECKING:
    from pathlib import Path

# -- the kernel side ----------------------------------------------------------------

_CRASH_PATTERNS = re.compile(
    r"ERROR: AddressSanitizer|runtime error|BUG at|WARN at|Assertion|"
    r"Segmentation|Aborted")


_FRAME = re.compile(r"#\d+ 0x[0-9a-f]+ in (\w+) \S*lib/maple_tree\S*\.c:\d+")


def crash_frames(stderr: str, depth: int = 4) -> list[str]:
    """The innermost @depth lib/maple_tree.c functions of the first sanitizer
    stack in @stderr (inlined frames included, as ASan prints them)."""
    names: list[str] = []
    for line in stderr.splitlines():
        if not line.strip() and names:
            break
        match = _FRAME.search(line)
        if match and (not names or names[-1] != match.group(1)):
            names.append(match.group(1))
            if len(names) == depth:
                break
    return names


def crash_reason(returncode: int, stderr: str) -> str:
    """A one-line description of how the driver died: the first sanitizer
    or assertion line, then ``[in f <- caller <- ...]`` of lib/maple_tree.c."""
    how = f"signal {-returncode}" if returncode < 0 else f"exit {returncode}"
    frames = crash_frames(stderr)
    where = f" [in {' <- '.join(frames)}]" if frames else ""
    for line in stderr.splitlines():
        if _CRASH_PATTERNS.search(line):
            return f"crash {how}: {line.strip()}{where}"
    tail = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f"crash {how}: {tail[-1] if tail else 'no message'}{where}"


def driver_argv(binary: Path, every: int, full_from: int | None) -> list[str]:
    """The command line of the driver for @every / @full_from."""
    argv = [str(binary)]
    if every > 1:
        argv += ["--every", str(every)]
    if full_from is not None:
        argv += ["--from", str(full_from)]
    return argv


def run_kernel(ops: list[Op], *, binary: Path | None = None, every: int = 1,
               full_from: int | None = None,
               timeout: float | None = None) -> list[str]:
    """Pipe @ops through the kernel driver (one process); its output lines.

    If the driver dies, the line of the operation it died in is
    ``crash <how>: <message>`` and no lines follow.

    Raises:
        OracleUnavailable: the driver cannot be built here.
    """
    if binary is None:
        from rcu_harness.oracle.build import ensure_oracle

        binary = ensure_oracle()
    proc = subprocess.run(driver_argv(binary, every, full_from),
                          input=format_trace(ops), capture_output=True,
                          text=True, timeout=timeout, check=False)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) < len(ops):
        lines.append(crash_reason(proc.returncode, proc.stderr))
    return lines


# -- comparing ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OracleLine:
    """One parsed output line; ``tree`` is None when elided (``.``)."""

    ret: str
    height: int
    nr: int
    tree: tuple[str, ...] | None

    @property
    def node_count(self) -> int:
        """How many nodes the dump shows (0 for ``empty`` and ``ptr:``)."""
        if not self.tree or self.tree[0] == "empty" or self.tree[0].startswith(
                "ptr:"):
            return 0
        return len(self.tree)


_LINE = re.compile(r"(\S+) h(\d+) n(\d+) (.+)")


def parse_line(line: str) -> OracleLine | None:
    """Parse an output line; None for ``error`` and ``crash`` lines.

    Raises:
        ValueError: the line is none of those.
    """
    if line.startswith(("error ", "crash ")):
        return None
    match = _LINE.fullmatch(line)
    if match is None:
        raise ValueError(f"not an oracle line: {line[:120]!r}")
    ret, height, nr, tree = match.groups()
    nodes = None if tree == ELIDED else tuple(tree.split(" "))
    return OracleLine(ret, int(height), int(nr), nodes)


def _rows(line: str) -> list[str]:
    """A line as rows for the side-by-side view: header, then one node per row."""
    try:
        parsed = parse_line(line)
    except ValueError:
        parsed = None
    if parsed is None:
        return [line]
    rows = [f"ret {parsed.ret}  h{parsed.height}  n{parsed.nr}"]
    rows += list(parsed.tree) if parsed.tree is not None else [ELIDED]
    return rows


def side_by_side(kernel: str, model: str) -> str:
    """Render two lines as aligned columns, one node per row.

    The first differing row is marked ``>``, later differing rows ``~``.
    """
    left, right = _rows(kernel), _rows(model)
    width = max(len("kernel"), *(len(r) for r in left))
    out = [f"  {'kernel':<{width}}  model"]
    first = True
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        mark = " "
        if a != b:
            mark, first = (">" if first else "~"), False
        out.append(f"{mark} {a:<{width}}  {b}".rstrip())
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first operation after which the kernel and the model differ."""

    index: int
    op: Op | None
    kernel: str
    model: str
    side_by_side: str

    @property
    def both_crashed(self) -> bool:
        """Did both sides die in the same op (the model reproduces a kernel bug)?"""
        return self.kernel.startswith("crash ") and self.model.startswith("crash ")

    def describe(self) -> str:
        """A short one-line summary."""
        op = format_op(self.op) if self.op is not None else "(end of trace)"
        return f"op #{self.index}: {op}"


def first_difference(kernel: list[str], model: list[str]) -> int | None:
    """The first index where the two line lists differ (or one ends)."""
    for i, (a, b) in enumerate(zip(kernel, model, strict=False)):
        if a != b:
            return i
    if len(kernel) != len(model):
        return min(len(kernel), len(model))
    return None


def last_full_match(kernel: list[str], before: int) -> int:
    """The index of the last line before @before that shows a full tree."""
    for i in range(before - 1, -1, -1):
        if not kernel[i].endswith(" " + ELIDED):
            return i
    return 0


def _divergence(ops: list[Op], index: int, kernel: list[str],
                model: list[str]) -> Divergence:
    """Build the Divergence at line @index."""
    k = kernel[index] if index < len(kernel) else "(no line)"
    m = model[index] if index < len(model) else "(no line)"
    op = ops[index] if index < len(ops) else None
    return Divergence(index, op, k, m, side_by_side(k, m))


def first_divergence(ops: list[Op], *, every: int = 1, binary: Path | None = None,
                     fixes: tuple[str, ...] = ()) -> Divergence | None:
    """Run @ops through both sides; the first divergence, or None if identical.

    @fixes are candidate kernel fixes applied to the model; @binary must
    then be a driver variant with the same fixes
    (:func:`rcu_harness.oracle.agree.driver_for`).  With @every > 1 the
    first pass compares full trees only every @every lines; a divergence is
    then re-run with full dumps from the last full match on, so the reported
    op is the first one whose line differs.

    Raises:
        OracleUnavailable: the kernel driver cannot be built here.
        ModelUnavailable: the model does not have the API yet.
    """
    kernel = run_kernel(ops, binary=binary, every=every)
    model = run_model(ops, every=every, fixes=fixes)
    index = first_difference(kernel, model)
    if index is None:
        return None
    if every > 1:
        start = last_full_match(kernel, index)
        prefix = ops[: index + 1]
        kernel = run_kernel(prefix, binary=binary, every=every, full_from=start)
        model = run_model(prefix, every=every, full_from=start, fixes=fixes)
        index = first_difference(kernel, model)
        if index is None:  # pragma: no cover - a deterministic rerun agrees
            raise RuntimeError("divergence vanished on the rerun")
    return _divergence(ops, index, kernel, model)
