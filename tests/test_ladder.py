"""The ladder of "Write your own server" (refweb/reference/ladder.py): one numbering, used by
the docs page and the notebooks, and a stage file per rung that climbs exactly that rung.

Each stage runs through the reference suite's command adapter, against the behaviours of
its own rungs and of the next one only, so the whole ladder takes seconds.
"""

import json
import os
import re
import sys

import pytest

from refweb.reference import adapters, ladder, suite

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "guide", "write-your-own-server.rst")
NOTEBOOKS = [os.path.join(ROOT, "tutorial", name) for name in
             ("14-Write-Your-Own-Server.ipynb", "00-Index.ipynb")]

ITEMS = suite.loadBehaviours()
BY_NAME = {item.name: item for item in ITEMS}


def stageAdapter(rung):
    return adapters.CommandAdapter("%s %s {port} {root} {site}"
                                   % (sys.executable, ladder.stagePath(rung, ROOT)))


# -- the table ---------------------------------------------------------------------------

def test_rungs_numbered_from_zero_in_order():
    """Rungs are numbered 0, 1, 2, ... in the table's order, and no two share a title."""
    assert [rung.number for rung in ladder.RUNGS] == list(range(len(ladder.RUNGS)))
    assert len({rung.title for rung in ladder.RUNGS}) == len(ladder.RUNGS)


def test_ladder_climbs_through_framing_keepalive_static_ranges_chunked():
    """The rungs take a server from framing through keep-alive, static files, ranges and
    chunked request bodies, in that order."""
    titles = [rung.title.lower() for rung in ladder.RUNGS]
    steps = ["framing", "keep-alive", "static files", "ranges", "chunked"]
    places = [next(i for i, title in enumerate(titles) if step in title) for step in steps]
    assert places == sorted(places)


def test_every_command_behaviour_is_on_exactly_one_rung():
    """Each behaviour a command's server is asked for is on one rung, and each name a rung
    gives is a behaviour of those sites."""
    onCommandSites = {i.name for i in ITEMS if i.site in adapters.COMMAND_SITES}
    named = [name for rung in ladder.RUNGS for name in rung.names]
    assert len(named) == len(set(named))
    assert set(named) == onCommandSites


def test_every_rung_has_a_stage_file_and_advice():
    """Each rung names its stage file, which exists, and advice written as a sentence."""
    for rung in ladder.RUNGS:
        assert os.path.isfile(ladder.stagePath(rung, ROOT)), rung
        assert rung.hint.endswith(".") and len(rung.hint) > 60, rung


def test_hints_name_behaviours_that_exist():
    """Advice for one behaviour is keyed by a behaviour on the ladder."""
    for name in ladder.HINTS:
        assert ladder.rungOf(name) is not None, name
        assert ladder.hintFor(name).endswith("."), name


def test_rung_lookup():
    """rung(N) finds rung N and refuses a number the ladder does not have."""
    assert ladder.rung(2).title == "Keep-alive and pipelining"
    with pytest.raises(ValueError, match="rungs 0 to"):
        ladder.rung(len(ladder.RUNGS))


# -- the stages ----------------------------------------------------------------------------

def readable(reason):
    """A reason a learner can act on: no crash of the test, no bare exception name."""
    return not (reason.startswith("error in the test") or re.match(r"\w+Error: ", reason))


@pytest.mark.parametrize("number", [rung.number for rung in ladder.RUNGS])
def test_stage_climbs_its_rung_and_not_the_next(number):
    """Stage N passes every behaviour of rungs 0 to N and fails some of rung N+1, each
    failure with a readable reason."""
    rung = ladder.rung(number)
    upTo = ladder.namesUpTo(number + 1)
    results = suite.runAll(stageAdapter(rung), [BY_NAME[name] for name in upTo])
    climbed = {name: results[name].cell() for name in ladder.namesUpTo(number)
               if results[name].kind != "pass"}
    assert not climbed, climbed
    if number == ladder.RUNGS[-1].number:
        return
    nextNames = ladder.rung(number + 1).names
    failed = {name: results[name].reason for name in nextNames if results[name].kind == "fail"}
    assert failed, "stage %d already passes rung %d" % (number, number + 1)
    assert all(readable(reason) for reason in failed.values()), failed
    assert all(results[name].kind != "skip" for name in nextNames)


def test_stages_say_which_stage_they_are():
    """Each stage file's docstring names its stage and prints the command that checks its rung."""
    for rung in ladder.RUNGS[1:]:
        with open(ladder.stagePath(rung, ROOT), encoding="utf-8") as f:
            text = f.read()
        assert text.startswith('"""Stage %d of "Write your own server"' % rung.number)
        assert ("--rung %d" % rung.number) in text and rung.stage in text


# -- one numbering everywhere ------------------------------------------------------------------

def test_docs_page_lists_the_rungs_of_the_table():
    """The docs page's rung headings are the table's numbers and titles, in order, each
    followed by its stage file."""
    with open(PAGE, encoding="utf-8") as f:
        page = f.read()
    headings = re.findall(r"^Rung (\d+): (.+)\n\^+$", page, re.M)
    assert headings == [(str(rung.number), rung.title) for rung in ladder.RUNGS]
    for rung in ladder.RUNGS[1:]:
        section = page.split("Rung %d: " % rung.number, 1)[1].split("\nRung ")[0]
        assert ".. literalinclude:: ../examples/" + rung.stage in section


def test_docs_page_names_each_rungs_own_tests():
    """Every behaviour a rung's section names is a behaviour of that rung, and ``-k`` patterns
    there pick only that rung's behaviours."""
    with open(PAGE, encoding="utf-8") as f:
        page = f.read()
    for rung in ladder.RUNGS:
        section = page.split("Rung %d: " % rung.number, 1)[1].split("\nRung ")[0]
        for name in re.findall(r"``((?:trees|static|framing)\.\w+)``", section):
            assert name in rung.names, (rung.number, name)
        for pattern in re.findall(r"``-k ([\w.]+)``", section):
            picked = {item.name for item in suite.select(ITEMS, [pattern])}
            assert picked and picked <= set(rung.names), (rung.number, pattern)


def markdown(path):
    with open(path, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS + [PAGE], ids=os.path.basename)
def test_rungs_named_with_the_table_numbering(path):
    """Where the page and notebooks 00 and 14 name a rung by number and title, it is the
    table's, and they use no other numbering ("exercise N", "the first rung")."""
    if path.endswith(".ipynb"):
        text = markdown(path)
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    text = " ".join(text.split())
    titles = {str(rung.number): rung.title for rung in ladder.RUNGS}
    for number, title in re.findall(r"\b[Rr]ung (\d+) \(([^)]+)\)", text):
        assert titles[number].lower().startswith(title.lower()), (number, title)
    assert not re.search(r"\b[Ee]xercise \d|first (rung|exercise)", text)
