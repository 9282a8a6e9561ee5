"""Run the tutorial notebooks (tutorial/NN-*.ipynb) and write their outputs into them.

    python tools/run_notebooks.py             run every notebook, write its outputs
    python tools/run_notebooks.py 05 07       only the notebooks whose names hold 05, 07
    python tools/run_notebooks.py --check     run them, write nothing, show differences

The ``.ipynb`` files are the source: a teacher edits one in Jupyter, saves,
and runs this command, which is the whole editing workflow (tutorial/README).
Each notebook runs as a fresh kernel would run it, in a new Python process
of its own, with only the standard library: ``runChild`` runs the code cells
in order and records what each printed and the value of its last
expression.  ``normalised`` replaces what changes from run to run (ports,
dates, temporary folders, ids, timings) with placeholders, so a second run
writes the same outputs.  ``dumps`` writes the exact layout Jupyter's
nbformat writer uses, so a save from Jupyter and a run of this command give
the same bytes; ``problems`` says what makes a notebook invalid nbformat 4.5.
tests/test_tutorial.py uses the same functions to check that the committed
outputs are current.
"""

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
TUTORIAL = os.path.join(CHECKOUT, "tutorial")

CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's rule for cell ids


def notebookPaths():
    """Every tutorial notebook, 00-Index first."""
    names = sorted(name for name in os.listdir(TUTORIAL)
                   if re.match(r"^\d\d-.*\.ipynb$", name))
    return [os.path.join(TUTORIAL, name) for name in names]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def joined(value):
    """A multi-line string field, stored either as one string or a list of lines."""
    return value if isinstance(value, str) else "".join(value)


def splitLines(text):
    """Jupyter's on-disk form of a multi-line string: a list of lines, ends kept."""
    return text.splitlines(keepends=True)


SPLIT_TYPES = {"application/javascript", "image/svg+xml"}  # split like text/*, as nbformat does


def _splitStrings(notebook):
    """Put every multi-line field in list-of-lines form, as nbformat writes it."""
    for cell in notebook["cells"]:
        cell["source"] = splitLines(joined(cell["source"]))
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = splitLines(joined(output["text"]))
            for kind, value in output.get("data", {}).items():
                if (kind.startswith("text/") or kind in SPLIT_TYPES) and not isinstance(value, dict):
                    output["data"][kind] = splitLines(joined(value))
    return notebook


def dumps(notebook):
    """The bytes (as text) Jupyter writes for ``notebook``."""
    text = json.dumps(_splitStrings(notebook), indent=1, sort_keys=True,
                      ensure_ascii=False, separators=(",", ": "))
    return text + "\n"


def save(path, notebook):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(dumps(notebook))


OUTPUT_KEYS = {
    "stream": {"output_type", "name", "text"},
    "execute_result": {"output_type", "execution_count", "data", "metadata"},
    "display_data": {"output_type", "data", "metadata"},
    "error": {"output_type", "ename", "evalue", "traceback"},
}


def problems(notebook):
    """What makes ``notebook`` invalid nbformat 4.5 (the parts we use); [] if nothing."""
    found = []
    if set(notebook) != {"cells", "metadata", "nbformat", "nbformat_minor"}:
        found.append("top-level keys %s" % sorted(notebook))
    if notebook.get("nbformat") != 4 or notebook.get("nbformat_minor", 0) < 5:
        found.append("not nbformat 4.5 or later")
    if not isinstance(notebook.get("metadata"), dict):
        found.append("metadata is not an object")
    seen = set()
    for number, cell in enumerate(notebook.get("cells", []), 1):
        where = "cell %d" % number
        kind = cell.get("cell_type")
        wanted = {"cell_type", "id", "metadata", "source"}
        if kind == "code":
            wanted |= {"execution_count", "outputs"}
        elif kind in ("markdown", "raw"):
            wanted |= set(cell) & {"attachments"}
        else:
            found.append("%s: cell_type %r" % (where, kind))
            continue
        if set(cell) != wanted:
            found.append("%s: keys %s, want %s" % (where, sorted(cell), sorted(wanted)))
        cellId = cell.get("id", "")
        if not (isinstance(cellId, str) and CELL_ID.match(cellId)) or cellId in seen:
            found.append("%s: id %r is missing, malformed or repeated" % (where, cellId))
        seen.add(cellId)
        if kind == "code":
            count = cell.get("execution_count")
            if count is not None and not isinstance(count, int):
                found.append("%s: execution_count %r" % (where, count))
            for output in cell.get("outputs", []):
                keys = OUTPUT_KEYS.get(output.get("output_type"))
                if keys is None or set(output) != keys:
                    found.append("%s: output %s" % (where, sorted(output)))
                elif output["output_type"] == "stream" and output["name"] not in ("stdout", "stderr"):
                    found.append("%s: stream %r" % (where, output["name"]))
    return found


