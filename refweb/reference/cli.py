# -*- test-case-name: tests.test_reference -*-
"""``python -m refweb.reference``: run the reference behaviours against one or more servers.

    python -m refweb.reference                          # refweb alone
    python -m refweb.reference --impl refweb --impl twisted \
        --twisted-python ~/twisted-venv/bin/python
    python -m refweb.reference --impl command \
        --command 'python3 myserver.py {port} {root} {site}'
    python -m refweb.reference -k static -k framing     # a part
    python -m refweb.reference --rung 2 --failures -v   # one rung of the ladder, failures with bytes
    python -m refweb.reference --markdown > table.md    # or --rst
    python -m refweb.reference --impl refweb --impl twisted --rst-differences
    python -m refweb.reference --http2                  # over HTTP/2 (prior knowledge)
    python -m refweb.reference --impl twisted --http2   # Twisted: HTTP/2 over TLS + ALPN

The report has one row per behaviour and one column per implementation,
with the rule, clause, ladder rung and advice under each failure, skipped
rows folded into one line per chapter, totals per chapter, and each
implementation's progress up the ladder (refweb/reference/ladder.py).
``--http2`` runs the behaviours that are not HTTP/1.1 only
(refweb/reference/protocols.py) over HTTP/2 and folds the others into one
"HTTP/1.1 only" line per chapter.  The
exit status is 0 when the first implementation has no FAIL (a skip is not a
failure), 1 otherwise; 141 if the reader of the output went away (``| head``).

Part of refweb.reference: cli -> suite -> adapters -> the servers; cli -> report.
"""

import argparse
import os
import sys
import time

from refweb.reference import adapters, ladder, report, suite

EPILOG = """\
--command placeholders (for --impl command), filled in for each site the suite starts:
  {port}  the TCP port your server must listen on, on 127.0.0.1
  {root}  a fresh copy of the fixture folder (refweb/reference/fixture/), made for
          that site alone and deleted afterwards: serve files from there
  {site}  which site to serve: hello (the guide's Hello tree), files (the fixture
          folder, as static.File serves it) or echo (resources that answer with
          the request body or a header); also given as $REFWEB_REFERENCE_SITE
Behaviours on any other site need Python resources and are skipped for a command.
The command runs through the shell, in its own process group, stopped when the
site's behaviours are done.  Example, from the checkout's root:
  python -m refweb.reference --impl command \\
      --command 'python3 docs/examples/learner_server.py {port} {root} {site}'

The ladder (docs/guide/write-your-own-server.rst): --rung N selects rung N's
behaviours; docs/examples/ladder/ holds a server after each rung.
"""


def parseArguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m refweb.reference", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the reference behaviours against servers and report what each did.")
    parser.add_argument("--impl", action="append", default=[], metavar="NAME",
                        help="refweb, twisted or command (repeat for more columns; default refweb)")
    parser.add_argument("--twisted-python", metavar="PATH",
                        help="a Python with Twisted (default: $REFWEB_TWISTED_PYTHON)")
    parser.add_argument("--command", metavar="CMD",
                        help="for --impl command: a shell command with {port}, {root} and "
                             "{site} (see below)")
    parser.add_argument("-k", action="append", default=[], metavar="PATTERN", dest="patterns",
                        help="only behaviours whose name holds PATTERN (or matches a glob)")
    parser.add_argument("--rung", action="append", default=[], type=int, metavar="N",
                        help="only the behaviours of rung N of the ladder (0 to %d; with -k, "
                             "either selects)" % ladder.RUNGS[-1].number)
    parser.add_argument("--failures", action="store_true",
                        help="show only failed behaviours (and totals)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="under each failure, the bytes sent and received; with --list, "
                             "each behaviour's rule")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    form.add_argument("--rst", action="store_true", help="print the table as reStructuredText")
    form.add_argument("--rst-differences", action="store_true",
                      help="print the generated part of docs/internals/differences.rst")
    parser.add_argument("--http2", nargs="?", const="auto", choices=("auto", "h2c", "tls"),
                        help="run the protocol-independent behaviours over HTTP/2: h2c (prior "
                             "knowledge, cleartext) or tls (ALPN); auto (the default) is tls "
                             "when twisted is one of the --impl, h2c otherwise")
    parser.add_argument("--list", action="store_true", help="list the behaviours and stop")
    parser.add_argument("--workers", type=int, default=3,
                        help="sites started at the same time (default 3)")
    return parser.parse_args(argv)


def selected(options):
    """The behaviours the -k patterns and --rung numbers pick (all when neither is given)."""
    items = suite.loadBehaviours()
    if not options.patterns and not options.rung:
        return items
    names = set()
    for number in options.rung:
        try:
            names.update(ladder.rung(number).names)
        except ValueError as e:
            raise SystemExit(str(e))
    picked = {item.name for item in suite.select(items, options.patterns)} if options.patterns \
        else set()
    return [item for item in items if item.name in names | picked]


def http2Way(asked, adapter, impls):
    """How ``adapter``'s sites are reached over HTTP/2 (None: over HTTP/1.1).

    ``auto`` is one way for every implementation compared, so that they are
    asked alike: TLS when one of them speaks HTTP/2 only over TLS (Twisted).
    """
    if not asked:
        return None
    way = asked
    if asked == "auto":
        way = "tls" if any(adapters.HTTP2_DEFAULT.get(name) == "tls" for name in impls) \
            else "h2c"
    if way == "tls":
        if not hasattr(adapter, "useTLS"):
            raise SystemExit("--http2 tls: a command's server is reached over h2c only")
        adapter.useTLS()
    return way


def run(options):
    """Print what ``options`` ask for; the exit status."""
    items = selected(options)
    if not items:
        raise SystemExit("no behaviour matches %s" % " ".join(options.patterns))
    if options.list:
        sys.stdout.write("\n".join(report.listLines(items, options.verbose)) + "\n")
        return 0
    impls = options.impl or ["refweb"]
    if options.rst_differences and len(impls) == 1:
        impls = ["refweb", "twisted"]
    results, started = {}, time.monotonic()
    for name in impls:
        adapter = adapters.makeAdapter(name, options.twisted_python, options.command)
        http2 = http2Way(options.http2, adapter, impls)
        results[name] = suite.runAll(adapter, items, options.workers, http2)
    if options.rst_differences:
        sys.stdout.write(report.rstDifferences(items, results, impls[0], impls[1],
                                               "HTTP/2" if options.http2 else ""))
    elif options.markdown:
        sys.stdout.write(report.markdownTable(items, results, impls))
    elif options.rst:
        sys.stdout.write(report.rstTable(items, results, impls))
    else:
        sys.stdout.write(report.textTable(items, results, impls, options.failures,
                                          options.verbose))
        sys.stdout.write("\n%d behaviours, %d implementation(s), %.1f s\n"
                         % (len(items), len(impls), time.monotonic() - started))
    failed = any(results[impls[0]][item.name].kind == "fail" for item in items)
    return 1 if failed else 0


def main(argv=None):
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    try:
        status = run(options)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (| head): say nothing more, and let the interpreter's
        # last flush of stdout go to /dev/null instead of raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 141  # 128 + SIGPIPE, as a shell reports a command a pipe stopped
    if argv is None:
        sys.exit(status)
    return status
