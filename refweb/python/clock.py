# -*- test-case-name: tests.test_log -*-
"""A text that changes once a second, made once a second.

Guide: not in the guide.  Every response carries a Date header and every
access-log line a time stamp; both change once a second, so they are
formatted once a second, not once a request.  ``EverySecond(format)`` keeps
the last second and its text as one tuple, replaced whole, so that threads
never see half of an update.

Start reading at ``EverySecond.__call__``.
"""

import time


class EverySecond:
    """``EverySecond(format)()`` is ``format(now)``, with ``now`` the current
    whole second (time.time()), called at most once for each second."""

    def __init__(self, format):
        self.format = format
        self._last = (None, "")  # (second, its text)

    def __call__(self):
        now = int(time.time())
        second, text = self._last
        if second != now:
            text = self.format(now)
            self._last = (now, text)
        return text