# ---------------------------------------------------------------------------
# normalising outputs: what changes from run to run becomes a placeholder
# ---------------------------------------------------------------------------

MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"

# (pattern, replacement), applied in order to every output text.  tutorial/README
# and 00-Index explain each placeholder; tests/test_tutorial.py checks each rule.
RULES = [
    # an HTTP-date (RFC 9110 §5.6.7): Date, Last-Modified, Expires, cookies
    (r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d[ -](?:%s)[ -]\d{4} \d\d:\d\d:\d\d GMT" % MONTHS,
     "DATE"),
    # a Common Log Format time: [02/Dec/2026:10:26:05 +0000]
    (r"\b\d\d/(?:%s)/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}" % MONTHS, "DATE"),
    # an ISO 8601 time or date: log lines, directory listings
    (r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b", "DATE"),
    # an entity tag built from size and modification time
    (r'"[0-9a-f]+-[0-9a-f]{8,}"', '"ETAG"'),
    # session ids and other long random hex tokens
    (r"\b[0-9a-f]{32,}\b", "SESSION"),
    # process ids
    (r"(?i)\b(pid\s*[=:]?\s*)\d+\b", r"\1PID"),
    # numbered threads: refweb-worker-3, refweb-pool-1, wsgi-2, Thread-7, ThreadPoolExecutor-0_1
    (r"\b((?:refweb-[a-z]+|wsgi|worker|Thread|ThreadPoolExecutor-\d+)[-_])\d+\b", r"\1N"),
    # object addresses in a repr: <... at 0x7f3a2b1c>
    (r"\bat 0x[0-9a-f]+\b", "at 0xADDR"),
    # measured durations printed with their noise: 0.0123 s, 12.34 ms
    (r"\b\d+\.\d{2,} ?(s|ms|seconds)\b", r"TIME \1"),
]


def _numbered(text, pattern, name):
    """Replace each distinct match of ``pattern`` by NAME (one) or NAME1, NAME2, ...

    Numbers go by first appearance, so they are the same on every run.
    """
    seen = []
    for match in re.finditer(pattern, text):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    if len(seen) == 1:
        return re.sub(pattern, name, text)
    names = {value: "%s%d" % (name, number) for number, value in enumerate(seen, 1)}
    return re.sub(pattern, lambda match: names[match.group(0)], text)


def normaliseText(text, ports=(), tmp=None, checkout=CHECKOUT):
    """``text`` with ports, dates, temporary paths, ids and timings as placeholders.

    ``ports`` are the TCP ports the notebook's process bound: they become
    PORT (or PORT1, PORT2, ...); folders under the temporary directory become
    TMP (or TMP1, ...); the checkout's own path becomes CHECKOUT.
    """
    tmp = tmp or tempfile.gettempdir()
    text = text.replace(checkout, "CHECKOUT")
    text = _numbered(text, re.escape(tmp.rstrip("/")) + r"/[\w.-]+", "TMP")
    for pattern, replacement in RULES:
        text = re.sub(pattern, replacement, text)
    ports = sorted({str(port) for port in ports if port}, key=len, reverse=True)
    if ports:
        text = _numbered(text, r"(?<![\w.])(?:%s)(?!\d)" % "|".join(ports), "PORT")
    return text


def normalised(cells, ports=()):
    """Every output text of a run's ``cells``, normalised; numbering spans the notebook.

    The texts are normalised as one text, so a port or folder has the same
    placeholder (PORT2, TMP1) wherever the notebook shows it; a separator no
    output contains keeps them apart.
    """
    separator = "\x00\x01"
    fields = [(output, key, text) for outputs in cells for output in outputs
              for key, text in list(_texts(output))]
    whole = normaliseText(separator.join(text for _, _, text in fields), ports)
    for (output, key, _), text in zip(fields, whole.split(separator)):
        _setText(output, key, text)
    return cells


def _texts(output):
    """(key, text) for each text field of one output, in a fixed order."""
    if output["output_type"] == "stream":
        yield "text", joined(output["text"])
    elif output["output_type"] == "error":
        yield "evalue", output["evalue"]
        for number, line in enumerate(output["traceback"]):
            yield ("traceback", number), line
    else:
        for kind in sorted(output.get("data", {})):
            if kind.startswith("text/"):
                yield ("data", kind), joined(output["data"][kind])


def _setText(output, key, value):
    if isinstance(key, str):
        output[key] = value
    elif key[0] == "traceback":
        output["traceback"][key[1]] = value
    else:
        output["data"][key[1]] = value


# ---------------------------------------------------------------------------
# running a notebook: a fresh process, its code cells in order, like a kernel
# ---------------------------------------------------------------------------

class _CellStream(io.TextIOBase):
    """sys.stdout or sys.stderr in the child: text goes to the running cell's outputs."""

    encoding = "utf-8"

    def __init__(self, name, sink, lock):
        super().__init__()
        self.name, self._sink, self._lock = name, sink, lock

    def writable(self):
        return True

    def write(self, text):
        with self._lock:
            outputs = self._sink[-1]
            if outputs and outputs[-1].get("name") == self.name:
                outputs[-1]["text"] += text  # a kernel merges a stream's neighbours too
            elif text:
                outputs.append({"output_type": "stream", "name": self.name, "text": text})
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def _splitLastExpression(source, filename):
    """(statements, last expression or None), as a kernel shows a cell's last value."""
    import ast
    tree = ast.parse(source, filename)
    quiet = source.rstrip().endswith(";")  # IPython: a trailing ";" hides the value
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not quiet:
        last = ast.Expression(tree.body.pop().value)
        return compile(tree, filename, "exec"), compile(last, filename, "eval")
    return compile(tree, filename, "exec"), None


def _recordBoundPorts():
    """Note every TCP port a socket of this process binds (free ports, listeners)."""
    import socket
    ports, bind = [], socket.socket.bind

    def recordingBind(sock, address):
        bind(sock, address)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            ports.append(sock.getsockname()[1])

    socket.socket.bind = recordingBind
    return ports


def runChild(path, resultPath):
    """In the child process: run ``path``'s code cells; write their outputs as JSON."""
    import threading
    import traceback
    import types
    notebook = load(path)
    sys.path[0] = ""  # like a kernel: modules beside the notebook import, tools/ does not
    main = types.ModuleType("__main__")  # the notebook's own namespace, as in a kernel
    sys.modules["__main__"] = main
    sink, lock = [[]], threading.Lock()
    realOut, realErr = sys.stdout, sys.stderr
    sys.stdout = _CellStream("stdout", sink, lock)
    sys.stderr = _CellStream("stderr", sink, lock)
    namespace = main.__dict__
    ports = _recordBoundPorts()
    cells, failed = [], None
    for number, cell in enumerate((c for c in notebook["cells"] if c["cell_type"] == "code"), 1):
        outputs = []
        with lock:
            sink.append(outputs)
        filename = "<code cell %d>" % number
        try:
            statements, last = _splitLastExpression(joined(cell["source"]), filename)
            exec(statements, namespace)
            if last is not None:
                value = eval(last, namespace)
                if value is not None:
                    namespace["_"] = value
                    outputs.append({"output_type": "execute_result", "execution_count": number,
                                    "data": {"text/plain": repr(value)}, "metadata": {}})
        except BaseException as e:  # a kernel reports the error and stops the run
            lines = traceback.format_exception(type(e), e, e.__traceback__.tb_next)
            outputs.append({"output_type": "error", "ename": type(e).__name__,
                            "evalue": str(e), "traceback": [line.rstrip("\n") for line in lines]})
            failed = number
        cells.append(outputs)
        if failed:
            break
    time.sleep(0.05)  # a log line a server thread is still writing lands in the last cell
    with lock:
        sys.stdout, sys.stderr = realOut, realErr
    with open(resultPath, "w", encoding="utf-8") as f:
        json.dump({"cells": cells, "failed": failed, "ports": ports}, f)
    os._exit(0)  # daemon server threads may still be running; the notebook is done


def runNotebook(path, timeout=120):
    """Run one notebook in a fresh process started in its folder: its cells' outputs.

    Returns ``(outputs, failed, log)``: one list of normalised outputs per
    code cell that ran; the number of the code cell that raised, or None, or
    -1 when the process gave no result at all (it crashed or took longer
    than ``timeout`` seconds); and what the process printed outside the
    cells (empty when all went well).
    """
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)  # a notebook must find refweb through nbhelpers
    with tempfile.TemporaryDirectory(prefix="refweb-run-") as scratch:
        resultPath = os.path.join(scratch, "result.json")
        try:
            done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", path,
                                   resultPath], cwd=os.path.dirname(os.path.abspath(path)),
                                  env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            said = e.output.decode("utf-8", "replace") if isinstance(e.output, bytes) else e.output
            return [], -1, "no result after %d s\n%s" % (timeout, said or "")
        if not os.path.exists(resultPath):
            return [], -1, "no result; exit status %d\n%s" % (done.returncode, done.stdout)
        with open(resultPath, encoding="utf-8") as f:
            result = json.load(f)
    outputs = normalised(result["cells"], result["ports"])
    return outputs, result["failed"], done.stdout


