# -*- test-case-name: tests.test_threadpool -*-
"""println, from the guide's "Knowing When We're Not Wanted" example.

``d.addErrback(println, "error")`` calls ``println(failure, "error")``: the
line printed ends with ``error``.  Output is flushed at once, so a learner
watching a server's terminal sees it when it happens.

Start reading at ``println``.
"""

import sys


def println(*parts):
    """Print the parts separated by spaces, then a newline; flush.

    The line goes out in one write: ``print(*parts)`` writes each part and
    each space apart, and a log line written by another thread meanwhile
    (the server logs from several) would land inside it."""
    sys.stdout.write(" ".join(str(part) for part in parts) + "\n")
    sys.stdout.flush()
