"""C reproducers: an oracle trace as a program against the real lib/maple_tree.c.

:func:`c_program` writes the ops as plain calls of the kernel API, in the
kernel's userspace harness (``tools/testing/radix-tree``), with every
result the model expects checked (a wrong result aborts with ``BUG: wrong
result``), so that a kernel developer can build it, run it under
ASan/UBSan, and send it upstream.  :func:`build_and_run` builds it the way
the oracle builds its driver (:mod:`.build`) and runs it.
"""

from __future__ import annotations

import hashlib
import subprocess
from typing import TYPE_CHECKING

from rcu_harness.oracle.ops import (
    ULONG_MAX,
    Destroy,
    Erase,
    Find,
    FindAfter,
    Init,
    Insert,
    Load,
    MFind,
    MFindRev,
    MNext,
    MNextRange,
    MPause,
    MPrev,
    MPrevRange,
    MReset,
    MSet,
    MWalk,
    Null,
    Op,
    RcuOff,
    RcuOn,
    RLock,
    RUnlock,
    Store,
    Validate,
    Within,
    format_op,
)

if TYPE_CHECKING:
    from pathlib import Path

PRELUDE = r'''// SPDX-License-Identifier: GPL-2.0
/*
 * @TITLE@
 *
 * Written by rcu-harness (oracle confirm).  Build it in the kernel's
 * userspace test harness, after "make maple" in tools/testing/radix-tree:
 *
 *   cc $(CFLAGS) -c repro.c && cc $(LDFLAGS) repro.o $(SHARED_OFILES) $(LDLIBS)
 *
 * with the variables of that directory's Makefile (ASan and UBSan on).
 * It runs single-threaded and interleaves at API-call granularity, as
 * lib/test_maple_tree.c's check_rcu_simulated() does.
 */
#define CONFIG_DEBUG_MAPLE_TREE
#define CONFIG_MAPLE_SEARCH
#define MAPLE_32BIT (MAPLE_NODE_SLOTS > 31)
#include "test.h"
#include <stdlib.h>
#include <stdio.h>
#include <linux/init.h>

#define module_init(x)
#define module_exit(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(X)
#define MODULE_LICENSE(x)
#define dump_stack()	assert(0)

@INTERLEAVE@#ifndef MAPLE_TREE_C
#define MAPLE_TREE_C "../../../lib/maple_tree.c"
#endif
#include MAPLE_TREE_C

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

#define EXPECT(op, cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "BUG: wrong result at op #%d: %s\n",	\
				op, #cond);				\
			abort();					\
		}							\
	} while (0)

static DEFINE_MTREE(tree);
static MA_STATE(rmas, &tree, 0, 0);
@READS@
int main(void)
{
	unsigned long index;
	void *entry;
	int ret;

	(void)ret;
	maple_tree_init();
	rcu_register_thread();
'''

EPILOGUE = '''	mtree_destroy(&tree);
	rcu_barrier();
	rcu_unregister_thread();
	printf("clean: %d ops\\n", @OPS@);
	return 0;
}
'''

_MAS_CALLS = {MFind: "mas_find", MFindRev: "mas_find_rev", MNext: "mas_next",
              MPrev: "mas_prev", MNextRange: "mas_next_range",
              MPrevRange: "mas_prev_range"}


def _num(n: int) -> str:
    """A C constant for @n."""
    return "ULONG_MAX" if n == ULONG_MAX else f"{n:#x}UL"


def _entry(token: str) -> str:
    """The C value of an entry token (``-``, ``v<hex>``)."""
    return "NULL" if token == "-" else f"xa_mk_value({int(token[1:], 16):#x})"


def _checks(i: int, op: Op, expected: str | None) -> list[str]:
    """EXPECT() lines for op @i given the model's expected ret (or None)."""
    if expected is None or expected.startswith(("crash", "error")):
        return []
    ret = expected.split(" ")[0]
    if isinstance(op, MSet | MReset | MPause | MWalk) or type(op) in _MAS_CALLS:
        entries, state = ret.split("@", 1)
        span, _status = state.split("/")
        first, last = (int(x, 16) for x in span.split("-"))
        out = [f"EXPECT({i}, rmas.index == {_num(first)} && rmas.last == "
               f"{_num(last)});"]
        if entries and not isinstance(op, MSet | MReset | MPause):
            out.insert(0, f"EXPECT({i}, entry == {_entry(entries)});")
        return out
    if isinstance(op, Load | Erase):
        return [f"EXPECT({i}, entry == {_entry(ret)});"]
    if isinstance(op, Find | FindAfter):
        token, _, at = ret.partition("@")
        out = [f"EXPECT({i}, entry == {_entry(token)});"]
        if at:
            out.append(f"EXPECT({i}, index == {_num(int(at, 16))});")
        return out
    if isinstance(op, Store | Null | Insert):
        return [f"EXPECT({i}, ret == {int(ret)});"]
    return []


