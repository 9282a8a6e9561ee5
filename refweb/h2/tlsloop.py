# -*- test-case-name: tests.test_h2_channel -*-
"""The thread of its own an HTTP/2 connection over TLS has: the one that
may use its SSL socket.

Guide: not in the guide.

Why: an HTTP/2 connection reads (the client's WINDOW_UPDATEs, new
requests) while its streams write, and one SSL object must not be used by
two threads at once.  Over plain TCP, ``H2Channel`` waits in the selector
and any thread may write (the kernel sorts it out); over TLS, ``TLSLoop``
does every read and every write of the connection, and other threads
leave their bytes in the channel and wake it (``wake``).  It is a thread
of its own, not a pool worker: writers waiting in pool workers must never
be what stops it from running.

Where it sits: ``h2.channel.H2Channel.serveInWorker`` starts it on the
connection's first bytes and hands the connection over; from then on this
loop calls the channel's waiting interface itself (``serveInWorker``,
``waitTimedOut``, ``waitLost``), as the selector would have.

Start reading at ``TLSLoop.run``.
"""

import select
import socket
import threading
import time


class TLSLoop:
    """Reads and writes one TLS connection for its ``H2Channel``."""

    def __init__(self, channel):
        self.channel = channel
        self.transport = channel.transport
        self.sock = channel.transport.socket
        self._wakeReader, self._wakeWriter = socket.socketpair()
        self._wakeReader.setblocking(False)
        self._wakeWriter.setblocking(False)
        self.thread = threading.Thread(target=self.run, name="refweb-h2-tls", daemon=True)
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
                going = self._step(poller)
        except Exception:
            self.transport.loseConnection()
            raise
        finally:
            self._wakeReader.close()
            self._wakeWriter.close()

    def _step(self, poller):
        """Wait for bytes, a wake-up or a deadline; act; False once it is over."""
        channel = self.channel
        if not self.sock.pending():  # decrypted bytes already inside the TLS layer?
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

    def _drainWakeUps(self):
        try:
            while self._wakeReader.recv(4096):
                pass
        except OSError:
            pass
