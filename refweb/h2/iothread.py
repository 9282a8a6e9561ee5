# -*- test-case-name: tests.test_h2_channel -*-
"""The thread an HTTP/2 connection has while it has streams under way.

Guide: not in the guide.

Why: while a connection has streams, their writers wait for things only
reading can bring (the client's WINDOW_UPDATEs), and they wait in pool
workers.  If reading needed a pool worker too, a few busy connections
could take every worker with writers waiting for a reader that never gets
one.  So a connection with streams under way has a thread of its own,
``IOThread``, which does all its reading (and, over TLS, all its writing:
one SSL object must not be used by two threads at once; other threads
leave their bytes in the channel and ``wake`` it).  Once no stream is
left, the thread hands the connection back to the selector and ends: an
idle connection still costs no thread.

Where it sits: ``h2.channel.H2Channel.serveInWorker``, run by a pool
worker when the selector saw bytes, starts it; from then on this loop
calls the channel's waiting interface itself (``serveInWorker``,
``waitTimedOut``, ``waitLost``), as the selector would have, until
``H2Channel.idle``.

Start reading at ``IOThread.run``.
"""

import select
import socket
import threading
import time

from refweb.python import log


class IOThread:
    """Reads (and over TLS writes) one connection for its ``H2Channel``."""

    linger = 0.01  # seconds to wait, once no stream is left, before handing back

    def __init__(self, channel):
        self.channel = channel
        self.transport = channel.transport
        self.sock = channel.transport.socket
        self._wakeReader, self._wakeWriter = socket.socketpair()
        self._wakeReader.setblocking(False)
        self._wakeWriter.setblocking(False)
        self.thread = threading.Thread(target=self.run, name="refweb-h2-io", daemon=True)

    def start(self):
        self.thread.start()

    def wake(self):
        """Another thread left bytes to write (or a close): come and see."""
        try:
            self._wakeWriter.send(b"x")
        except OSError:
            pass  # full (a wake-up is pending anyway) or closed (the end)

    def run(self):
        channel = self.channel
        channel._owner = threading.get_ident()  # see H2Channel._mayWrite
        # Timeout mode: a read whose TLS record is incomplete, or a write to
        # a client that does not read, waits at most writeTimeout.
        self.sock.settimeout(channel.writeTimeout)
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        poller.register(self._wakeReader, select.POLLIN)
        try:
            going = channel.serveInWorker()  # the bytes that started it
            while going and not self.transport.disconnected:
                if not channel.streams and not self._soon(poller) and channel.idle():
                    # no stream left, and no bytes came at once: back to the
                    # selector, in the mode its transport expects (transport.py)
                    self.sock.setblocking(not self.transport.queuesOutput)
                    self.transport.selector.waitAgain(channel.protocol)
                    return
                going = self._step(poller)
        except Exception:
            log.err(None, "Unhandled error in the HTTP/2 connection %r:" % (channel,))
            self.transport.loseConnection()
        finally:
            self._wakeReader.close()
            self._wakeWriter.close()

    def _step(self, poller):
        """Wait for bytes, a wake-up or a deadline; act; False once it is over."""
        channel = self.channel
        if not (self.transport.isTLS and self.sock.pending()):  # (bytes inside TLS already?)
            deadline = channel.waitingDeadline()
            timeout = None if deadline is None else max(0, (deadline - time.monotonic()) * 1000)
            ready = [fd for fd, _ in poller.poll(timeout)]
            if not ready:
                return channel.waitTimedOut()
            if self._wakeReader.fileno() in ready:
                self._drainWakeUps()
            if self.sock.fileno() not in ready:
                return channel.serveInWorker()  # write what others left
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            data = b""
        if not data:
            return channel.waitLost()
        channel.dataReceivedWhileWaiting(data)
        return channel.serveInWorker()

    def _soon(self, poller):
        """Whether something comes within ``linger`` seconds: a client that
        asks again at once (the page's next resource) finds its thread here."""
        return (self.transport.isTLS and self.sock.pending()) or \
            bool(poller.poll(self.linger * 1000))

    def _drainWakeUps(self):
        try:
            while self._wakeReader.recv(4096):
                pass
        except OSError:
            pass
