"""The portfolio (rcu_harness/sched/portfolio.py) takes a member parameter
only when one of its members takes it: any other is refused, never ignored."""

from __future__ import annotations

import pytest

from rcu_harness import explore
from rcu_harness.kernel import schedule
from rcu_harness.sched.portfolio import MEMBERS, TAKEN_BY, PortfolioStrategy
from rcu_harness.sched.registry import STRATEGIES, make_strategy

VALUES = {"depth": 2, "steps": 5, "profile": "1:1", "interesting": "points",
          "sync_steps": 5, "points": "field", "sync_points": "sync",
          "sites": 1, "fallback_steps": 3, "hold": 2, "reads": "oldest",
          "fallback": "pct", "stall_in": "rcu", "aim": "conflict",
          "acts": "vm_refcnt", "conflicts": "sequence", "data": "72:51x8"}
"""A value each member parameter accepts."""
WITH = {"acts": {"aim": "conflict"}, "conflicts": {"aim": "conflict"}}
"""The other parameters a value of VALUES needs (acts and conflicts are
aim=conflict's)."""


def test_every_member_parameter_of_the_portfolio_names_its_members():
    options = STRATEGIES["portfolio"].options()
    assert set(TAKEN_BY) == set(options) - {"members"}
    assert {m for takers in TAKEN_BY.values() for m in takers} <= set(MEMBERS)


@pytest.mark.parametrize("key", sorted(TAKEN_BY))
def test_a_member_parameter_no_member_takes_is_refused(key):
    others = [m for m in MEMBERS if m not in TAKEN_BY[key]]
    members = ",".join(others)
    with pytest.raises(ValueError, match=(
            rf"^portfolio parameter {key} is taken by none of its members "
            rf"{members} \(only by {', '.join(TAKEN_BY[key])}\)$")):
        make_strategy("portfolio", 0, members=members,
                      **WITH.get(key, {}), **{key: VALUES[key]})


@pytest.mark.parametrize("key", sorted(TAKEN_BY))
def test_a_member_parameter_is_taken_with_any_member_that_takes_it(key):
    for member in TAKEN_BY[key]:
        portfolio = make_strategy("portfolio", 0, members=f"random,{member}",
                                  **WITH.get(key, {}), **{key: VALUES[key]})
        assert key in portfolio.takes


def test_made_directly_a_portfolio_refuses_a_value_no_member_takes():
    with pytest.raises(ValueError, match="parameter sites is taken by none"):
        PortfolioStrategy(0, members="pct,random", sites=3)
    # the default value is all it cannot tell from no value
    PortfolioStrategy(0, members="pct,random", sites=0)


def test_a_pct_relay_member_takes_the_portfolios_hold():
    portfolio = make_strategy("portfolio", 0, members="pct-relay", hold=2)
    assert portfolio.members[0].hold == 2
    default = make_strategy("portfolio", 0, members="pct-relay")
    assert default.members[0].hold == 4


def test_explore_refuses_a_portfolio_parameter_no_member_takes():
    def program(h):
        h.spawn("t", schedule)

    with pytest.raises(ValueError, match="portfolio parameter fallback_steps is "
                       "taken by none of its members pct,random"):
        explore(program, strategy="portfolio", executions=1,
                members="pct,random", fallback_steps=3)
