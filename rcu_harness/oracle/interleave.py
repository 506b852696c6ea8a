"""Reads inside a write: the interleave points of ``oracle confirm``.

At API-call granularity a reader sees every write whole, so a finding whose
reader ran while a writer was in the middle of a store could not be run on
the kernel.  Two points inside a write are exposed on both sides, both in
``mas_put_in_tree()``, which every replacement of nodes goes through
(mas_replace_node(), mas_topiary_replace()): ``published``, just after the
``rcu_assign_pointer()`` of the new node into ``ma_root`` or its parent slot,
and ``dead``, after ``mte_set_node_dead()`` of the old one.  What the write
does after them -- mas_adopt_children() in mas_topiary_replace(),
mas_update_gap(), the frees -- rewrites words that a lockless reader of the
new subtree may already be reading.

``Within(point, nth, count)`` (:mod:`.ops`) is followed by a write and @count
ops; those ops run when the write passes @point for the @nth time, as a
reader on another CPU could at that moment.  The model runs them from an
instrumented copy of ``mas_put_in_tree()`` (:func:`point_hook`); the C
reproducer is built from a copy of lib/maple_tree.c that calls
``oracle_interleave_point()`` there (:func:`c_point_patch`), which runs a
function of the program (:data:`C_RUNTIME`).  Nothing else of the kernel's
code changes.

The reads' expected results are those of the same ops run after the write
(``interleave=False``): once the write has published its last new node the
tree holds the write's result, and a correct tree gives a reader that result
(gaps, which mas_update_gap() fixes afterwards, are not read by the reader
API).  :func:`check_publications` refuses a trace whose reads would run at an
earlier publication of a write that publishes more than once; reads that
retry without end until the writer goes on raise :class:`ReadsSpin`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from maple import topiary, walk
from maple.node import mte_is_root, mte_parent, mte_parent_slot, mte_set_node_dead
from maple.walk import mas_set_height, mas_tree_parent
from rcu_harness.oracle.ops import Op, Within
from rcu_harness.patches import Patch, patched

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from maple.node import MapleEnode
    from maple.state import MaState
    from rcu_harness.oracle.model import ModelRunner

PUBLISHED, DEAD = 0, 1
"""The interleave points, both in mas_put_in_tree(): just after the
rcu_assign_pointer() that publishes the new node (into ma_root or the parent
slot), and at the end, after mte_set_node_dead() of the old node."""
POINTS = ("published", "dead")
"""Their names, by number."""


def mas_put_in_tree_points(mas: MaState, old_enode: MapleEnode,
                           on_pass: Callable[[int], None]) -> None:
    """Model of mas_put_in_tree() with the interleave points: @on_pass(point)
    is called at each (:func:`maple.topiary.mas_put_in_tree` plus the two
    calls; a test checks the copy)."""
    mt = mas.tree
    enode = mas.node
    if mte_is_root(enode):
        enode[0].parent = mas_tree_parent(mas)
        mt.port.root_store(mt, enode)
        on_pass(PUBLISHED)
        mas_set_height(mas)
    else:
        offset = mte_parent_slot(enode)
        mt.port.rcu_assign_pointer(mte_parent(enode).slot, offset, enode)
        on_pass(PUBLISHED)
    mte_set_node_dead(old_enode)
    on_pass(DEAD)


@contextmanager
def point_hook(on_pass: Callable[[int], None]) -> Iterator[None]:
    """Run a block with @on_pass(point) called at the interleave points."""

    def instrumented(mas: MaState, old_enode: MapleEnode) -> None:
        mas_put_in_tree_points(mas, old_enode, on_pass)

    with patched([Patch(topiary.mas_put_in_tree, instrumented)]):
        yield


SPIN_LIMIT = 10_000
"""Walks from the root one group of reads inside a write may make."""


class ReadsSpin(Exception):
    """The reads inside a write retry without end: they wait for the writer."""


@contextmanager
def spin_guard() -> Iterator[None]:
    """Run reads inside a write, raising :class:`ReadsSpin` after
    :data:`SPIN_LIMIT` walks from the root (mas_state_walk()).

    A lockless reader that finds a dead node walks again from the root
    (mas_rewalk()); inside a write paused after a publication it may land in
    the same place until the write goes on (a reused node whose parent word
    still points at the replaced, dead parent: mas_adopt_children() has not
    run yet).  On a CPU of its own it would wait for the writer; run at one
    point of the write it never ends.
    """
    original = walk.mas_state_walk
    walks = 0

    def counted(mas: Any) -> Any:
        nonlocal walks
        walks += 1
        if walks > SPIN_LIMIT:
            raise ReadsSpin(f"the reads retried {SPIN_LIMIT} walks from the root: "
                            "they wait for the writer to go on")
        return original(mas)

    with patched([Patch(original, counted)]):
        yield


def span(ops: list[Op], i: int) -> int:
    """How many ops the group starting at @i takes (a Within: 2 + count)."""
    op = ops[i]
    return 2 + op.count if isinstance(op, Within) else 1


def run_within(runner: ModelRunner, ops: list[Op], i: int, *, interleave: bool,
               full: Callable[[int, Op], bool]) -> tuple[list[str], Exception | None]:
    """Run the Within group at @i on the model: one line per op of the group.

    The Within's ret is the number of times the write passed the point.  With
    @interleave the nested ops run inside the write at its nth pass (their
    lines have no tree dump: the tree is between two states), else after it.
    Returns the lines and the exception that ended the run, if any (the lines
    are then those made before it).
    """
    within, write = ops[i], ops[i + 1]
    assert isinstance(within, Within)
    nested = ops[i + 2:i + 2 + within.count]
    lines: list[str] = []
    passes = 0

    def on_pass(point: int) -> None:
        nonlocal passes
        if point != within.point:
            return
        passes += 1
        if interleave and passes == within.nth:
            with spin_guard():
                for op in nested:
                    lines.append(runner.line(op, False, barrier=False))

    try:
        with point_hook(on_pass):
            write_line = runner.line(write, full(i + 1, write))
        if not interleave:
            lines += [runner.line(op, full(j, op))
                      for j, op in enumerate(nested, i + 2)]
    except Exception as err:
        return lines, err
    return [f"{passes} h0 n0 .", write_line, *lines], None


def check_publications(ops: list[Op], sequential: list[str]) -> str | None:
    """Why @ops cannot be confirmed, or None: each Within must run its reads at
    the write's last publication (@sequential: the lines of the run without
    interleaving, where a Within's ret counts the publications)."""
    for i, op in enumerate(ops):
        if not isinstance(op, Within) or i >= len(sequential):
            continue
        ret = sequential[i].split(" ", 1)[0]
        if not ret.isdigit() or int(ret) != op.nth:
            return (f"the reads inside op #{i + 1} run at its interleave point "
                    f"{POINTS[op.point]} {op.nth} of {ret}: between two states "
                    "of one write, with no sequential result to expect")
    return None


