# -*- test-case-name: tests.test_threadpool -*-
"""println, from the guide's "Knowing When We're Not Wanted" example.

``d.addErrback(println, "error")`` calls ``println(failure, "error")``: the
line printed ends with ``error``.  Output is flushed at once, so a learner
watching a server's terminal sees it when it happens.

Start reading at ``println``.
"""

import sys


def println(*parts):
    """Print the parts separated by spaces, then a newline; flush."""
    print(*parts, file=sys.stdout, flush=True)
