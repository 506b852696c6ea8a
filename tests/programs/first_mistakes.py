"""The two mistakes a first program usually makes (docs/python-api.md shows
what the harness says about each)."""

from maple import (
    MT_FLAGS_USE_RCU,
    MapleTree,
    mtree_destroy,
    mtree_load,
    mtree_store_range,
)
from rcu_harness import ReadKind
from rcu_harness.kernel import kfree, kmalloc, rcu_read_lock, rcu_read_unlock
from tests.programs.sessions import Session


def forgot_teardown(h):
    """Setup stores a session that a reader looks up; nothing frees them."""
    mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port)
    mtree_store_range(mt, 0, 9, kmalloc(Session, owner=0))
    h.spawn("reader", mtree_load, mt, 5)


def forgot_initial_contents(h):
    """A reader's result is checked, but setup's store was never declared."""
    mt = MapleTree(MT_FLAGS_USE_RCU, port=h.port)
    session = kmalloc(Session, owner=0)
    mtree_store_range(mt, 0, 9, session)

    def reader():
        rcu_read_lock()
        with h.reading(mt, ReadKind.LOAD, 5) as rec:
            rec.saw(5, 5, mtree_load(mt, 5))
        rcu_read_unlock()

    def teardown():
        mtree_destroy(mt)
        kfree(session)

    h.at_exit(teardown)
    h.spawn("reader", reader)
