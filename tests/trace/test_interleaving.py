"""The interleaving excerpt always shows what explains a memory error: the
object's allocation, death and free and the faulting thread's load of the
pointer, however long ago; the gaps are elided with one ``…`` row each, and
every free line names its address."""

import re

import pytest

from rcu_harness.scenarios.mutants import MUTANTS
from rcu_harness.scenarios.run import explore_scenario
from rcu_harness.trace.events import EventKind
from rcu_harness.trace.interleaving import excerpt, key_events

OBJ = 0xFFFF888000002C00


class Node:
    addr = OBJ


def _raw(step, tid, kind, addr=0, word=None, value=None):
    return (step, tid, kind.value, addr, word, -1, value, None)


def _events():
    raws = [_raw(1, 0, EventKind.ALLOC, OBJ, "maple_node")]
    raws += [_raw(2 + i, 0, EventKind.LOAD, 0x100, "pivot", i) for i in range(40)]
    raws.append(_raw(50, 1, EventKind.LOAD, 0x200, "slot", (Node(), 3)))
    raws += [_raw(51 + i, 0, EventKind.LOAD, 0x100, "pivot", i) for i in range(40)]
    raws.append(_raw(100, 0, EventKind.STORE, OBJ, "parent", OBJ))
    raws.append(_raw(101, 0, EventKind.FREE, OBJ, "maple_node"))
    raws += [_raw(103 + i, 0, EventKind.LOAD, 0x100, "pivot", i) for i in range(40)]
    raws.append(_raw(143, 0, EventKind.FREE, 0xFFFF888000001000, "Vma"))
    return raws


def test_key_events_are_the_marks_and_the_faulting_load_of_the_pointer():
    raws = _events()
    life = (("alloc", "owner/1", 1), ("death", "owner/1", 100),
            ("free", "owner/1", 101))
    keep = key_events(raws, OBJ, life, (1, 150, "Read parent of freed maple_node"))
    assert [raws[i][0] for i in keep.indexes] == [1, 50, 100, 101]
    assert keep.unrecorded == ()


def test_an_allocation_in_setup_is_a_row_of_its_own():
    raws = _events()[1:]
    life = (("alloc", "setup/-1", 0), ("free", "owner/1", 101))
    fault = (1, 150, "Read parent of freed maple_node")
    keep = key_events(raws, OBJ, life, fault)
    assert keep.unrecorded == (f"alloc {OBJ:#x} (in setup, before the threads ran)",)
    text = excerpt(raws, {0: "owner/1", 1: "reader/2"}, fault=fault, keep=keep)
    assert text.splitlines()[3] == (f"setup | alloc {OBJ:#x} (in setup, before the "
                                    "threads ran)")


def test_the_excerpt_keeps_them_and_elides_the_rest():
    raws = _events()
    life = (("alloc", "owner/1", 1), ("death", "owner/1", 100),
            ("free", "owner/1", 101))
    fault = (1, 150, "Read parent of freed maple_node")
    text = excerpt(raws, {0: "owner/1", 1: "reader/2"}, last=30, fault=fault,
                   keep=key_events(raws, OBJ, life, fault))
    lines = text.splitlines()
    assert lines[0] == ("Interleaving (last 30 of 125 events, and 4 earlier ones "
                        "of the object's life and the pointer's load):")
    body = [line.split("|")[0].strip() for line in lines[3:]]
    assert body == ["1", "…", "50", "…", "100", "101", "…",
                    *map(str, range(114, 144)), "150"]
    gaps = [line for line in lines if "…" in line][1:]
    assert gaps == ["    … | (40 events)", "    … | (11 events)"]
    assert f"free {OBJ:#x} maple_node" in text
    assert "free 0xffff888000001000 Vma" in text, "every free names its address"
    assert re.search(r"^   50 \| +\| ld slot enode\(0xffff888000002c00", text, re.M)


@pytest.mark.parametrize(("mutant", "executions"), [
    ("free-without-grace-period", 4), ("mmget-not-zero-no-rcu", 4)])
def test_a_real_use_after_free_report_shows_the_object_s_life(mutant, executions):
    m = MUTANTS[mutant]
    found = explore_scenario(m.scenario, mutant=mutant, strategy="pct",
                             executions=executions, seed=0)
    (f,) = found.findings
    assert f.kind == "use-after-free"
    report = f.report[f.report.index("Interleaving ("):]
    assert f"alloc {f.addr:#x}" in report
    assert f"free {f.addr:#x}" in report
    assert re.search(rf"ld \S+ (enode\()?{f.addr:#x}"[:-2], report), \
        "the faulting thread's load of the pointer"
    for line in report.splitlines():
        if "| free " in line:
            assert re.search(r"\| free 0x[0-9a-f]+ ", line), line
