"""Litmus tests of the lkmm memory model itself, every outcome enumerated by dfs.

Each test is a C litmus test (herd7's LKMM dialect), run on the harness
with ``dfs`` and no preemption bound until the search is exhausted: every
interleaving and every store each load may read.  The tables give the
final states the Linux kernel memory model allows (herd7's ``States`` on
the same text, checked in test_herd7.py where herd7 is available) and the
model's own; they differ only where docs/weak-memory.md says the model is
stronger than LKMM (load buffering).
"""

import pytest

from rcu_harness.litmus.parse import parse
from rcu_harness.litmus.run import outcomes


def _states(test: str, *names: str) -> set[tuple[str, ...]]:
    result = outcomes(parse(test))
    return {tuple(dict(s)[n] for n in names) for s in result.states}


def mp(writer_fence: str = "", reader_fence: str = "", *, release: bool = False,
       acquire: bool = False) -> str:
    store = "smp_store_release(y, 1);" if release else "WRITE_ONCE(*y, 1);"
    load = "r0 = smp_load_acquire(y);" if acquire else "r0 = READ_ONCE(*y);"
    return f"""C MP
{{}}
P0(int *x, int *y) {{ WRITE_ONCE(*x, 1); {writer_fence} {store} }}
P1(int *x, int *y) {{ int r0; int r1; {load} {reader_fence} r1 = READ_ONCE(*x); }}
exists (1:r0=1 /\\ 1:r1=0)
"""


ALL = {("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")}
NOT_10 = ALL - {("1", "0")}
NOT_00 = ALL - {("0", "0")}


@pytest.mark.parametrize(("writer", "reader", "allowed"), [
    ("", "", ALL),
    ("smp_wmb();", "", ALL),
    ("", "smp_rmb();", ALL),
    ("smp_wmb();", "smp_rmb();", NOT_10),
    ("smp_mb();", "smp_mb();", NOT_10),
    ("smp_wmb();", "smp_mb();", NOT_10),
])
def test_message_passing_needs_a_barrier_on_each_side(writer, reader, allowed):
    assert _states(mp(writer, reader), "1:r0", "1:r1") == allowed


def test_message_passing_with_release_and_acquire():
    assert _states(mp(release=True, acquire=True), "1:r0", "1:r1") == NOT_10
    assert _states(mp(release=True), "1:r0", "1:r1") == ALL
    assert _states(mp(acquire=True), "1:r0", "1:r1") == ALL


def sb(fence0: str, fence1: str) -> str:
    return f"""C SB
{{}}
P0(int *x, int *y) {{ int r0; WRITE_ONCE(*x, 1); {fence0} r0 = READ_ONCE(*y); }}
P1(int *x, int *y) {{ int r1; WRITE_ONCE(*y, 1); {fence1} r1 = READ_ONCE(*x); }}
exists (0:r0=0 /\\ 1:r1=0)
"""


@pytest.mark.parametrize(("fence0", "fence1", "allowed"), [
    ("", "", ALL),
    ("smp_mb();", "", ALL),
    ("smp_wmb();", "smp_rmb();", ALL),
    ("smp_mb();", "smp_mb();", NOT_00),
])
def test_store_buffering_needs_full_barriers_on_both_sides(fence0, fence1, allowed):
    assert _states(sb(fence0, fence1), "0:r0", "1:r1") == allowed


def lb(ordering: str) -> str:
    p0, p1 = {
        "": ("r0 = READ_ONCE(*x); WRITE_ONCE(*y, 1);",
             "r1 = READ_ONCE(*y); WRITE_ONCE(*x, 1);"),
        "ctrl+mb": ("r0 = READ_ONCE(*x); if (r0) WRITE_ONCE(*y, 1);",
                    "r1 = READ_ONCE(*y); smp_mb(); WRITE_ONCE(*x, 1);"),
        "acq+rel": ("r0 = smp_load_acquire(x); smp_store_release(y, 1);",
                    "r1 = smp_load_acquire(y); smp_store_release(x, 1);"),
    }[ordering]
    return f"""C LB
{{}}
P0(int *x, int *y) {{ int r0; {p0} }}
P1(int *x, int *y) {{ int r1; {p1} }}
exists (0:r0=1 /\\ 1:r1=1)
"""


@pytest.mark.parametrize(("ordering", "allowed"), [
    ("", ALL - {("1", "1")}),
    ("ctrl+mb", {("0", "0"), ("1", "0")}),
    ("acq+rel", ALL - {("1", "1")}),
])
def test_load_buffering_is_never_produced(ordering, allowed):
    # LKMM allows r0 = r1 = 1 without ordering (LB+poonceonces: Sometimes) and
    # forbids it with a control dependency or acquire/release; the model runs
    # each thread's loads in program order against stores that already
    # happened, so it never produces it (docs/weak-memory.md, Not modelled).
    assert _states(lb(ordering), "0:r0", "1:r1") == allowed


