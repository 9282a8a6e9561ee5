# -*- test-case-name: tests.test_reference -*-
"""``python -m refweb.reference``: run the reference behaviours against one or more servers.

    python -m refweb.reference                          # refweb alone
    python -m refweb.reference --impl refweb --impl twisted --twisted-python ~/twisted-venv/bin/python
    python -m refweb.reference --impl command --command 'python3 myserver.py {port} {root} {site}'
    python -m refweb.reference -k static -k framing     # a part
    python -m refweb.reference --markdown > table.md    # or --rst
    python -m refweb.reference --impl refweb --impl twisted --rst-differences

The table has one row per behaviour and one column per implementation, with
totals per chapter.  The exit status is 0 when the first implementation has
no FAIL (a skip is not a failure), 1 otherwise.

Part of refweb.reference: cli -> suite -> adapters -> the servers.
"""

import argparse
import sys
import time

from refweb.reference import adapters, report, suite


def parseArguments(argv):
    parser = argparse.ArgumentParser(prog="python -m refweb.reference",
                                     description="Run the reference behaviours against servers.")
    parser.add_argument("--impl", action="append", default=[], metavar="NAME",
                        help="refweb, twisted or command (repeat for more columns; default refweb)")
    parser.add_argument("--twisted-python", metavar="PATH",
                        help="a Python with Twisted (default: $REFWEB_TWISTED_PYTHON)")
    parser.add_argument("--command", metavar="CMD",
                        help="for --impl command: a shell command with {port}, {root}, {site}")
    parser.add_argument("-k", action="append", default=[], metavar="PATTERN", dest="patterns",
                        help="only behaviours whose name holds PATTERN (or matches a glob)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    form.add_argument("--rst", action="store_true", help="print the table as reStructuredText")
    form.add_argument("--rst-differences", action="store_true",
                      help="print the generated part of docs/internals/differences.rst")
    parser.add_argument("--list", action="store_true", help="list the behaviours and stop")
    parser.add_argument("--workers", type=int, default=3,
                        help="sites started at the same time (default 3)")
    return parser.parse_args(argv)


def main(argv=None):
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    items = suite.select(suite.loadBehaviours(), options.patterns)
    if not items:
        raise SystemExit("no behaviour matches %s" % " ".join(options.patterns))
    if options.list:
        for item in items:
            print("%-50s %-12s %s" % (item.name, item.site, item.source))
        print("%d behaviours" % len(items))
        return 0
    impls = options.impl or ["refweb"]
    if options.rst_differences and len(impls) == 1:
        impls = ["refweb", "twisted"]
    results, started = {}, time.monotonic()
    for name in impls:
        adapter = adapters.makeAdapter(name, options.twisted_python, options.command)
        results[name] = suite.runAll(adapter, items, options.workers)
    if options.rst_differences:
        sys.stdout.write(report.rstDifferences(items, results, impls[0], impls[1]))
    elif options.markdown:
        sys.stdout.write(report.markdownTable(items, results, impls))
    elif options.rst:
        sys.stdout.write(report.rstTable(items, results, impls))
    else:
        sys.stdout.write(report.textTable(items, results, impls))
        sys.stdout.write("\n%d behaviours, %d implementation(s), %.1f s\n"
                         % (len(items), len(impls), time.monotonic() - started))
    failed = any(results[impls[0]][item.name].kind == "fail" for item in items)
    status = 1 if failed else 0
    if argv is None:
        sys.exit(status)
    return status