def withOutputs(notebook, outputs):
    """``notebook`` with each code cell's outputs and execution count from a run."""
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    for number, cell in enumerate(code, 1):
        ran = number <= len(outputs)
        cell["outputs"] = outputs[number - 1] if ran else []
        cell["execution_count"] = number if ran else None
    return notebook


def transcript(notebook):
    """A notebook's code cells and their outputs as plain text, for a readable diff."""
    lines = []
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    for number, cell in enumerate(code, 1):
        lines.append("--- code cell %d [%s]: %s" % (number, cell.get("execution_count"),
                                                  joined(cell["source"]).split("\n")[0][:60]))
        for output in cell["outputs"]:
            for key, text in _texts(output):
                label = output.get("name") or output["output_type"]
                lines.extend("%-14s| %s" % (label, line) for line in text.split("\n"))
    return lines


def freshDifference(path):
    """Run ``path`` afresh: (its notebook with new outputs, what differs from the file).

    What differs is "" when the fresh run prints exactly the committed
    outputs; otherwise a unified diff of the two transcripts, after a line
    naming the cell that failed, if one did.  When the run gave no result the
    notebook comes back as it was.
    """
    import difflib
    committed = load(path)
    outputs, failed, log = runNotebook(path)
    if failed == -1:
        return committed, "the notebook's process failed: %s" % log[-4000:]
    fresh = withOutputs(load(path), outputs)
    problem = ""
    if failed:
        problem = "code cell %s failed%s\n" % (failed, (":\n" + log[-4000:]) if log else "")
    diff = "\n".join(difflib.unified_diff(transcript(committed), transcript(fresh),
                                          "committed " + os.path.basename(path),
                                          "fresh run", lineterm=""))
    return fresh, problem + diff