def pointer_mp(publish: str, deref: str) -> str:
    return f"""C MP+addr
{{
p=z;
}}
P0(int *x, int **p) {{ WRITE_ONCE(*x, 1); {publish} }}
P1(int **p) {{ int *r0; int r1; rcu_read_lock(); r0 = {deref}(*p);
  r1 = READ_ONCE(*r0); rcu_read_unlock(); }}
exists (1:r0=x /\\ 1:r1=0)
"""


@pytest.mark.parametrize(("publish", "deref", "allowed"), [
    ("rcu_assign_pointer(*p, x);", "rcu_dereference", {("x", "1"), ("z", "0")}),
    ("rcu_assign_pointer(*p, x);", "READ_ONCE", {("x", "1"), ("z", "0")}),
    ("smp_wmb(); WRITE_ONCE(*p, x);", "READ_ONCE", {("x", "1"), ("z", "0")}),
    ("WRITE_ONCE(*p, x);", "rcu_dereference",
     {("x", "1"), ("x", "0"), ("z", "0")}),
])
def test_an_address_dependency_orders_the_load_through_the_pointer(publish, deref,
                                                                    allowed):
    assert _states(pointer_mp(publish, deref), "1:r0", "1:r1") == allowed


def rcu_gp(update: str) -> str:
    return f"""C RCU+sync+read
{{}}
P0(int *x, int *y) {{ WRITE_ONCE(*x, 1); {update} WRITE_ONCE(*y, 1); }}
P1(int *x, int *y) {{ int r0; int r1; rcu_read_lock(); r0 = READ_ONCE(*y);
  r1 = READ_ONCE(*x); rcu_read_unlock(); }}
exists (1:r0=1 /\\ 1:r1=0)
"""


def test_a_grace_period_orders_a_whole_read_side_section():
    assert _states(rcu_gp("synchronize_rcu();"), "1:r0", "1:r1") == NOT_10
    assert _states(rcu_gp(""), "1:r0", "1:r1") == ALL


def test_a_grace_period_waits_for_a_section_that_saw_the_old_pointer():
    free = """C RCU+free
{
p=a;
a=1;
}
P0(int *a, int *b, int **p) { rcu_assign_pointer(*p, b); GP WRITE_ONCE(*a, 2); }
P1(int **p) { int *r0; int r1; rcu_read_lock(); r0 = rcu_dereference(*p);
  r1 = READ_ONCE(*r0); rcu_read_unlock(); }
exists (1:r0=a /\\ 1:r1=2)
"""
    with_gp = _states(free.replace("GP", "synchronize_rcu();"), "1:r0", "1:r1")
    assert with_gp == {("a", "1"), ("b", "0")}
    without = _states(free.replace("GP", ""), "1:r0", "1:r1")
    assert without == {("a", "1"), ("a", "2"), ("b", "0")}


@pytest.mark.parametrize(("test", "names", "allowed"), [
    ("P0(int *x) { WRITE_ONCE(*x, 1); WRITE_ONCE(*x, 2); }\n"
     "P1(int *x) { int r0; int r1; r0 = READ_ONCE(*x); r1 = READ_ONCE(*x); }\n"
     "exists (1:r0=2 /\\ 1:r1=1)", ("1:r0", "1:r1"),
     {("0", "0"), ("0", "1"), ("0", "2"), ("1", "1"), ("1", "2"), ("2", "2")}),
    ("P0(int *x) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*x); }\n"
     "P1(int *x) { WRITE_ONCE(*x, 2); }\nexists (0:r0=2 /\\ x=1)", ("0:r0", "x"),
     {("1", "1"), ("1", "2"), ("2", "2")}),
])
def test_coherence_a_word_is_never_read_backwards(test, names, allowed):
    assert _states("C Co\n{}\n" + test, *names) == allowed


def test_full_barriers_are_ordered_with_each_other_iriw():
    text = """C IRIW
{}
P0(int *x) { WRITE_ONCE(*x, 1); }
P1(int *x, int *y) { int r0; int r1; r0 = READ_ONCE(*x); FENCE r1 = READ_ONCE(*y); }
P2(int *y) { WRITE_ONCE(*y, 1); }
P3(int *x, int *y) { int r0; int r1; r0 = READ_ONCE(*y); FENCE r1 = READ_ONCE(*x); }
exists (1:r0=1 /\\ 1:r1=0 /\\ 3:r0=1 /\\ 3:r1=0)
"""
    bad = ("1", "0", "1", "0")
    names = ("1:r0", "1:r1", "3:r0", "3:r1")
    # smp_rmb() is not enough: LKMM is not multicopy-atomic
    assert bad in _states(text.replace("FENCE", "smp_rmb();"), *names)
    assert bad not in _states(text.replace("FENCE", "smp_mb();"), *names)


