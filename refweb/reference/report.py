# -*- test-case-name: tests.test_reference -*-
"""Tables of reference results: plain text, Markdown, reStructuredText, and the
generated part of docs/internals/differences.rst.

The plain report (``textTable``) is written for a learner: it fits
``WIDTH`` columns; under each failure it gives the reason in full, the rule
(the behaviour's docstring), its clause, its rung of the ladder
(refweb/reference/ladder.py) and what to try next, and with ``verbose`` the
bytes sent and received; skipped rows are folded into one line per chapter,
and so are (with ``--http2``) the rows of behaviours that are HTTP/1.1 only.

``results`` is ``{implementation name: {behaviour name: Outcome}}``; the rows
follow the registry's order, grouped by the guide's chapters, each chapter
followed by its totals.

Part of refweb.reference: cli -> suite (results) -> report (tables).
"""

import textwrap

from refweb.reference import ladder
from refweb.reference.suite import CHAPTERS


def totals(outcomes):
    """'N pass, N FAIL, N skip, N HTTP/1.1 only' (parts that are zero left out; '-' for none)."""
    counts = {}
    for outcome in outcomes:
        counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
    parts = ["%d %s" % (counts[kind], label) for kind, label in
             (("pass", "pass"), ("fail", "FAIL"), ("skip", "skip"),
                                  ("http11", "HTTP/1.1 only")) if counts.get(kind)]
    return ", ".join(parts) or "-"


def byChapter(items):
    groups = []
    for key, title in CHAPTERS:
        members = [item for item in items if item.chapter == key]
        if members:
            groups.append((key, title, members))
    return groups


def rows(items, results, impls):
    """Yield ('chapter', title) / ('test', name, cells) / ('totals', cells) rows."""
    for key, title, members in byChapter(items):
        yield ("chapter", "%s (%s)" % (title, key))
        for item in members:
            yield ("test", item.name, [results[impl][item.name].cell() for impl in impls])
        yield ("totals", [totals(results[impl][item.name] for item in members) for impl in impls])
    yield ("chapter", "All chapters")
    yield ("totals", [totals(results[impl][item.name] for item in items) for impl in impls])


#: The plain report fits a terminal of this many columns.
WIDTH = 100

#: How many lines of one run of bytes ``-v`` shows.
BYTE_LINES = 12


def wrapped(label, text, indent, labelWidth, width=WIDTH):
    """``label`` then ``text`` wrapped to ``width``, continuation lines under the text."""
    first = " " * indent + label.ljust(labelWidth)
    return textwrap.wrap(text, width, initial_indent=first,
                         subsequent_indent=" " * (indent + labelWidth),
                         break_long_words=True, break_on_hyphens=False) or [first.rstrip()]


def ladderLine(item):
    """'rung 4, Ranges (the server after it: docs/examples/ladder/stage4_ranges.py)', or None."""
    found = ladder.rungOf(item.name)
    if found is None:
        return None
    return "%s (the server after it: docs/examples/%s)" % (found.label, found.stage)


def byteLines(exchanges, indent, width=WIDTH):
    """The bytes of a failed behaviour, one connection after another, escaped like repr()."""
    lines = []
    for number, runs in enumerate(exchanges, 1):
        lines.append(" " * indent + "connection %d:" % number)
        for direction, data, length in runs:
            if direction == "--":
                lines.append(" " * (indent + 2) + "-- the server closed the connection")
                continue
            pieces = data.splitlines(keepends=True)
            for piece in pieces[:BYTE_LINES]:
                text = "%s%s %s" % (" " * (indent + 2), direction, repr(piece)[2:-1])
                lines.append(text if len(text) <= width else text[:width - 3] + "...")
            hidden = length - sum(map(len, pieces[:BYTE_LINES]))
            if hidden > 0:
                lines.append("%s%s ... %d more bytes" % (" " * (indent + 2), direction, hidden))
    return lines


def adviceFor(item, given):
    """What to try next after ``item`` failed; a rung's advice in full only the first time.

    ``given`` maps a rung number to the behaviour under which its advice was printed.
    """
    if item.name in ladder.HINTS:
        return ladder.hintFor(item.name)
    found = ladder.rungOf(item.name)
    if found is None:
        return ("Run it alone with the bytes shown (-k %s -v) and compare what came back "
                "with the rule; the clause says where the rule is written." % item.name)
    if found.number in given:
        return "rung %d's advice, under %s above." % (found.number, given[found.number])
    given[found.number] = item.name
    return found.hint