def _errors(notebook):
    return [output for cell in notebook["cells"] for output in cell.get("outputs", [])
            if output["output_type"] == "error"]


def parseArgs(argv):
    """The command line: notebook selectors and --check.  An unknown option,
    or a selector that names no notebook, is an error (exit status 2) before
    anything runs or is written."""
    import argparse
    parser = argparse.ArgumentParser(
        prog="python tools/run_notebooks.py",
        description="Run the tutorial notebooks (tutorial/NN-*.ipynb), each in a fresh "
                    "Python process, and write their outputs into them.")
    parser.add_argument("notebooks", nargs="*", metavar="NAME",
                        help="run only the notebooks whose file names hold NAME "
                             "(05, Serving, ...); none: all of them")
    parser.add_argument("--check", action="store_true",
                        help="run them, write nothing, print the differences from the "
                             "committed outputs; exit 1 if any")
    args = parser.parse_args(argv)
    names = [os.path.basename(path) for path in notebookPaths()]
    for wanted in args.notebooks:
        if not any(wanted in name for name in names):
            parser.error("no notebook's name holds %r (they are: %s)"
                         % (wanted, ", ".join(name[:2] for name in names)))
    args.paths = [os.path.join(TUTORIAL, name) for name in names
                  if not args.notebooks or any(wanted in name for wanted in args.notebooks)]
    return args


def main(argv):
    """Run every notebook (or those named) and write its outputs; --check only compares."""
    import concurrent.futures
    args = parseArgs(argv)
    check, paths = args.check, args.paths
    status = 0
    started = time.monotonic()
    # One process per notebook, as many at once as there are cores: each
    # notebook has its own ports and folders, so they do not meet.
    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 1)) as pool:
        for path, (fresh, difference) in zip(paths, pool.map(freshDifference, paths)):
            name = os.path.relpath(path)
            broken = problems(fresh) + ["a cell raised %s: %s" % (error["ename"], error["evalue"])
                                        for error in _errors(fresh)]
            if difference.startswith("the notebook's process failed"):
                broken.append(difference)
            for problem in broken:
                print("%s: %s" % (name, problem))
            if check and difference:
                print(difference)
            if not check:
                save(path, fresh)
            status = 1 if broken or (check and difference) else status
            verdict = ("failed" if broken else "differs" if difference else "current") if check \
                else ("failed" if broken else "wrote new outputs" if difference else "unchanged")
            print("%-55s %s" % (name, verdict))
    print("%d notebooks in %.1f s" % (len(paths), time.monotonic() - started))
    if check and status:
        print("outputs are not current: run python tools/run_notebooks.py")
    return status


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        runChild(*sys.argv[2:4])
    sys.exit(main(sys.argv[1:]))
