# -*- test-case-name: tests.test_reactor -*-
"""Connection errors, as they reach ``notifyFinish`` errbacks and client factories.

Start reading at ``ConnectionDone``.
"""


class ConnectionDone(Exception):
    """The other side closed the connection cleanly."""

    def __str__(self):
        return self.args[0] if self.args else "Connection was closed cleanly."


class ConnectionLost(Exception):
    """The connection was lost in a non-clean fashion (reset, timeout, error)."""

    def __str__(self):
        return self.args[0] if self.args else "Connection to the other side was lost."


class ConnectionRefusedError(Exception):
    """Nobody was listening at the address we connected to."""


class TimeoutError(Exception):
    """A connection attempt or a read took longer than allowed."""


class CannotListenError(Exception):
    """A port could not be bound (in use, no permission, bad address)."""

    def __init__(self, interface, port, reason):
        super().__init__(interface, port, reason)
        self.interface, self.port, self.reason = interface, port, reason

    def __str__(self):
        if self.port in ("", None):  # a unix socket: its path is the whole address
            return "Couldn't listen on %s: %s." % (self.interface, self.reason)
        return "Couldn't listen on %s:%s: %s." % (self.interface or "any", self.port, self.reason)


class AlreadyCalled(Exception):
    """cancel() on a DelayedCall that already ran."""


class AlreadyCancelled(Exception):
    """cancel() on a DelayedCall that was already cancelled."""
