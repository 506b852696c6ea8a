"""Tiny deterministic programs whose RCU figures are known by hand.

``controlled(broken)``: a reader enters a read-side section, loads the
published pointer ``head->ptr`` (object A), tells the writer, and spins
until the writer says go; then it reads ``A->val`` and leaves.  The writer
replaces A with B and retires A with ``call_rcu(A, noop)`` (the callback
frees nothing; A is freed at exit), then:

* legal: queues three more objects with ``kfree_rcu()`` and says go.  No
  grace period can end while the reader is inside (each starts after the
  reader's section began), so: Reader Batch ``[0]``, Reader Pipe ``[1]``
  (A retired, no grace period since), retired loads ``[1]``, and four
  objects wait for a grace period at once (peak 4);
* broken (run it with grace periods that ignore readers, the
  ``gp-ignores-readers`` mutant): ``rcu_barrier()`` (grace period 1 ends)
  and ``synchronize_rcu()`` (grace period 2 ends), then go.  The reader's
  section saw two grace periods end (Batch ``[2]``) and read A two grace
  periods after its retirement (Pipe ``[3]``, retired loads ``[3]``).

These values do not depend on the schedule: any fair strategy gives them.
"""

from rcu_harness.kernel import (
    SimStruct,
    call_rcu,
    kfree,
    kfree_rcu,
    kmalloc,
    rcu_assign_pointer,
    rcu_barrier,
    rcu_dereference,
    rcu_read_lock,
    rcu_read_unlock,
    synchronize_rcu,
)


class Head(SimStruct):
    fields = ("ptr",)


class Box(SimStruct):
    fields = ("val",)


class Flags(SimStruct):
    fields = ("ready", "go")


def noop(obj):
    """An RCU callback that frees nothing."""


def controlled(broken=False):
    def program(h):
        head = h.static(Head, ptr=None)
        flags = h.static(Flags, ready=0, go=0)
        a = kmalloc(Box, val=1)
        head.ptr = a
        b = kmalloc(Box, val=2)
        xs = [kmalloc(Box, val=10 + i) for i in range(3)]

        def reader():
            with h.span("reader.walk"):
                rcu_read_lock()
                p = rcu_dereference(head, "ptr")
                flags.ready = 1
                while not flags.go:
                    pass
                p.val  # noqa: B018 - the load is the point
                rcu_read_unlock()

        def writer():
            while not flags.ready:
                pass
            with h.span("writer.store"):
                rcu_assign_pointer(head, "ptr", b)
                call_rcu(a, noop)
            if broken:
                rcu_barrier()
                synchronize_rcu()
            else:
                for x in xs:
                    kfree_rcu(x)
            flags.go = 1

        def cleanup():
            kfree(a)
            kfree(b)
            if broken:
                for x in xs:
                    kfree(x)

        h.spawn("reader", reader)
        h.spawn("writer", writer)
        h.at_exit(cleanup)

    return program
