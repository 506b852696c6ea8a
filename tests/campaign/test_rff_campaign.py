"""``rff`` in campaigns: the corpus is stored with the run and is the same,
with the same executions and findings, for any executor order, any number
of workers and a resume; blocks never span an epoch."""

import pytest

from rcu_harness.campaign.coordinator import Interrupt, StopReason
from rcu_harness.campaign.jobs import RunSpec
from rcu_harness.campaign.plan import Budget, resolve
from rcu_harness.campaign.progress import NoProgress
from rcu_harness.campaign.session import resume_run, start_run
from rcu_harness.runner.block import run_block
from rcu_harness.scenarios import program
from rcu_harness.sched.registry import make_strategy
from rcu_harness.store.runstore import RunStore
from tests.campaign.test_coordinator import (
    BundlingExecutor,
    ForgetfulExecutor,
    ReversingExecutor,
    StopAt,
    _content,
    _run,
)

RFF = RunSpec("rcu_transitions", strategy="rff")
MUTANT = RunSpec("rcu_transitions", strategy="rff", keep_going=True, seed=4,
                 mutant="vma-used-after-rcu-unlock")


def _stored(run_dir):
    store = RunStore.open(run_dir)
    try:
        return store.corpus(), store.reads_from()
    finally:
        store.close()


def test_a_run_measures_coverage_and_stores_the_corpus_exploration_makes(tmp_path):
    plan = resolve(RFF)
    assert plan.coverage
    assert plan.guided
    run = _run(tmp_path, RFF, Budget(40))
    corpus, pairs = _stored(run.run_dir)
    block = run_block(program(plan.config()), make_strategy("rff", 0), 0, 40,
                      command=lambda i, s: "", seen=set(), keep_going=True)
    assert corpus == [(e.execution, e.new, e.schedule) for e in block.corpus]
    assert [r[:3] for r in _content(run.run_dir)[0]] == [
        (r.idx, r.seed, r.steps) for r in block.executions]
    assert sum(n for _, n, _ in corpus) == len(pairs)


@pytest.mark.parametrize("executor", [ReversingExecutor, ForgetfulExecutor,
                                      BundlingExecutor])
def test_the_corpus_does_not_depend_on_the_order_executors_finish_in(tmp_path,
                                                                    executor):
    """A forgetful executor makes the coordinator diagnose a finding past
    the first epoch itself, with that execution's corpus."""
    inline = _run(tmp_path, MUTANT, Budget(48), name="a")
    other = _run(tmp_path, MUTANT, Budget(48), executor, name="b")
    assert _stored(inline.run_dir) == _stored(other.run_dir)
    rows, findings = _content(inline.run_dir)
    assert findings
    assert findings[0][3] >= 4
    assert (rows, findings) == _content(other.run_dir)


def test_an_interrupted_run_resumes_to_the_same_corpus(tmp_path):
    interrupt = Interrupt()
    first = start_run(resolve(RFF), Budget(48), out=tmp_path / "r", jobs=1,
                      progress=StopAt(interrupt, 10), interrupt=interrupt)
    assert first.outcome.stopped is StopReason.INTERRUPTED
    assert first.summary.executions < 48
    second = resume_run(first.run_dir, jobs=2, executions=None, seconds=None,
                        progress=NoProgress(), interrupt=Interrupt())
    whole = _run(tmp_path, RFF, Budget(48), name="whole")
    assert _stored(second.run_dir) == _stored(whole.run_dir)
    assert _content(second.run_dir) == _content(whole.run_dir)


def test_a_portfolio_with_rff_keeps_its_corpus_like_rff(tmp_path):
    spec = RunSpec("rcu_transitions", strategy="portfolio",
                   strategy_params={"members": "pct,rff"})
    assert resolve(spec).coverage
    inline = _run(tmp_path, spec, Budget(40), name="a")
    other = _run(tmp_path, spec, Budget(40), ReversingExecutor, name="b")
    corpus, pairs = _stored(inline.run_dir)
    assert corpus
    assert (corpus, pairs) == _stored(other.run_dir)
    assert _content(inline.run_dir) == _content(other.run_dir)