def failureLines(item, outcomes, verbose, given, width=WIDTH):
    """Under a failed row: each failing implementation's reason, then the rule and advice."""
    failing = [(impl, outcome) for impl, outcome in outcomes if outcome.kind == "fail"]
    labelWidth = max([len("clause")] + [len(impl) for impl, _ in failing]) + 2
    lines = []
    for impl, outcome in failing:
        lines += wrapped(impl, outcome.reason, 4, labelWidth, width)
        if verbose and outcome.exchanges:
            lines += byteLines(outcome.exchanges, 4 + labelWidth, width)
    lines += wrapped("rule", item.doc, 4, labelWidth, width)
    lines += wrapped("clause", item.source, 4, labelWidth, width)
    step = ladderLine(item)
    lines += wrapped("ladder", step or "not on the ladder (site %r needs Python resources)"
                     % item.site, 4, labelWidth, width)
    lines += wrapped("next", adviceFor(item, given), 4, labelWidth, width)
    return lines


def skipLines(members, results, impls, width=WIDTH):
    """One line per implementation and reason: how many behaviours of a chapter were skipped;
    then one line for the chapter's behaviours that are HTTP/1.1 only (with ``--http2``)."""
    lines = http11Lines(members, results[impls[0]], width)
    for impl in impls:
        byReason = {}
        for item in members:
            outcome = results[impl][item.name]
            if outcome.kind == "skip":
                byReason.setdefault(outcome.reason, []).append(item)
        for reason, skipped in byReason.items():
            sites = sorted({item.site for item in skipped})
            text = "%d skipped (%s); sites %s" % (len(skipped), reason, ", ".join(sites))
            lines += wrapped("%s: " % impl, text, 2, len(impl) + 2, width)
    return lines


def http11Lines(members, outcomes, width=WIDTH):
    """'HTTP/1.1 only: N not run over HTTP/2 (reason: n; ...)', or nothing."""
    byReason = {}
    for item in members:
        if outcomes[item.name].kind == "http11":
            byReason[outcomes[item.name].reason] = byReason.get(outcomes[item.name].reason, 0) + 1
    if not byReason:
        return []
    text = "%d not run over HTTP/2 (%s)" % (sum(byReason.values()), "; ".join(
        "%s: %d" % pair for pair in byReason.items()))
    return wrapped("HTTP/1.1 only: ", text, 2, len("HTTP/1.1 only: "), width)


def totalsLine(label, cells, impls, nameWidth, width=WIDTH):
    if len(impls) == 1:
        text = cells[0]
    else:
        text = "; ".join("%s: %s" % pair for pair in zip(impls, cells))
    return wrapped(label, text, 0, nameWidth, width)


def textTable(items, results, impls, failuresOnly=False, verbose=False, width=WIDTH):
    """The plain report: a row per behaviour, the rule and advice under each failure,
    skipped rows folded into one line per chapter, totals per chapter, then the ladder.

    ``failuresOnly`` leaves out passes and skips; ``verbose`` adds the bytes of each failure.
    """
    nameWidth = max(len(item.name) for item in items) + 2
    cellWidth = max([4] + [len(impl) for impl in impls])
    lines = ["%-*s" % (nameWidth, "behaviour") + " | ".join(impl.ljust(cellWidth)
                                                            for impl in impls)]
    lines.append("-" * min(width, len(lines[0])))
    given = {}  # rung number -> the behaviour under which its advice was printed
    for key, title, members in byChapter(items):
        shown = [line for item in members for line in
                 rowLines(item, results, impls, (failuresOnly, verbose, width), given,
                          (nameWidth, cellWidth))]
        if failuresOnly and not shown:
            continue
        lines += ["", "== %s (%s)" % (title, key)] + shown
        if not failuresOnly:
            lines += skipLines(members, results, impls, width)
        lines += totalsLine("  totals", [totals(results[impl][i.name] for i in members)
                                         for impl in impls], impls, nameWidth, width)
    lines += ["", "== All chapters"]
    lines += totalsLine("  totals", [totals(results[impl][i.name] for i in items)
                                     for impl in impls], impls, nameWidth, width)
    for impl in impls:
        lines += ladderSummary(items, results[impl], impl, width)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def rowLines(item, results, impls, form, given, widths):
    """One behaviour's row and, if it failed somewhere, what stands under it; none if folded.

    ``form`` is (failuresOnly, verbose, width); ``widths`` (name column, cell column).
    """
    (failuresOnly, verbose, width), (nameWidth, cellWidth) = form, widths
    outcomes = [(impl, results[impl][item.name]) for impl in impls]
    kinds = {outcome.kind for _, outcome in outcomes}
    if kinds <= {"skip", "http11"} or (failuresOnly and "fail" not in kinds):
        return []
    cells = ["FAIL" if outcome.kind == "fail" else outcome.kind for _, outcome in outcomes]
    lines = ["%-*s" % (nameWidth, item.name) + " | ".join(c.ljust(cellWidth) for c in cells)]
    if "fail" in kinds:
        lines += failureLines(item, outcomes, verbose, given, width)
    return lines


