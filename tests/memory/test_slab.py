"""Slab caches: SLAB_TYPESAFE_BY_RCU reuse at once, reads of a free object
legal, writes not; plain caches never reuse."""

from rcu_harness import explore
from rcu_harness.kernel import SimStruct, rcu_read_lock, rcu_read_unlock
from rcu_harness.memory.heap import SLAB_FREE
from rcu_harness.memory.simstruct import field_rmw
from rcu_harness.memory.slab import kmem_cache_alloc, kmem_cache_create, kmem_cache_free


class Obj(SimStruct):
    fields = ("owner", "refs")


class Box(SimStruct):
    fields = ("ptr",)


def test_typesafe_cache_hands_the_last_freed_object_out_again_at_once():
    seen = {}

    def program(h):
        cache = kmem_cache_create("objs", Obj, typesafe_by_rcu=True)
        a = kmem_cache_alloc(cache, owner="a", refs=0)
        b = kmem_cache_alloc(cache, owner="b", refs=0)
        kmem_cache_free(cache, a)
        kmem_cache_free(cache, b)
        c = kmem_cache_alloc(cache, owner="c", refs=0)
        d = kmem_cache_alloc(cache, owner="d", refs=0)
        seen.update(c_is_b=c is b, d_is_a=d is a, addr=(c.addr == b.addr),
                    lives=cache.lives(c), owner=c.owner)
        kmem_cache_free(cache, c)
        kmem_cache_free(cache, d)

    assert explore(program, executions=1).ok
    assert seen == {"c_is_b": True, "d_is_a": True, "addr": True, "lives": 1,
                    "owner": "c"}


def test_plain_cache_never_reuses():
    seen = {}

    def program(h):
        cache = kmem_cache_create("plain", Obj)
        a = kmem_cache_alloc(cache, owner="a")
        kmem_cache_free(cache, a)
        b = kmem_cache_alloc(cache, owner="b")
        seen["same"] = a is b
        kmem_cache_free(cache, b)

    assert explore(program, executions=1).ok
    assert seen == {"same": False}


def stale_reader(*, write: bool):
    """A reader keeps a pointer to an object the writer frees (typesafe) and
    reallocates; it then reads (legal) or writes (a use after free) it."""

    def program(h):
        cache = kmem_cache_create("objs", Obj, typesafe_by_rcu=True)
        box = h.static(Box, ptr=kmem_cache_alloc(cache, owner="old", refs=1))

        def reader():
            rcu_read_lock()
            obj = box.ptr
            if obj is not None:
                _owner = obj.owner  # may be the object's next life: legal
                if write and obj._w & SLAB_FREE:
                    obj.refs = 5
            rcu_read_unlock()

        def writer():
            old = box.ptr
            box.ptr = None
            kmem_cache_free(cache, old)

        h.spawn("reader", reader)
        h.spawn("writer", writer)

    return program


def test_reading_a_free_typesafe_object_is_not_a_finding():
    assert explore(stale_reader(write=False), strategy="random", executions=200,
                   seed=3).ok


def test_writing_a_free_typesafe_object_is_a_use_after_free():
    r = explore(stale_reader(write=True), strategy="random", executions=200, seed=3)
    assert r.findings
    assert r.findings[0].kind == "use-after-free"
    assert "Write refs of freed Obj" in r.findings[0].message


def test_a_typesafe_double_free_is_reported():
    def program(h):
        cache = kmem_cache_create("objs", Obj, typesafe_by_rcu=True)
        a = kmem_cache_alloc(cache, owner="a")

        def t():
            kmem_cache_free(cache, a)
            kmem_cache_free(cache, a)

        h.spawn("t", t)

    f = explore(program, executions=1).findings[0]
    assert f.kind == "double-free"


def test_field_rmw_is_one_step_and_writes_only_on_change():
    seen = []

    def program(h):
        obj = h.static(Obj, refs=0)

        def inc_not_zero():
            seen.append(field_rmw(obj, "refs", lambda c: c + 1 if c else c))

        def set_one():
            seen.append(field_rmw(obj, "refs", lambda c: 1))

        h.spawn("a", inc_not_zero)
        h.spawn("b", set_one)

    assert explore(program, strategy="dfs", executions=10).ok
    assert sorted(set(seen)) == [0, 1]
