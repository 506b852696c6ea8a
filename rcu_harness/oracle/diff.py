"""The differential runner: one trace through the kernel driver and the model.

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
from typing import TYPE_CHECKING, Any

from rcu_harness.oracle.ops import (
    BDestroy,
    BNull,
    BStore,
    Bulk,
    Destroy,
    Erase,
    Find,
    FindAfter,
    Init,
    Insert,
    Load,
    Null,
    Op,
    RcuOff,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    Validate,
    format_op,
    format_trace,
)
from rcu_harness.oracle.pydump import entry_token
from rcu_harness.oracle.reader import ReaderState

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import ModuleType

ELIDED = "."
"""The ``<tree>`` of a line whose dump was skipped."""
NOT_INITIALISED = "tree not initialised (init F first)"
"""driver.c's message for an operation before the first ``init``."""
NOT_LOCKED = "the reader does not hold the RCU read lock"
"""driver.c's message for ``runlock`` without ``rlock``."""

MODEL_API = (
    "MapleTree", "mtree_store_range", "mtree_insert_range", "mtree_erase",
    "mtree_load", "mt_find", "mt_find_after", "mas_walk", "mas_find",
    "mas_find_rev", "mas_next", "mas_prev", "mas_next_range",
    "mas_prev_range", "mas_pause", "mas_set", "mas_reset", "mas_for_each",
    "mt_set_in_rcu", "mt_clear_in_rcu",
    "mtree_destroy", "mt_validate", "mt_height", "MaState",
    "mas_expected_entries", "mas_store", "mas_destroy", "mas_lock",
    "mas_unlock", "xa_mk_value",
)
"""What the differential needs from ``maple``."""


class ModelUnavailable(Exception):
    """The Python model does not have the API the differential needs (yet)."""


def dump_full(index: int, op: Op, every: int, full_from: int | None) -> bool:
    """Is line @index (op @op) printed with its tree?"""
    if index % every == 0 or isinstance(op, Validate):
        return True
    return full_from is not None and index >= full_from


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


def _crash_reason(returncode: int, stderr: str) -> str:
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
        lines.append(_crash_reason(proc.returncode, proc.stderr))
    return lines


# -- the model side -----------------------------------------------------------------


def load_model() -> ModuleType:
    """Import ``maple`` and check it has the differential's API.

    Raises:
        ModelUnavailable: naming what is missing.
    """
    try:
        import maple
    except ImportError as err:  # pragma: no cover - the package is in the repo
        raise ModelUnavailable(f"cannot import maple: {err}") from None
    missing = [name for name in MODEL_API if not hasattr(maple, name)]
    if missing:
        raise ModelUnavailable("the Python model has no " + ", ".join(missing)
                               + " yet")
    return maple


def model_dumper() -> Callable[[Any], str]:
    """``maple.dump.mt_dump_canonical`` if the model has it, else ours."""
    try:
        from maple.dump import mt_dump_canonical
    except ImportError:
        from rcu_harness.oracle.pydump import mt_dump_canonical
    return mt_dump_canonical


def live_nodes(port: Any) -> int:
    """Nodes allocated and not freed (what mt_nr_allocated() counts)."""
    total, freed = getattr(port, "total_allocated", None), getattr(port, "freed",
                                                                   None)
    if isinstance(total, int) and isinstance(freed, set):
        return total - len(freed)  # PassThroughPort, without its O(n) walk
    return int(port.accounting().allocated)


