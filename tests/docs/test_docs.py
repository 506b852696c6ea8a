"""The documentation: short README, links that resolve inside the repository.

The README is what a newcomer reads first and stays short; everything else
lives in docs/, and the README's *Documentation* list links every file
there.  Every relative link in README.md and docs/*.md must name a file of
this repository (never a path outside it) and, with an anchor, a heading
of that file.  CI runs exactly the README's test command.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 250

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def prose(text: str) -> str:
    """@text without fenced code blocks and inline code."""
    return _CODE.sub("", _FENCE.sub("", text))


def links(page: Path) -> list[str]:
    """The targets of the inline links of @page, outside code."""
    return _LINK.findall(prose(page.read_text()))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but ``-`` and
    ``_`` dropped, spaces as hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of @page's headings."""
    return {slug(m.group(1)) for m in
            re.finditer(r"^#{1,6}\s+(.*)$", _FENCE.sub("", page.read_text()), re.M)}


def test_the_readme_stays_short():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines; keep it under {README_MAX_LINES} and move "
        "detail into docs/")


def test_docs_exist_and_the_readme_lists_every_one():
    assert DOCS, "docs/ has no pages"
    listed = {t.split("#")[0] for t in links(README)}
    missing = [p.name for p in DOCS if f"docs/{p.name}" not in listed]
    assert not missing, f"add to the README's Documentation list: {missing}"


def problems(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the relative links of @page."""
    bad = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.is_relative_to(root):
            bad.append(f"{target}: outside the repository")
        elif not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading #{anchor} in {dest.name}")
    return bad


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(page):
    bad = problems(page)
    assert not bad, f"{page.relative_to(ROOT)}: " + "; ".join(bad)


def test_the_link_checker_catches_bad_links(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "outside.md").write_text("# Out\n")
    page = tmp_path / "repo" / "page.md"
    page.write_text("# Title\n\n[a](../outside.md) [b](missing.md) [c](#title) "
                    "[d](#nowhere) [e](https://example.org/x)\n"
                    "`[f](in-code.md)`\n\n```\n[g](in-fence.md)\n```\n")
    assert problems(page, tmp_path / "repo") == [
        "../outside.md: outside the repository", "missing.md: no such file",
        "#nowhere: no heading #nowhere in page.md"]
    assert slug("Reading a use-after-free report") == \
        "reading-a-use-after-free-report"
    assert slug("`--json` and `rcu-harness` (tables)") == \
        "--json-and-rcu-harness-tables"
    assert slug("Campaigns: --jobs 1 (stress/bench_campaign.py)") == \
        "campaigns---jobs-1-stressbench_campaignpy"


def test_ci_runs_the_readmes_test_command():
    quick = README.read_text().split("## Quick start", 1)[1]
    commands = [line for line in quick.split("```")[1].splitlines() if line]
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci, \
        f".ci/run must run the README's test command: {commands[1]}"



SEARCH = ROOT / "docs" / "search.md"
DESIGN = ROOT / "docs" / "design.md"
IN_DESIGN_ONLY = ("random", "pct", "dfs", "mix")
"""Strategies described by their row of docs/design.md's table alone (every
other has a docs/search.md section)."""


def section(page: Path, name: str) -> str:
    """The ``## NAME`` section of @page (its heading starts with @name)."""
    found = re.search(rf"^## {re.escape(name)}\b(?!-).*?(?=^## |\Z)",
                      page.read_text(), re.S | re.M)
    assert found, f"{page.name} has no section ## {name}"
    return found.group(0)


def design_row(name: str) -> str:
    """The row of strategy @name in docs/design.md's table of strategies."""
    found = re.search(rf"^\| `{re.escape(name)}` \|.*$", DESIGN.read_text(), re.M)
    assert found, f"design.md has no row for strategy {name}"
    return found.group(0)


def _strategies() -> list[str]:
    from rcu_harness.sched.registry import STRATEGIES

    return sorted(STRATEGIES)


@pytest.mark.parametrize("name", _strategies())
def test_the_docs_name_every_parameter_of_every_strategy(name):
    from rcu_harness.sched.registry import STRATEGIES

    page = DESIGN if name in IN_DESIGN_ONLY else SEARCH
    text = design_row(name) if name in IN_DESIGN_ONLY else section(SEARCH, name)
    missing = [p for p in STRATEGIES[name].options() if f"`{p}`" not in text]
    assert not missing, f"docs/{page.name}, {name}, does not name {missing}"
