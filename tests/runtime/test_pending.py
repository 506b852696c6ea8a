"""Pending accesses: a maple word's, a field's or a lock's is made once
and shared."""

from __future__ import annotations

from rcu_harness.runtime import pending
from rcu_harness.runtime.pending import (
    Access,
    MapleAccess,
    is_sync,
    maple_access,
    word_access,
)


def test_a_maple_access_is_made_once_per_word_and_kind():
    a = maple_access(0x1000, "slot", 3, False)
    assert a == MapleAccess(0x1000, "slot", 3, False)
    assert maple_access(0x1000, "slot", 3, False) is a
    assert maple_access(0x1000, "slot", 3, True) is not a
    assert maple_access(0x1000, "slot", 3, True).store
    assert not is_sync(a)


def test_the_table_starts_over_past_its_bound(monkeypatch):
    monkeypatch.setattr(pending, "MADE_MAX", 3)
    monkeypatch.setattr(pending, "_made", {})
    made = [maple_access(0x2000, "pivot", i, False) for i in range(5)]
    assert len(pending._made) <= 3
    assert [m.index for m in made] == [0, 1, 2, 3, 4]
    assert maple_access(0x2000, "pivot", 0, False) == made[0]


def test_a_field_or_lock_access_is_made_once_per_word_and_kind():
    a = word_access(0x3000, "vm_lock_seq", False)
    assert a == Access(0x3000, "vm_lock_seq", -1, False)
    assert word_access(0x3000, "vm_lock_seq", False) is a
    assert word_access(0x3000, "vm_lock_seq", True) is not a
    assert word_access(0x3000, "lock", True).store
    assert is_sync(a)  # not a maple word
    assert word_access(0x3000, "slot", False) != maple_access(0x3000, "slot", -1, False)


def test_the_word_table_starts_over_past_its_bound(monkeypatch):
    monkeypatch.setattr(pending, "MADE_MAX", 2)
    monkeypatch.setattr(pending, "_made_words", {})
    made = [word_access(0x4000 + 64 * i, "lock", True) for i in range(5)]
    assert len(pending._made_words) <= 2
    assert [m.addr for m in made] == [0x4000 + 64 * i for i in range(5)]
    assert word_access(0x4000, "lock", True) == made[0]
