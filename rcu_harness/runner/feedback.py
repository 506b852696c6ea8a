"""RFF's feedback: the corpus of executions that first made reads-from pairs.

A guided strategy (:class:`~rcu_harness.sched.protocol.Guided`, ``rff``)
mutates the schedules of the executions that made a reads-from pair no
earlier execution made (:class:`~rcu_harness.sched.rff.CorpusEntry`), and
execution ``i`` sees only the corpus of the epochs before its own.
:class:`Feedback` builds that corpus as a block runs and feeds it to the
strategy at each epoch's first execution; :func:`corpus_before` rebuilds it
for regenerating an execution by seed.

A block from execution 0 knows every earlier pair, so its corpus is exact
across any number of epochs (``explore``, the scoreboard, replay).  A
campaign's block starts inside one epoch with the corpus the coordinator
passed and never crosses into the next; the entries it makes are those of
pairs new *to the block*, which the coordinator, absorbing blocks in index
order, narrows to pairs new to the run
(:mod:`rcu_harness.campaign.coordinator`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rcu_harness.checks.defaults import default_checkers
from rcu_harness.checks.reads_from import CONTEXT_KEY as COVERAGE_KEY
from rcu_harness.checks.reads_from import ReadsFromCoverage
from rcu_harness.memory.reads_from import pair_text
from rcu_harness.runner.run import run_execution
from rcu_harness.sched.rff import CorpusEntry

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rcu_harness.runner.harness import Harness
    from rcu_harness.runtime.execution import Execution
    from rcu_harness.sched.protocol import Guided


class EpochError(ValueError):
    """A block that does not start at 0 would cross an epoch boundary."""


class Feedback:
    """The corpus of a block of a guided strategy's executions."""

    def __init__(self, strategy: Guided, start: int,
                 corpus: Sequence[CorpusEntry] = ()) -> None:
        self.strategy = strategy
        self.start = start
        self.corpus = list(corpus)
        """The corpus so far: @corpus, then what this block made."""
        self.made: list[CorpusEntry] = []
        """The entries this block's executions made."""
        self.known: set[str] = set()
        """The pairs this block's executions made."""

    def before(self, index: int) -> None:
        """Feed the strategy before execution @index, if it starts the block
        or an epoch."""
        first = self.strategy.epoch_bounds(index)[0]
        if index == self.start:
            self.strategy.feed([e for e in self.corpus if e.execution < first])
        elif first == index:
            if self.start:
                raise EpochError(f"a block from execution {self.start} cannot "
                                 f"go on into the epoch from {index}: its corpus "
                                 "needs every earlier pair")
            self.strategy.feed(self.corpus)

    def after(self, index: int, pairs: set[str], ex: Execution) -> None:
        """Execution @index (@ex) made the reads-from pairs @pairs."""
        new = pairs - self.known
        if new:
            self.known |= new
            entry = CorpusEntry(index, len(new), ex.schedule().encode())
            self.corpus.append(entry)
            self.made.append(entry)


def pair_texts(ex: Execution) -> set[str]:
    """The reads-from pairs @ex made, as text (coverage measured)."""
    return {pair_text(p) for p in ex.context[COVERAGE_KEY]}


def corpus_before(program: Callable[[Harness], None], strategy: Guided,
                  stop: int, *, max_steps: int) -> list[CorpusEntry]:
    """The corpus executions ``0 .. @stop - 1`` of @strategy make, each run
    as a campaign runs it (default checkers, coverage measured)."""
    feedback = Feedback(strategy, 0)
    measured = (*default_checkers(), ReadsFromCoverage)
    for i in range(stop):
        feedback.before(i)
        strategy.new_execution(i)
        ex = run_execution(program, strategy, i, max_steps=max_steps,
                           checkers=measured, record=0)
        feedback.after(i, pair_texts(ex), ex)
    return feedback.corpus
