"""The result checker's shortcuts give the full check's verdicts
(rcu_harness/checks/results.py): an ascending iteration that returned
exactly what one possibly-current version holds is accepted without the
full check, and setup's contents are stored at once."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

import rcu_harness.checks.results as results
from rcu_harness import ReadKind, explore
from rcu_harness.checks.intervalmap import IntervalMap
from rcu_harness.checks.observer import Observer
from rcu_harness.checks.results import ResultCheck
from rcu_harness.runtime.records import ReadRecord, WriteOp, WriteRecord

Shortcut = Callable[[ReadRecord, list[IntervalMap]], bool]


class _Ex:
    def __init__(self) -> None:
        self.failed: list[Any] = []
        self.step = 0

    def fail(self, v: Any) -> None:
        self.failed.append(v)


class _T:
    label = "t/1"


def _history(rng: random.Random) -> ResultCheck:
    """Setup's VMAs, then stores and erases, some of them overlapping in time."""
    check = ResultCheck()
    check.initial_contents(_Ex(), _T(), "mt",  # type: ignore[arg-type]
                           [(10 * k, 10 * k + 5, f"v{k}") for k in range(8)])
    step = 0
    for n in range(rng.randrange(0, 7)):
        index = rng.randrange(0, 90)
        last = index + rng.choice((0, 3, 9, 25))
        entry = None if rng.random() < 0.3 else f"w{n}"
        begin = step + rng.randrange(0, 4)
        step = begin + rng.randrange(1, 6)
        op = WriteOp.ERASE if entry is None else WriteOp.STORE
        check.write_begin(_Ex(), _T(),  # type: ignore[arg-type]
                          WriteRecord("mt", op, index, last, entry, "w", begin, step))
    return check


def _results(rng: random.Random, cands: list[IntervalMap], first: int,
             limit: int) -> list[tuple[int, int, object]]:
    """What one candidate holds over [first, limit], often changed a little."""
    out = list(rng.choice(cands).overlapping(first, limit))
    change = rng.randrange(8)
    if change == 1 and out:
        del out[rng.randrange(len(out))]  # a missed range
    elif change == 2 and out:
        k = rng.randrange(len(out))
        out[k] = (out[k][0], out[k][1], "other")  # an entry never stored there
    elif change == 3 and len(out) > 1:
        out.reverse()  # not ascending
    elif change == 4 and out:
        k = rng.randrange(len(out))
        out[k] = (out[k][0], out[k][1] + 1, out[k][2])  # a range one too long
    elif change == 5:
        out.append((200, 209, "v0"))  # past the window
    elif change == 6:  # a mixture of two candidates
        other = list(rng.choice(cands).overlapping(first, limit))
        out = sorted(set(out[: len(out) // 2] + other[len(other) // 2:]))
    return out


def _disagreements(shortcut: Shortcut) -> tuple[int, int, int]:
    """Random iterations over random histories: how many the checker (taking
    @shortcut) judged otherwise than the full check, how many the shortcut
    accepted and how many the full check rejected."""
    rng = random.Random(13)
    wrong = taken = rejected = 0
    for _ in range(400):
        check = _history(rng)
        for _ in range(6):
            begin = rng.randrange(0, 30)
            end = begin + rng.randrange(0, 10)
            first = rng.randrange(0, 60)
            limit = first + rng.randrange(0, 60)
            cands = check.trees["mt"].candidates(begin, end)
            rec = ReadRecord("mt", ReadKind.ITERATE, first, limit, "t/1", begin, end,
                             _results(rng, cands, first, limit))
            full = check._problem(rec, cands)
            rejected += bool(full)
            taken += shortcut(rec, cands)
            ex = _Ex()
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(results, "_as_stored", shortcut)
                check.read_end(ex, _T(), rec)  # type: ignore[arg-type]
            judged = ex.failed[0].message.split(": ", 1)[1] if ex.failed else ""
            wrong += judged != full
    return wrong, taken, rejected


def test_an_iteration_returned_as_a_version_holds_it_is_judged_as_in_full() -> None:
    wrong, taken, rejected = _disagreements(results._as_stored)
    assert wrong == 0
    assert taken > 500  # both ways, many times
    assert rejected > 300


def _bounds_only(rec: ReadRecord, cands: list[IntervalMap]) -> bool:
    """A seeded bug: the results' ranges compared, not their entries."""
    got = [r[:2] for r in rec.results]
    return any(got == [r[:2] for r in v.overlapping(rec.first, rec.limit)]
               for v in cands)


def _newest_subset(rec: ReadRecord, cands: list[IntervalMap]) -> bool:
    """A seeded bug: every result present in the newest version (misses
    and order not looked at)."""
    held = set(cands[-1].overlapping(rec.first, rec.limit))
    return all(r in held for r in rec.results)


@pytest.mark.parametrize("shortcut", [_bounds_only, _newest_subset])
def test_a_seeded_bug_in_the_shortcut_changes_a_verdict(shortcut: Shortcut) -> None:
    wrong, _, _ = _disagreements(shortcut)
    assert wrong > 0


def test_setup_contents_at_once_are_the_versions_setup_writes_make_one_by_one(
        ) -> None:
    rng = random.Random(5)
    for _ in range(200):
        entries = []
        at = rng.randrange(0, 20)
        for n in range(rng.randrange(0, 12)):
            if rng.random() < 0.15:
                at -= rng.randrange(0, 30)  # not past every range: stored in turn
            last = at + rng.randrange(0, 9)
            entries.append((at, last, None if rng.random() < 0.2 else f"e{n}"))
            at = last + 1 + rng.randrange(0, 5)
        at_once, one_by_one = ResultCheck(), ResultCheck()
        at_once.initial_contents(_Ex(), _T(), "mt", entries)  # type: ignore[arg-type]
        Observer.initial_contents(one_by_one, _Ex(), _T(), "mt",  # type: ignore[arg-type]
                                  entries)
        assert at_once.trees.keys() == one_by_one.trees.keys()
        assert [v.ranges for v in at_once._history("mt").versions] == \
            [v.ranges for v in one_by_one._history("mt").versions]
        assert at_once._history("mt").writes == one_by_one._history("mt").writes == []


class _SetupWrites(Observer):
    """An observer of writer operations only."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int, object, int]] = []

    def write_begin(self, ex: Any, t: Any, rec: WriteRecord) -> None:
        self.seen.append(("begin", rec.index, rec.last, rec.entry, rec.begin))

    def write_end(self, ex: Any, t: Any, rec: WriteRecord) -> None:
        self.seen.append(("end", rec.index, rec.last, rec.entry, rec.end or 0))


def test_an_observer_of_writes_sees_each_setup_entry_as_a_setup_write() -> None:
    observer = _SetupWrites()

    def program(h: Any) -> None:
        h.initial_contents("mt", iter([(0, 9, "a"), (20, 29, "b")]))

    explore(program, executions=1, checkers=[lambda: observer])
    assert observer.seen == [("begin", 0, 9, "a", -1), ("end", 0, 9, "a", -1),
                             ("begin", 20, 29, "b", -1), ("end", 20, 29, "b", -1)]
