"""A user's program: lockless readers look sessions up while a writer replaces them.

The worked example of docs/python-api.md (the document shows this file
verbatim).  A maple tree in RCU mode maps four ranges of IDs to session
objects.  Readers look an ID up under rcu_read_lock() and use the session
they got; a writer replaces sessions one by one and frees the old ones.
The planted bug: the writer frees an old session at once (kfree) instead
of after a grace period (kfree_rcu), so a reader that found it just before
it was replaced may use freed memory.
"""

from maple import (
    MT_FLAGS_USE_RCU,
    MapleTree,
    mtree_destroy,
    mtree_load,
    mtree_store_range,
)
from rcu_harness import ReadKind
from rcu_harness.kernel import (
    SimStruct,
    kfree,
    kfree_rcu,
    kmalloc,
    rcu_read_lock,
    rcu_read_unlock,
)

SLOTS = 4
"""Session ranges: [0, 9], [10, 19], [20, 29], [30, 39]."""


class Session(SimStruct):
    """What the tree maps a range of IDs to."""

    fields = ("owner",)


def reader(h, mt, reads):
    """Look up random IDs; use each session found inside the read section."""
    for _ in range(reads):
        index = 10 * h.random(SLOTS)
        rcu_read_lock()
        with h.reading(mt, ReadKind.LOAD, index) as rec:
            session = mtree_load(mt, index)
            rec.saw(index, index, session)
        if session is not None and session.owner >= 0:  # uses the session
            h.count("sessions_used")
        rcu_read_unlock()


def writer(h, mt, updates, planted_bug):
    """Replace the sessions in turn; free each old one."""
    for n in range(updates):
        first, last = 10 * (n % SLOTS), 10 * (n % SLOTS) + 9
        old = mtree_load(mt, first)
        new = kmalloc(Session, owner=100 + n)
        with h.writing(mt, first, last, new):
            mtree_store_range(mt, first, last, new)
        if planted_bug:
            kfree(old)  # readers may still hold it
        else:
            kfree_rcu(old)  # freed after every reader that may hold it left


def program(h, readers: int = 2, reads: int = 3, updates: int = 4,
            planted_bug: bool = True):
    """Lockless readers look sessions up while a writer replaces them."""
    mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port)
    initial = []
    for i in range(SLOTS):
        session = kmalloc(Session, owner=i)
        mtree_store_range(mt, 10 * i, 10 * i + 9, session)
        initial.append((10 * i, 10 * i + 9, session))
    h.initial_contents(mt, initial)

    def teardown():
        for i in range(SLOTS):
            kfree(mtree_load(mt, 10 * i))
        mtree_destroy(mt)

    h.at_exit(teardown)
    for k in range(readers):
        h.spawn(f"reader{k}", reader, h, mt, reads)
    h.spawn("writer", writer, h, mt, updates, planted_bug)