C_RUNTIME = r'''
/*
 * Reads inside a write (rcu-harness oracle confirm, interleave.py):
 * lib/maple_tree.c is built with oracle_interleave_point() called in
 * mas_put_in_tree(): point 0 just after the rcu_assign_pointer() that
 * publishes the new node, point 1 after mte_set_node_dead() of the old one.
 * oracle_arm() makes the Nth pass of a point during the next write run the
 * reads, as a lockless reader on another CPU could at that moment.
 */
static void (*oracle_reads)(void);
static int oracle_point, oracle_at, oracle_passes;

static void oracle_interleave_point(int point)
{
	if (point == oracle_point && ++oracle_passes == oracle_at && oracle_reads)
		oracle_reads();
}

static void oracle_arm(void (*reads)(void), int point, int at)
{
	oracle_reads = reads;
	oracle_point = point;
	oracle_at = at;
	oracle_passes = 0;
}
'''
"""The program's side of the points, defined before lib/maple_tree.c
is included."""

C_HEADER = "static inline void mas_put_in_tree("
C_ANCHORS = (
    ("\t\trcu_assign_pointer(mas->tree->ma_root, mte_mk_root(mas->node));\n",
     "\t\toracle_interleave_point(0);\t/* rcu-harness: published */\n"),
    ("\t\trcu_assign_pointer(slots[offset], mas->node);\n",
     "\t\toracle_interleave_point(0);\t/* rcu-harness: published */\n"),
    ("\tmte_set_node_dead(old_enode);\n",
     "\toracle_interleave_point(1);\t/* rcu-harness: old node dead */\n"),
)
"""(statement, the call inserted after it) in mas_put_in_tree()."""


def c_point_patch(source: str) -> str:
    """lib/maple_tree.c @source calling oracle_interleave_point() at the
    points of mas_put_in_tree().

    Raises:
        ValueError: the function or one of its statements is not found once.
    """
    start = source.find(C_HEADER)
    end = source.find("\n}\n", start) + 1
    body = source[start:end]
    for anchor, call in C_ANCHORS:
        if start < 0 or body.count(anchor) != 1:
            raise ValueError(f"C patch: {anchor.strip()!r} not found once in "
                             f"{C_HEADER.strip()}")
        body = body.replace(anchor, anchor + call)
    return source[:start] + body + source[end:]
