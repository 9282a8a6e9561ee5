# -*- test-case-name: tests.test_endpoints -*-
"""Lock files for UNIX sockets: knowing when a leftover socket is stale.

Guide: "Spreadable Web Servers" -- "If the server crashes and the UNIX socket
is left on the filesystem, the personal server will not be able to restart
until it is removed. However, if --port unix:/home/username/.twistd-web-pb:
wantPID=1 is supplied ... a lockfile will be used to keep track of whether
the server socket is in use and automatically delete it when it is not."

The lock file sits beside the socket (``PATH.lock``) and holds the pid of
the server listening there.  Before listening, ``claim`` decides:

    lock names a live process, or something answers on the socket  -> refuse
    the path exists but is not a socket (a file someone cares about) -> refuse
    otherwise (no lock, or a dead owner, and nobody answering)      -> remove
                                                     the leftovers, write our pid

Start reading at ``claim``.
"""

import os
import socket
import stat

from refweb.internet.error import CannotListenError


class SocketInUse(CannotListenError):
    """A UNIX socket path is taken by a live server, or by a file that is not a socket."""

    def __init__(self, path, reason):
        CannotListenError.__init__(self, path, "", reason)

    def __str__(self):
        return "%s: %s" % (self.interface, self.reason)


def processAlive(pid):
    """True if ``pid`` names a running process (a zombie counts as gone)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but someone else's
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def lockPath(socketPath):
    """The lock file of a wantPID socket: the socket's path plus '.lock'."""
    return socketPath + ".lock"


def readLock(socketPath):
    """The pid written in a socket's lock file, or None."""
    try:
        with open(lockPath(socketPath)) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def answers(socketPath):
    """True if a server accepts connections on this UNIX socket."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(socketPath)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def checkNotAFile(socketPath):
    """Refuse to listen where a file that is not a socket already lies."""
    if os.path.lexists(socketPath) and not stat.S_ISSOCK(os.lstat(socketPath).st_mode):
        raise SocketInUse(socketPath, "exists and is not a socket; refusing to remove it")


def claim(socketPath):
    """Take the lock beside ``socketPath``, clearing a dead owner's leftovers."""
    checkNotAFile(socketPath)
    owner = readLock(socketPath)
    if owner is not None and processAlive(owner) and \
            (owner != os.getpid() or answers(socketPath)):
        raise SocketInUse(socketPath, "in use by pid %d (see %s)" % (owner, lockPath(socketPath)))
    if os.path.lexists(socketPath) and answers(socketPath):
        raise SocketInUse(socketPath, "a server is answering there (without a lock file); "
                          "not replacing it")
    for stale in (socketPath, lockPath(socketPath)):
        if os.path.lexists(stale):
            os.unlink(stale)
    with open(lockPath(socketPath), "w") as f:
        f.write("%d\n" % os.getpid())


def release(socketPath):
    """Remove the lock file if it names this process."""
    if readLock(socketPath) == os.getpid():
        try:
            os.unlink(lockPath(socketPath))
        except OSError:
            pass
