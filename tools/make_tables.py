"""Write the tables of refweb/rules.py into the documentation pages.

    python tools/make_tables.py          # rewrite the generated parts of the pages
    python tools/make_tables.py --check  # exit 1, naming the pages, if one is out of date

A page asks for a table with two comment lines; everything between them is
replaced by the table, written from the code as it is now::

    .. BEGIN GENERATED limits
    .. END GENERATED limits

Defaults are read from the classes that own them (``refweb.rules.default``),
and the ``refweb web`` options from ``refweb.tap.LIMIT_OPTIONS``, so a page
says what the code does.  tests/test_docs.py runs ``render`` and fails if a
committed page differs.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # this checkout's refweb, not an installed one

from refweb import grammar, rules, tap  # noqa: E402 (needs the checkout on sys.path)

PAGES = (os.path.join("docs", "internals", "wire.rst"),)

BLOCK = re.compile(r"^(\.\. BEGIN GENERATED (\S+)\n)(.*?)^(\.\. END GENERATED \2\n)",
                   re.M | re.S)


def listTable(header, rows, widths):
    """A reStructuredText list-table: one ``*`` per row, one ``-`` per cell."""
    lines = [".. list-table::", "   :header-rows: 1",
             "   :widths: " + " ".join(str(w) for w in widths), ""]
    for row in [header] + rows:
        first = True
        for cell in row:
            lines.append(("   * - " if first else "     - ") + (cell or " "))
            first = False
    return "\n".join(lines) + "\n"


def shownBytes(data):
    """b'GET /\\r\\n' -> ``GET /\\r\\n`` (a literal, escapes as Python writes them)."""
    return "``%s``" % repr(data)[2:-1]


def number(value):
    """16777216 -> 16777216 (16 MiB); 30.0 -> 30.0."""
    if isinstance(value, int) and value >= 1024 and value % 1024 == 0:
        for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
            if value % size == 0:
                return "%d (%d %s)" % (value, value // size, unit)
    return str(value)


def refusalsTable():
    rows = [[row.problem, shownBytes(row.request), str(row.status), row.clause]
            for row in rules.REFUSALS]
    return listTable(["problem", "example request", "status", "RFC"], rows, (30, 40, 8, 14))


def limitsTable():
    rows = []
    for limit in rules.LIMITS:
        name = limit.name if limit.owner == rules.CHANNEL else \
            limit.owner[len("refweb."):] + "." + limit.name
        where = limit.setIt % limit.name if "%s" in limit.setIt else limit.setIt
        option = rules.webOption(limit)
        if option:
            where += "; ``refweb web %s``" % option
        rows.append(["``%s``" % name, number(rules.default(limit)), limit.bounds,
                     limit.beyond + (" (%s)" % limit.clause if limit.clause else ""), where])
    return listTable(["limit", "default", "what it bounds", "beyond it", "where to set it"],
                     rows, (22, 12, 30, 20, 20))


def keepAliveTable():
    rows = [[row.version, "``%s``" % row.connection if row.connection else "none",
             rules.FRAMINGS[row.framing], "yes" if row.keep else "no",
             "``Connection: %s``" % row.header if row.header else "none", row.clause]
            for row in rules.KEEP_ALIVE]
    return listTable(["request", "its ``Connection``", "response body", "kept open?",
                      "response says", "RFC"], rows, (10, 16, 30, 8, 18, 14))


def optionsTable():
    units = {"bytes": "bytes; ``K``, ``M`` or ``G`` after the number multiplies by 1024, "
                      "1024², 1024³ (``--max-body-size 200M``)",
             "count": "a whole number",
             "seconds": "seconds (``2.5`` is allowed)"}
    rows = [["``--%s``" % option, "``%s``" % attribute, units[unit]]
            for option, (attribute, unit) in tap.LIMIT_OPTIONS.items()]
    return listTable(["``refweb web`` option", "sets", "its value"], rows, (25, 25, 50))


TABLES = {"grammar": grammar.ruleTable, "refusals": refusalsTable, "limits": limitsTable,
          "keep-alive": keepAliveTable, "limit-options": optionsTable}


def render(text):
    """``text`` with every generated block rewritten from the code."""
    def replace(match):
        begin, name, _, end = match.groups()
        return begin + "\n" + TABLES[name]() + "\n" + end
    return BLOCK.sub(replace, text)


def main(argv):
    stale = []
    for page in PAGES:
        path = os.path.join(ROOT, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = render(text)
        if new != text:
            stale.append(page)
            if "--check" not in argv:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
    if "--check" in argv and stale:
        print("out of date (run python tools/make_tables.py): " + ", ".join(stale))
        return 1
    for page in stale:
        print("rewrote " + page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
