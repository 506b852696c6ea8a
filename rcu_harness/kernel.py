"""Kernel primitives for thread code, as plain functions.

Every function reaches the running execution through
:func:`rcu_harness.runtime.current.current`, so model and scenario code
reads like kernel code::

    from rcu_harness.kernel import rcu_read_lock, rcu_read_unlock, kfree_rcu

Each is a scheduling point (see the module that defines it for what is and
is not modelled).
"""

from __future__ import annotations

from rcu_harness.memory.ordering import (
    READ_ONCE,
    WRITE_ONCE,
    smp_load_acquire,
    smp_mb,
    smp_rmb,
    smp_store_release,
    smp_wmb,
)
from rcu_harness.memory.simstruct import (
    SimStruct,
    kfree,
    kfree_rcu,
    kmalloc,
    publish,
    rcu_assign_pointer,
    rcu_dereference,
    rcu_dereference_check,
    rcu_dereference_protected,
)
from rcu_harness.rcu.api import (
    call_rcu,
    rcu_barrier,
    rcu_read_lock,
    rcu_read_lock_held,
    rcu_read_unlock,
    synchronize_rcu,
)
from rcu_harness.sync.atomic import (
    Atomic,
    atomic_dec,
    atomic_dec_and_test,
    atomic_inc,
    atomic_inc_not_zero,
    atomic_read,
    atomic_set,
)
from rcu_harness.sync.rwsem import RwSemaphore, down_read, down_write, up_read, up_write
from rcu_harness.sync.sleep import might_sleep, schedule, spin_until
from rcu_harness.sync.spinlock import SpinLock, spin_is_locked, spin_lock, spin_unlock

__all__ = [
    "READ_ONCE",
    "WRITE_ONCE",
    "Atomic",
    "RwSemaphore",
    "SimStruct",
    "SpinLock",
    "atomic_dec",
    "atomic_dec_and_test",
    "atomic_inc",
    "atomic_inc_not_zero",
    "atomic_read",
    "atomic_set",
    "call_rcu",
    "down_read",
    "down_write",
    "kfree",
    "kfree_rcu",
    "kmalloc",
    "might_sleep",
    "publish",
    "rcu_assign_pointer",
    "rcu_barrier",
    "rcu_dereference",
    "rcu_dereference_check",
    "rcu_dereference_protected",
    "rcu_read_lock",
    "rcu_read_lock_held",
    "rcu_read_unlock",
    "schedule",
    "smp_load_acquire",
    "smp_mb",
    "smp_rmb",
    "smp_store_release",
    "smp_wmb",
    "spin_is_locked",
    "spin_lock",
    "spin_unlock",
    "spin_until",
    "synchronize_rcu",
    "up_read",
    "up_write",
]
