"""Pending accesses: a maple word's is made once and shared."""

from __future__ import annotations

from rcu_harness.runtime import pending
from rcu_harness.runtime.pending import MapleAccess, is_sync, maple_access


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
