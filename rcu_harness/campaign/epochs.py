"""A guided strategy's epochs in a campaign: cut, gate, feed, absorb.

A guided strategy (``rff``, :class:`~rcu_harness.sched.protocol.Guided`)
learns in epochs: execution ``i`` mutates the corpus made by the epochs
before its own (:mod:`rcu_harness.sched.rff`).  For the run to be the same
whatever the number of workers, the executor order or a resume, the
coordinator (:mod:`rcu_harness.campaign.coordinator`), through
:class:`Epochs`:

* cuts blocks at the epoch boundaries, so that a block never spans two;
* hands out an epoch's blocks only once every block of the epochs before it
  is absorbed, each with the corpus of those epochs (its work unit's
  ``corpus``);
* absorbing a block (in index order, like every result), keeps as corpus
  entries those of its executions that made pairs new to the run (the
  block says which made pairs new to the block; the run's coverage, before
  the block's pairs are added, says which of those pairs were new), and
  commits them with the batch (table ``corpus`` of ``run.sqlite``); a
  resumed run reads them back;
* after a block that ended early (a time budget) absorbs nothing more, so
  that a resume finds no gap below executions it already has (a gap would
  make an execution first to a pair that a later one was credited with).

For other strategies it does nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rcu_harness.sched.protocol import Guided
from rcu_harness.sched.registry import make_strategy
from rcu_harness.sched.rff import CorpusEntry

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from rcu_harness.campaign.plan import Block, RunPlan
    from rcu_harness.campaign.worker import UnitResult


class Epochs:
    """The epochs and the corpus of one run (inactive unless guided)."""

    def __init__(self, plan: RunPlan, corpus: Sequence[CorpusEntry] = ()) -> None:
        strategy = make_strategy(plan.strategy, plan.seed, **plan.strategy_params)
        self.strategy = strategy if isinstance(strategy, Guided) else None
        """The guided strategy, asked for epoch boundaries (None: inactive)."""
        self.corpus = list(corpus)
        """The run's corpus so far, by execution."""
        self.open: dict[int, tuple[int, int]] = {}
        """Blocks handed out and not absorbed yet: seq -> (start, stop)."""
        self.cut_short = False
        """A block ended early: absorb no more."""

    def cut(self, source: Iterator[Block]) -> Iterator[Block]:
        """@source's blocks, cut at the epoch boundaries."""
        if self.strategy is None:
            yield from source
            return
        seq = 0
        for block in source:
            start = block.start
            while start < block.stop:
                stop = min(block.stop, self.strategy.epoch_bounds(start)[1])
                yield replace(block, seq=seq, start=start, stop=stop)
                seq += 1
                start = stop

    def may_start(self, block: Block) -> bool:
        """Is every block of the epochs before @block's absorbed?"""
        if self.strategy is None or not self.open:
            return True
        first = self.strategy.epoch_bounds(block.start)[0]
        return min(start for start, _stop in self.open.values()) >= first

    def hand_out(self, block: Block) -> tuple[CorpusEntry, ...]:
        """@block is handed out: the corpus its work unit carries."""
        if self.strategy is not None:
            self.open[block.seq] = (block.start, block.stop)
        return self.corpus_for(block.start)

    def corpus_for(self, index: int) -> tuple[CorpusEntry, ...]:
        """The corpus execution @index sees (that of the epochs before its
        own, absorbed by now)."""
        if self.strategy is None:
            return ()
        first = self.strategy.epoch_bounds(index)[0]
        return tuple(e for e in self.corpus if e.execution < first)

    def take(self, seq: int, result: UnitResult) -> bool:
        """Block @seq came back with @result, next in index order: absorb it?"""
        if self.strategy is None:
            return True
        start, stop = self.open.pop(seq, (result.start, result.start))
        if self.cut_short:
            return False
        self.cut_short = len(result.executions) < stop - start
        return True

    def absorb(self, result: UnitResult, known: Mapping[str, int]
               ) -> list[CorpusEntry]:
        """The entries of @result's executions that made pairs not in
        @known (the run's pairs before @result's), added to the corpus."""
        if self.strategy is None:
            return []
        kept = []
        for entry in result.corpus:
            new = sum(1 for pair, (first, _n) in result.reads_from.items()
                      if first == entry.execution and pair not in known)
            if new:
                kept.append(CorpusEntry(entry.execution, new, entry.schedule))
        self.corpus.extend(kept)
        return kept
