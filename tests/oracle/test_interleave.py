"""Reads inside a write (rcu_harness.oracle.interleave): the model side, the
coarsening that makes them, and the C text; the kernel runs are in
test_confirm.py."""

import ast
import inspect
import textwrap

import pytest

from maple import topiary
from rcu_harness.oracle import interleave
from rcu_harness.oracle.confirm import NotExpressible, coarsen, confirm_ops
from rcu_harness.oracle.emit import c_program
from rcu_harness.oracle.interleave import DEAD, PUBLISHED, c_point_patch
from rcu_harness.oracle.model import run_model
from rcu_harness.oracle.ops import (
    Init,
    MFindRev,
    MSet,
    Null,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    Within,
)
from rcu_harness.oracle.record import Call, Pass

FIX = ("rebalance-parent-slot",)


def tree_of_three_leaves() -> list:
    """ALLOC_RANGE tree of 16 entries [10i, 10i + 5]: a root over the leaves
    [0, 0x4b], [0x4c, 0x7d], [0x7e, ULONG_MAX], in RCU mode."""
    return [Init(1), *(Store(10 * i, 10 * i + 5, i + 1) for i in range(16)),
            RcuOn()]


def merge_with_reads(start: int = 0x4c, point: int = DEAD, nth: int = 1) -> list:
    """A store over the last two entries (the last leaf becomes insufficient,
    is rebalanced with its left neighbour into one node, and the root shrinks
    to two slots: the new node is at slot 1 and told it is at 0), with a
    reverse read from @start inside it."""
    reads = [RLock(), MSet(start), MFindRev(0), RUnlock()]
    return [*tree_of_three_leaves(), Within(point, nth, len(reads)),
            Store(140, 155, 15), *reads]


def rets(lines: list[str]) -> list[str]:
    return [line.split(" ", 1)[0] for line in lines]


@pytest.mark.parametrize("point", [PUBLISHED, DEAD])
def test_a_reverse_read_inside_the_shrinking_rebalance_misses_the_left_leaf(point):
    """The kernel's answer (confirmed): mas_prev_slot()'s WARN_ON_ONCE(
    mas_is_underflow(mas)) fires (the userspace build prints "assertion
    failed"), then NULL with ma_underflow; the model stops at the warning."""
    ops = merge_with_reads(point=point)
    inside = run_model(ops, every=1 << 30)
    after = rets(run_model(ops, every=1 << 30, interleave=False))
    find = ops.index(MFindRev(0))
    assert after[find] == "v8@46-4b/active"  # entry 8, present throughout
    assert inside[-1].startswith("crash MapleWarning: WARN_ON_ONCE(mas_is_underflow("
                                 "mas)) in mas_prev_slot: ")
    within = next(i for i, op in enumerate(ops) if isinstance(op, Within))
    assert rets(inside[:within]) == after[:within]
    assert rets(run_model(ops, every=1 << 30, fixes=FIX))[find] == after[find]


def test_reads_that_wait_for_the_writer_are_not_expressible():
    """A spanning store that rebalances: reused leaves still point at the dead
    old root, so the reader rewalks until mas_adopt_children() runs."""
    reads = [RLock(), MSet(160), *[MFindRev(0)] * 15, RUnlock()]
    ops = [*tree_of_three_leaves(), Within(DEAD, 1, len(reads)),
           Store(60, 85, 7), *reads]
    assert run_model(ops, every=1 << 30)[-1].startswith("crash ReadsSpin:")
    with pytest.raises(NotExpressible, match="retry until the writer goes on"):
        confirm_ops(ops, mutant=None, fixes=())


def test_reads_at_an_earlier_publication_are_refused():
    with pytest.raises(NotExpressible, match="point dead 2 of 1"):
        confirm_ops(merge_with_reads(nth=2), mutant=None, fixes=())


