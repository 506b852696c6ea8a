"""The kernel designs an mm can follow (see :mod:`.mm` for what each means)."""

from __future__ import annotations

from enum import Enum


class Design(Enum):
    """Which kernel's RCU-mode and locking protocol the mm follows."""

    D2021 = "2021"
    D2023 = "2023"
    MODERN = "modern"
    """Linux 6.5+ as of 6.12: per-VMA locks with a per-VMA rw_semaphore."""
    VMA_REFCNT = "vma_refcnt"
    """Linux 6.15+ (as of 6.17): per-VMA locks as ``vm_refcnt``, VMAs from a
    SLAB_TYPESAFE_BY_RCU cache."""

    @property
    def per_vma_locks(self) -> bool:
        """Does the page fault lock a VMA instead of the mmap_lock?"""
        return self in (Design.MODERN, Design.VMA_REFCNT)

    @property
    def refcnt(self) -> bool:
        """The 6.15+ ``vm_refcnt`` lock and typesafe VMA cache?"""
        return self is Design.VMA_REFCNT