def _call(op: Op) -> list[str]:
    """The C statements of one op."""
    match op:
        case Init(flags):
            return ["mtree_destroy(&tree);", f"mt_init_flags(&tree, {flags});"]
        case Store(first, last, value):
            return [f"ret = mtree_store_range(&tree, {_num(first)}, {_num(last)}, "
                    f"xa_mk_value({value:#x}), GFP_KERNEL);"]
        case Null(first, last):
            return [f"ret = mtree_store_range(&tree, {_num(first)}, {_num(last)}, "
                    "NULL, GFP_KERNEL);"]
        case Insert(first, last, value):
            return [f"ret = mtree_insert_range(&tree, {_num(first)}, {_num(last)}, "
                    f"xa_mk_value({value:#x}), GFP_KERNEL);"]
        case Erase(index):
            return [f"entry = mtree_erase(&tree, {_num(index)});"]
        case Load(index):
            return [f"entry = mtree_load(&tree, {_num(index)});"]
        case Find(index, limit) | FindAfter(index, limit):
            fn = "mt_find" if isinstance(op, Find) else "mt_find_after"
            return [f"index = {_num(index)};",
                    f"entry = {fn}(&tree, &index, {_num(limit)});"]
        case RcuOn():
            return ["mt_set_in_rcu(&tree);"]
        case RcuOff():
            return ["mt_clear_in_rcu(&tree);"]
        case Destroy():
            return ["mtree_destroy(&tree);"]
        case Validate():
            return ["mt_validate(&tree);"]
        case RLock():
            return ["rcu_read_lock();"]
        case RUnlock():
            return ["rcu_read_unlock();"]
        case MSet(index):
            return [f"mas_set(&rmas, {_num(index)});"]
        case MReset():
            return ["mas_reset(&rmas);"]
        case MPause():
            return ["mas_pause(&rmas);"]
        case MWalk():
            return ["entry = mas_walk(&rmas);"]
    if type(op) in _MAS_CALLS:
        bound = int(getattr(op, "max" if hasattr(op, "max") else "min"))
        return [f"entry = {_MAS_CALLS[type(op)]}(&rmas, {_num(bound)});"]
    raise ValueError(f"no C for {format_op(op)}")


def _statements(i: int, op: Op, expected: list[str]) -> list[str]:
    """The comment, the call and the checks of op @i, one statement a line."""
    exp = expected[i] if i < len(expected) else None
    return [f"/* #{i}: {format_op(op)} */", *_call(op), *_checks(i, op, exp)]


def _within(i: int, ops: list[Op], expected: list[str]) -> tuple[str, list[str]]:
    """(the reads function, main's statements) of the Within group at @i: the
    write runs the reads at the nth pass of the point (interleave.py)."""
    from rcu_harness.oracle.interleave import POINTS

    within, write = ops[i], ops[i + 1]
    assert isinstance(within, Within)
    name = f"reads_inside_op_{i + 1}"
    body = [s for j in range(i + 2, i + 2 + within.count)
            for s in _statements(j, ops[j], expected)]
    function = "".join([f"\nstatic void {name}(void)\n{{\n",
                        "\tunsigned long index;\n\tvoid *entry;\n\n",
                        "\t(void)index;\n\t(void)entry;\n",
                        *(f"\t{s}\n" for s in body), "}\n"])
    ret = expected[i].split(" ", 1)[0] if i < len(expected) else ""
    main = [f"/* #{i}: {format_op(within)}: the reads of #{i + 2}.. run inside "
            f"#{i + 1}, at pass {within.nth} of its point {within.point} "
            f"({POINTS[within.point]}) */",
            f"oracle_arm({name}, {within.point}, {within.nth});",
            *_statements(i + 1, write, expected),
            *([f"EXPECT({i}, oracle_passes == {int(ret)});"] if ret.isdigit()
              else []),
            "oracle_arm(NULL, 0, 0);"]
    return function, main


def c_program(ops: list[Op], expected: list[str], title: str) -> str:
    """The C reproducer of @ops; @expected are the model's lines (checked).
    The ops of a Within group run inside its write (:mod:`.interleave`)."""
    from rcu_harness.oracle.interleave import C_RUNTIME, span

    title = " ".join(title.replace("*/", "* /").split())
    functions: list[str] = []
    lines: list[str] = []
    i = 0
    while i < len(ops):
        if isinstance(ops[i], Within):
            function, main = _within(i, ops, expected)
            functions.append(function)
        else:
            main = _statements(i, ops[i], expected)
        lines += [f"\t{s}\n" for s in main]
        i += span(ops, i)
    prelude = PRELUDE.replace("@TITLE@", title).replace(
        "@INTERLEAVE@", C_RUNTIME + "\n" if functions else "").replace(
        "@READS@", "".join(functions))
    return "".join([prelude, *lines, EPILOGUE.replace("@OPS@", str(len(ops)))])


def build_and_run(program: str, *, tree_source: Path | None = None,
                  timeout: float = 120) -> tuple[int, str]:
    """Build the C reproducer @program in the oracle's harness and run it.

    The build is cached (``repro/<sha>`` in the oracle cache, keyed on the
    program and the tree source).  Returns (exit status, stderr).

    Raises:
        OracleUnavailable: the oracle or the reproducer cannot be built.
    """
    from rcu_harness.oracle.build import (
        HARNESS_DIR,
        compile_source,
        ensure_oracle,
        read_record,
    )

    ensure_oracle()
    info = read_record()
    assert info is not None
    key = hashlib.sha256(f"{program}\0{tree_source}".encode()).hexdigest()[:16]
    source = info.cache_dir / "repro" / f"repro-{key}.c"
    binary = source.with_suffix("")
    if not binary.is_file():
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(program)
        compile_source(info.source_dir / HARNESS_DIR, source, binary, False,
                       tree_source=tree_source)
    proc = subprocess.run([str(binary)], capture_output=True, text=True,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stderr
