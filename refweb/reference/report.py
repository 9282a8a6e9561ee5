# -*- test-case-name: tests.test_reference -*-
"""Tables of reference results: plain text, Markdown, reStructuredText, and the
generated part of docs/internals/differences.rst.

``results`` is ``{implementation name: {behaviour name: Outcome}}``; the rows
follow the registry's order, grouped by the guide's chapters, each chapter
followed by its totals.

Part of refweb.reference: cli -> suite (results) -> report (tables).
"""

from refweb.reference.suite import CHAPTERS


def totals(outcomes):
    """'N pass, N FAIL, N skip' (parts that are zero left out; '-' for none)."""
    counts = {}
    for outcome in outcomes:
        counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
    parts = ["%d %s" % (counts[kind], label) for kind, label in
             (("pass", "pass"), ("fail", "FAIL"), ("skip", "skip")) if counts.get(kind)]
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


def clip(text, width):
    return text if len(text) <= width else text[:width - 3] + "..."


def textTable(items, results, impls, width=58):
    nameWidth = max(len(item.name) for item in items) + 2
    lines = ["%-*s" % (nameWidth, "behaviour") + " | ".join("%-*s" % (width, i) for i in impls)]
    lines.append("-" * len(lines[0]))
    for row in rows(items, results, impls):
        if row[0] == "chapter":
            lines.append("")
            lines.append("== %s" % row[1])
        elif row[0] == "test":
            lines.append("%-*s" % (nameWidth, row[1])
                         + " | ".join("%-*s" % (width, clip(c, width)) for c in row[2]))
        else:
            lines.append("%-*s" % (nameWidth, "  totals")
                         + " | ".join("%-*s" % (width, c) for c in row[1]))
    return "\n".join(line.rstrip() for line in lines) + "\n"


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


def rstDifferences(items, results, first="refweb", second="twisted"):
    """The generated part of docs/internals/differences.rst: totals, then each difference."""
    out = ["Totals per chapter", "~~~~~~~~~~~~~~~~~~", ""]
    body = [[title, totals(results[first][i.name] for i in members),
             totals(results[second][i.name] for i in members)]
            for _, title, members in byChapter(items)]
    body.append(["All chapters", totals(results[first][i.name] for i in items),
                 totals(results[second][i.name] for i in items)])
    out.append(rstListTable(["chapter", first, second], body, [40, 30, 30]))
    found = differences(items, results, first, second)
    out += ["Where they differ (%d behaviours)" % len(found), "~" * 60, ""]
    for key, title, members in byChapter(found):
        out += [title, "^" * len(title), ""]
        body = [[item.name, item.doc, item.source, answer(results[first][item.name]),
                 answer(results[second][item.name])] for item in members]
        out.append(rstListTable(["behaviour", "expected", "rule", first, second], body,
                                [18, 30, 14, 19, 19]))
    return "\n".join(out)