class ModelRunner:
    """The model's side of the driver: one tree, one bulk ma_state."""

    def __init__(self, maple: ModuleType, dump: Callable[[Any], str]) -> None:
        self.m = maple
        self.dump = dump
        self.mt: Any = None
        self.bmas: Any = None
        self.reader: ReaderState | None = None

    def init(self, flags: int) -> None:
        """init F: destroy the tree if there is one, then mt_init_flags(F)."""
        if self.mt is None:
            self.mt = self.m.MapleTree(flags)
            self.bmas = self.m.MaState(self.mt, 0, 0)
            self.reader = ReaderState(self.m, self.mt)
            return
        self.m.mtree_destroy(self.mt)
        from maple.tree import mt_init_flags

        mt_init_flags(self.mt, flags)

    def bulk_store(self, first: int, last: int, entry: object) -> object:
        """mas_store() with the bulk state, under the tree lock."""
        m, mas = self.m, self.bmas
        m.mas_lock(mas)
        mas.index, mas.last = first, last
        old = m.mas_store(mas, entry)
        m.mas_unlock(mas)
        return old

    def bulk_begin(self, n: int) -> int:
        """mas_init() the bulk state, then mas_expected_entries(N) under the lock."""
        m = self.m
        self.bmas = mas = m.MaState(self.mt, 0, 0)
        m.mas_lock(mas)
        ret = int(m.mas_expected_entries(mas, n))
        m.mas_unlock(mas)
        return ret

    def bulk_end(self) -> None:
        """mas_destroy() of the bulk state, under the lock."""
        m, mas = self.m, self.bmas
        m.mas_lock(mas)
        m.mas_destroy(mas)
        m.mas_unlock(mas)

    def apply(self, op: Op) -> str:
        """Run @op on the model; the return part of its line."""
        m, mt = self.m, self.mt
        match op:
            case Store(first, last, value):
                return str(m.mtree_store_range(mt, first, last, m.xa_mk_value(value)))
            case Null(first, last):
                return str(m.mtree_store_range(mt, first, last, None))
            case Insert(first, last, value):
                return str(m.mtree_insert_range(mt, first, last, m.xa_mk_value(value)))
            case Erase(index):
                return entry_token(m.mtree_erase(mt, index))
            case Load(index):
                return entry_token(m.mtree_load(mt, index))
            case Find(index, limit) | FindAfter(index, limit):
                find = m.mt_find if isinstance(op, Find) else m.mt_find_after
                entry, new_index = find(mt, index, limit)
                if entry is None:
                    return "-"
                return f"{entry_token(entry)}@{new_index:x}"
            case RcuOn():
                m.mt_set_in_rcu(mt)
            case RcuOff():
                m.mt_clear_in_rcu(mt)
            case Bulk(n):
                return str(self.bulk_begin(n))
            case BStore(first, last, value):
                return entry_token(self.bulk_store(first, last, m.xa_mk_value(value)))
            case BNull(first, last):
                return entry_token(self.bulk_store(first, last, None))
            case BDestroy():
                self.bulk_end()
            case Destroy():
                m.mtree_destroy(mt)
            case Validate():
                m.mt_validate(mt)
            case RLock():
                assert self.reader is not None
                self.reader.lock()
            case RUnlock():
                raise AssertionError("runlock is handled by line()")
            case _:
                assert self.reader is not None
                return self.reader.call(op)
        return "0"

    def line(self, op: Op, full: bool) -> str:
        """Run @op and format its whole output line, as the driver would."""
        if isinstance(op, Init):
            self.init(op.flags)
            ret = "0"
        elif self.mt is None:
            return f"error {op.name}: {NOT_INITIALISED}"
        elif isinstance(op, RUnlock):
            assert self.reader is not None
            if not self.reader.unlock():
                return f"error {op.name}: {NOT_LOCKED}"
            ret = "0"
        else:
            ret = self.apply(op)
        mt = self.mt
        if self.reader is None or not self.reader.locked:
            mt.port.rcu_barrier()
        tree = self.dump(mt) if full else ELIDED
        return f"{ret} h{self.m.mt_height(mt)} n{live_nodes(mt.port)} {tree}"


def run_model(ops: list[Op], *, every: int = 1, full_from: int | None = None,
              fixes: tuple[str, ...] = ()) -> list[str]:
    """Apply @ops to a fresh Python model; one line per op, as the driver prints.

    An exception in the model ends the list with ``crash <type>: <message>``.
    @fixes are candidate kernel fixes (:mod:`rcu_harness.known.fixes`)
    applied to the model for the run.

    Raises:
        ModelUnavailable: ``maple`` does not have the API yet.
    """
    from rcu_harness.scenarios.mutants import applied

    runner = ModelRunner(load_model(), model_dumper())
    lines = []
    with applied(None, fixes):
        for index, op in enumerate(ops):
            try:
                lines.append(runner.line(op, dump_full(index, op, every, full_from)))
            except Exception as err:
                message = str(err).splitlines()[0] if str(err) else ""
                lines.append(f"crash {type(err).__name__}: {message}")
                break
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