def ladderSummary(items, outcomes, impl, width=WIDTH):
    """Each rung's totals for one implementation, the first rung not yet climbed marked."""
    selected = {item.name for item in items}
    rows, marked, advice = [], False, []
    for rung in ladder.RUNGS:
        names = [name for name in rung.names if name in selected]
        ran = [outcomes[name] for name in names
               if outcomes[name].kind not in ("skip", "http11")]
        if not ran:
            continue
        mark = ""
        if not marked and any(outcome.kind == "fail" for outcome in ran):
            mark, marked = "  <- next", True
            advice = wrapped("", "Next: rung %d. --rung %d runs its behaviours alone; "
                             "docs/examples/%s is a server that has climbed it."
                             % (rung.number, rung.number, rung.stage), 2, 0, width)
        rows.append("  rung %d  %-50s %s%s" % (rung.number, rung.title,
                                                totals(outcomes[name] for name in names), mark))
    if not rows:
        return []
    heading = "== The ladder for %s (docs/guide/write-your-own-server.rst)" % impl
    return ["", heading] + [row if len(row) <= width else row[:width] for row in rows] + advice


def listLines(items, verbose=False, width=WIDTH):
    """``--list``: name, site, ladder rung and clause of each behaviour (and its rule with -v)."""
    nameWidth = max(len(item.name) for item in items) + 2
    siteWidth = max(len(item.site) for item in items) + 2
    head = "%-*s%-*s%-6s" % (nameWidth, "behaviour", siteWidth, "site", "rung")
    lines = [head + "clause"]
    for item in items:
        found = ladder.rungOf(item.name)
        label = "%-*s%-*s%-6s" % (nameWidth, item.name, siteWidth, item.site,
                                  found.number if found else "-")
        lines += wrapped(label, item.source, 0, len(label), width)
        if verbose:
            lines += wrapped("", item.doc, 4, 0, width)
    lines.append("%d behaviours" % len(items))
    return [line.rstrip() for line in lines]


def markdownTable(items, results, impls):
    escape = lambda text: text.replace("|", "\\|")
    lines = ["| behaviour | %s |" % " | ".join(impls), "|---|%s" % ("---|" * len(impls))]
    for row in rows(items, results, impls):
        if row[0] == "chapter":
            lines.append("| **%s** |%s" % (row[1], " |" * len(impls)))
        elif row[0] == "test":
            lines.append("| %s | %s |" % (row[1], " | ".join(escape(c) for c in row[2])))
        else:
            lines.append("| *totals* | %s |" % " | ".join(row[1]))
    return "\n".join(lines) + "\n"


def rstCell(text):
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`").replace("|", "\\|")


def rstListTable(header, body, widths=None):
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append("   :widths: " + " ".join(map(str, widths)))
    lines.append("")
    for row in [header] + body:
        for index, cell in enumerate(row):
            lines.append(("   * - " if index == 0 else "     - ") + (rstCell(cell) or "\\ "))
    return "\n".join(lines) + "\n"


def rstTable(items, results, impls):
    body = []
    for row in rows(items, results, impls):
        if row[0] == "chapter":
            body.append([row[1]] + [""] * len(impls))
        elif row[0] == "test":
            body.append([row[1]] + row[2])
        else:
            body.append(["totals"] + row[1])
    return rstListTable(["behaviour"] + list(impls), body)


def differences(items, results, first, second):
    """The behaviours where ``first`` and ``second`` do not give the same outcome."""
    found = []
    for item in items:
        a, b = results[first][item.name], results[second][item.name]
        if (a.kind, a.reason) != (b.kind, b.reason):
            found.append(item)
    return found


def answer(outcome):
    return "as the rule says" if outcome.kind == "pass" else outcome.cell()


def rstDifferences(items, results, first="refweb", second="twisted", over=""):
    """The generated part of docs/internals/differences.rst: totals, then each difference.

    ``over`` ("HTTP/2", for a ``--http2`` run) goes into every heading, so
    that the page's two generated parts have headings of their own.
    """
    suffix = " over %s" % over if over else ""
    heading = "Totals per chapter" + suffix
    out = [heading, "~" * len(heading), ""]
    body = [[title, totals(results[first][i.name] for i in members),
             totals(results[second][i.name] for i in members)]
            for _, title, members in byChapter(items)]
    body.append(["All chapters", totals(results[first][i.name] for i in items),
                 totals(results[second][i.name] for i in items)])
    out.append(rstListTable(["chapter", first, second], body, [40, 30, 30]))
    found = differences(items, results, first, second)
    out += ["Where they differ%s (%d behaviours)" % (suffix, len(found)), "~" * 60, ""]
    for key, title, members in byChapter(found):
        title += " (%s)" % over if over else ""
        out += [title, "^" * len(title), ""]
        body = [[item.name, item.doc, item.source, answer(results[first][item.name]),
                 answer(results[second][item.name])] for item in members]
        out.append(rstListTable(["behaviour", "expected", "rule", first, second], body,
                                [18, 30, 14, 19, 19]))
    return "\n".join(out)