def test_a_lock_orders_the_critical_sections_of_its_holders():
    text = """C MP+polocks
{}
P0(int *x, int *y, spinlock_t *l) { WRITE_ONCE(*x, 1); spin_lock(l);
  WRITE_ONCE(*y, 1); spin_unlock(l); }
P1(int *x, int *y, spinlock_t *l) { int r0; int r1; spin_lock(l);
  r0 = READ_ONCE(*y); spin_unlock(l); r1 = READ_ONCE(*x); }
exists (1:r0=1 /\\ 1:r1=0)
"""
    assert _states(text, "1:r0", "1:r1") == NOT_10


RMW_ATOMICITY = """C RMW+atomicity
{}
P0(atomic_t *x) { int r0; r0 = atomic_fetch_add_relaxed(1, x); }
P1(atomic_t *x) { int r1; r1 = atomic_fetch_add_relaxed(1, x); }
exists (0:r0=0 /\\ 1:r1=0 /\\ x=1)
"""
RMW_NEWEST = """C RMW+newest
{}
P0(atomic_t *x) { atomic_set(x, 1); }
P1(atomic_t *x) { int r0; r0 = xchg_relaxed(x, 2); }
exists (1:r0=0 /\\ x=2)
"""

RMW_FORMS = """C RMW+forms
{ y=2; }
P0(atomic_t *x, atomic_t *y) { int r0; int r1; int r2;
  r0 = atomic_fetch_inc_relaxed(x); r1 = atomic_dec_return_release(y);
  r2 = atomic_dec_and_test(y); }
P1(atomic_t *x) { int r3; int r4; r3 = atomic_inc_return(x);
  r4 = atomic_sub_and_test(2, x); }
exists (0:r0=-1 /\\ 0:r1=1 /\\ 0:r2=1 /\\ 1:r3=1 /\\ 1:r4=0 /\\ x=0 /\\ y=0)
"""


def test_the_inc_dec_return_and_test_forms():
    # fetch_inc returns the old value, *_return the new one, *_and_test
    # whether it reached zero
    got = _states(RMW_FORMS, "0:r0", "0:r1", "0:r2", "1:r3", "1:r4", "x", "y")
    assert got == {("0", "1", "1", "2", "1", "0", "0"),  # P0's inc first
                   ("1", "1", "1", "1", "1", "0", "0"),  # between P1's RMWs
                   ("-1", "1", "1", "1", "0", "0", "0")}  # after them


def test_two_fetch_adds_never_lose_an_update():
    assert _states(RMW_ATOMICITY, "0:r0", "1:r1", "x") == {("0", "1", "2"),
                                                          ("1", "0", "2")}


def test_an_rmw_reads_the_newest_store():
    # r0=0 with x=2 would put P0's store between the xchg's read and write
    assert _states(RMW_NEWEST, "1:r0", "x") == {("0", "1"), ("1", "2")}


def rmw_mp(release: str, acquire: str) -> str:
    return f"""C MP+rmw
{{}}
P0(int *x, atomic_t *y) {{ int r9; WRITE_ONCE(*x, 1);
  r9 = atomic_fetch_add{release}(1, y); }}
P1(int *x, atomic_t *y) {{ int r0; int r1; r0 = atomic_fetch_add{acquire}(1, y);
  r1 = READ_ONCE(*x); }}
exists (1:r0=1 /\\ 1:r1=0)
"""


@pytest.mark.parametrize(("release", "acquire", "allowed"), [
    ("_release", "_acquire", NOT_10),
    ("", "", NOT_10),  # fully ordered
    ("_relaxed", "_acquire", ALL),
    ("_release", "_relaxed", ALL),
    ("_relaxed", "_relaxed", ALL),
])
def test_message_passing_through_release_and_acquire_rmws(release, acquire, allowed):
    assert _states(rmw_mp(release, acquire), "1:r0", "1:r1") == allowed


def rmw_sequence(middle: str) -> str:
    return f"""C MP+rel+rmw+acq
{{}}
P0(int *x, atomic_t *y) {{ WRITE_ONCE(*x, 1); smp_store_release(y, 1); }}
P1(atomic_t *y) {{ {middle} }}
P2(int *x, atomic_t *y) {{ int r0; int r1; r0 = smp_load_acquire(y);
  r1 = READ_ONCE(*x); }}
exists (2:r0=2 /\\ 2:r1=0)
"""


def test_a_release_orders_through_the_rmws_that_read_it():
    # LKMM's rmw-sequence: a relaxed RMW reading a release store passes its
    # ordering on; a plain store overwriting it does not
    names = ("2:r0", "2:r1")
    assert ("2", "0") not in _states(rmw_sequence("atomic_inc(y);"), *names)
    assert ("2", "0") in _states(rmw_sequence("WRITE_ONCE(*y, 2);"), *names)
