"""Kernel synchronisation primitives: spinlock, rw-semaphore, atomic_t, sleep."""