def _statements(fn, drop: str) -> list[str]:
    """The statements of @fn after its docstring, calls of @drop removed."""

    class Strip(ast.NodeTransformer):
        def visit_Expr(self, node):
            call = node.value
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == drop:
                return None
            return node

    func = Strip().visit(ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0])
    return [ast.dump(s) for s in func.body[1:]]


def test_the_instrumented_copy_is_mas_put_in_tree_plus_the_points():
    assert _statements(interleave.mas_put_in_tree_points, "on_pass") == \
        _statements(topiary.mas_put_in_tree, "on_pass")


def test_the_c_points_go_into_mas_put_in_tree_only():
    source = ("static inline void mas_put_in_tree(struct ma_state *mas,\n"
              "\t\tstruct maple_enode *old_enode)\n{\n"
              "\tif (mte_is_root(mas->node)) {\n"
              "\t\trcu_assign_pointer(mas->tree->ma_root, mte_mk_root(mas->node));\n"
              "\t} else {\n\t\trcu_assign_pointer(slots[offset], mas->node);\n\t}\n"
              "\tmte_set_node_dead(old_enode);\n}\n"
              "static void other(void)\n{\n\tmte_set_node_dead(old_enode);\n}\n")
    patched = c_point_patch(source)
    assert patched.count("oracle_interleave_point(0);") == 2
    assert patched.count("oracle_interleave_point(1);") == 1
    assert patched.endswith("static void other(void)\n{\n"
                            "\tmte_set_node_dead(old_enode);\n}\n")
    with pytest.raises(ValueError, match="not found once"):
        c_point_patch(source.replace("slots[offset]", "slots[o]"))


def test_the_c_program_runs_the_reads_from_the_write():
    ops = merge_with_reads()
    expected = run_model(ops, every=1 << 30, interleave=False)
    program = c_program(ops, expected, "t")
    at = ops.index(Store(140, 155, 15))
    function = f"static void reads_inside_op_{at}(void)"
    assert function in program
    assert program.index("oracle_interleave_point(int point)") < program.index(
        "#include MAPLE_TREE_C")
    main = program[program.index("int main(void)"):]
    assert f"oracle_arm(reads_inside_op_{at}, 1, 1);" in main
    assert f"EXPECT({at - 1}, oracle_passes == 1);" in main
    assert "mas_find_rev(&rmas" not in main  # it is in the reads function
    assert "EXPECT(" in program[program.index(function):program.index("int main")]
    plain = c_program(tree_of_three_leaves(), [], "t")
    assert "oracle_" not in plain


def _call(thread, name, start, end, args=(), state=()):
    return Call(thread, name, args, state, start, 3, end)


def test_reads_after_a_publication_are_nested_in_the_write():
    import maple

    mas = maple.MaState(maple.MapleTree(3), 0, 0)
    fresh = (mas, 0x40, 0x40, maple.MapleStatus.ma_start, None)
    write = _call("owner/1", "mtree_store_range", 10, None, (None, 1, 2, None))
    reads = [_call("reader0/2", "rcu_read_lock", 30, 31),
             _call("reader0/2", "mas_find_rev", 31, 40, (mas, 0), fresh),
             _call("reader0/2", "rcu_read_unlock", 40, 41)]
    passes = [Pass("owner/1", 20, PUBLISHED), Pass("owner/1", 22, DEAD)]
    ops = coarsen([write, *reads], "reader0/2", passes)
    at = next(i for i, op in enumerate(ops) if isinstance(op, Within))
    assert ops[at:] == [Within(DEAD, 1, 4), Null(1, 2), RLock(), MSet(0x40),
                        MFindRev(0), RUnlock()]
    # before any publication the reads run after the write, as before
    ops = coarsen([write, *reads], "reader0/2", [Pass("owner/1", 35, PUBLISHED)])
    assert not any(isinstance(op, Within) for op in ops)
    with pytest.raises(NotExpressible, match="publishes again"):
        coarsen([write, *reads], "reader0/2", [*passes, Pass("owner/1", 33, DEAD)])
