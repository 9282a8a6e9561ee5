# -*- test-case-name: tests.test_transport -*-
"""The socket transport: a protocol's handle on its socket, shared by threads.

Guide: "Proxies and reverse proxies" -- ``self.transport.write(...)`` in a
protocol; every ``request.write`` ends here too.

A transport reads and writes one connected socket.  Reads happen in one
thread at a time: the selector's while the connection waits, then the
worker's that has it.  Writes may come from any thread (a worker, a WSGI
application's, the reactor's timer thread), so they go through
``_writeLock``.

How a write waits for a slow client depends on who owns the connection:

* a server's HTTP connection over TCP (``queuesOutput``): the socket never
  blocks.  What the kernel does not take at once waits in the transport's
  output queue -- bytes, or a range of a file -- and the selector thread
  sends it as the client reads (``flush``).  So a client that never reads
  costs no thread: the worker that wrote the response is free at once.  A
  writer that goes on writing while ``highWater`` bytes wait (a
  ``NOT_DONE_YET`` stream) is paused until they drain: that is how the
  guide's ``request.write`` tells a producer to slow down.  No progress for
  ``writeTimeout`` seconds, and the connection is cut.
* an HTTP/2 connection over TLS (``shareWithSelector``): the same queue.
  The selector thread keeps reading the socket while workers write to it,
  and one SSL object must not be used by two threads at once, so every SSL
  call is made under ``_writeLock``, the socket never blocks, and a write
  the TLS layer cannot finish ("want write") waits at the head of the queue
  to be retried, the same bytes, by the selector (OpenSSL requires it).
* anything else (HTTP/1.1 over TLS, outgoing connections, protocols with a
  thread of their own): ``sendall`` blocks the writer while the peer is
  slow, bounded by the kernel's SO_SNDTIMEO.

Start reading at ``SocketTransport.write``.
"""

import collections
import functools
import os
import select
import socket
import ssl
import struct
import threading
import time

from refweb.internet import address

RECEIVE_SIZE = 65536

# What a blocking read raises when its kernel timer (SO_RCVTIMEO) runs out.
READ_TIMED_OUT = (BlockingIOError, ssl.SSLWantReadError, socket.timeout)

_WOULD_BLOCK = (BlockingIOError, InterruptedError)
# The TLS layer's "would block": try again later, with the same bytes.
_TLS_WOULD_BLOCK = (ssl.SSLWantWriteError, ssl.SSLWantReadError)


class _FileRange:
    """Part of a file waiting to be sent: its own descriptor (a dup, so the
    caller may close its file), where to start, how many bytes are left."""

    def __init__(self, fileobj, offset, count):
        self.fd = os.dup(fileobj.fileno())
        self.offset, self.count = offset, count

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class SocketTransport:
    """One connected socket; see the module docstring."""

    highWater = 256 * 1024  # queued bytes beyond which a writer waits for the client
    writeTimeout = 60.0  # seconds queued output may wait without any progress

    def __init__(self, sock, isTLS=False):
        self.socket = sock
        self.isTLS = isTLS
        self.connected = True
        self.disconnected = False
        self._writeLock = threading.Lock()  # guards sends, _output, _queued, _closing, disconnected
        # A paused writer waits on it for room: it guards what _writeLock guards.
        self._roomToWrite = threading.Condition(self._writeLock)  # guards as _writeLock
        self._readTimeout = None  # the SO_RCVTIMEO now set, in seconds
        self.fileno = sock.fileno()  # kept: a closed socket's fileno() is -1
        self.selector = None  # the reactor's ConnectionSelector, for a server's connection
        self.whenClosed = None  # called once the socket is closed (the selector counts them)
        self.queuesOutput = False  # set by the selector for a server's HTTP connection
        self._output = collections.deque()  # bytes and _FileRange waiting for the client
        self._queued = 0  # bytes in _output
        self.lastProgress = None  # when queued output last moved (time.monotonic())
        self._closing = False  # loseConnection() with output still queued
        self._shared = False  # TLS shared by the selector's reads and workers' writes
        self._shutWhenSent = False  # shutdownWriting() with output still queued
        self.whenRoom = None  # called by flush once queued output is below highWater
        self._poller = None  # a select.poll for receiveWithin, made on first use
        self._family = getattr(sock.family, "name", "AF_INET")
        self._peer = self._host = None

    # -- writing ------------------------------------------------------------
    def write(self, data):
        """Send ``data``, or queue what the client cannot take yet; silently
        dropped once the connection is gone (see the module docstring)."""
        if data:
            with self._writeLock:
                self._writeLocked(data, pause=True)

    def writeWithoutPause(self, data):
        """``write``, but never wait for room, however much is queued: for a
        writer holding a lock the selector needs (h2.channel), which waits
        for room itself (``queuedBytes``, ``whenRoom``)."""
        if data:
            with self._writeLock:
                self._writeLocked(data, pause=False)

    def _writeLocked(self, data, pause):
        if self.disconnected or self._closing:
            return
        if not self.queuesOutput:
            self._sendAllLocked(data)
            return
        if pause and self._queued >= self.highWater:
            self._waitForRoomLocked()
            if self.disconnected:
                return
        if not self._output:
            try:
                data = data[self._sendSomeLocked(data):]
            except OSError:  # the client reset the connection
                self._closeLocked()
                return
        if data:
            self._queueLocked(data, len(data))

    def shareWithSelector(self):
        """From now on the selector reads this socket while workers write to
        it (HTTP/2): over TLS, writes queue as over TCP (module docstring)."""
        if self.isTLS and self.selector is not None:
            with self._writeLock:
                self.socket.setblocking(False)
                self._shared = self.queuesOutput = True

    @property
    def queuedBytes(self):
        return self._queued

    def sendFile(self, fileobj, offset, count):
        """Send ``count`` bytes of an open file from ``offset`` (os.sendfile:
        the kernel copies, never through Python's memory).  False if the
        connection is gone or the file ended early."""
        with self._writeLock:
            if self.disconnected or self._closing:
                return False
            try:
                if self.isTLS:  # the kernel cannot encrypt: copy through Python
                    send = self.socket.sendall if not self._shared else \
                        functools.partial(self._writeLocked, pause=True)
                    return copyFileRange(fileobj, offset, count, send)
                if not self.queuesOutput:
                    return self._sendFileBlockingLocked(fileobj, offset, count)
                piece = _FileRange(fileobj, offset, count)
                if not self._output and not self._sendFileSomeLocked(piece):
                    piece.close()
                    return False
                if piece.count:
                    self._queueLocked(piece, piece.count)
                else:
                    piece.close()
                return True
            except OSError:
                self._closeLocked()
                return False

    def flush(self):
        """In the selector's thread, when the socket can take more: send what
        is queued.  True while some is still waiting."""
        with self._writeLock:
            try:
                while self._output:
                    item = self._output[0]
                    if isinstance(item, _FileRange):
                        before = item.count
                        if not self._sendFileSomeLocked(item):
                            raise OSError("the file ended early")
                        self._queued -= before - item.count
                        if item.count:
                            break
                        item.close()
                    else:
                        sent = self._sendSomeLocked(item)
                        self._queued -= sent
                        if sent < len(item):
                            self._output[0] = item[sent:]
                            break
                    self._output.popleft()
            except OSError:
                self._closeLocked()
                return False
            if self._queued < self.highWater:
                self._roomToWrite.notify_all()
            if not self._output and self._closing:
                self._closeLocked()
            elif not self._output and self._shutWhenSent:
                self._shutdownWritingLocked()
            waiting = bool(self._output)
            room = self._queued < self.highWater
        if room and self.whenRoom is not None:
            self.whenRoom()  # (with _writeLock let go: it takes the writer's lock)
        return waiting

    @property
    def hasQueuedOutput(self):
        return bool(self._output)

    def _queueLocked(self, item, size):
        wasEmpty = not self._output
        self._output.append(item)
        self._queued += size
        if wasEmpty:
            self.lastProgress = time.monotonic()
            self.selector.sendWhenWritable(self)

    def _sendSomeLocked(self, data):
        """One send that does not wait: how many bytes the kernel took.
        Over TLS all or none: OpenSSL, told "want write", has taken part of
        them, and the retry must offer the same bytes again (the queue's head)."""
        try:
            if self.isTLS:
                sent = self.socket.send(data)  # a non-blocking socket (shareWithSelector)
            else:
                sent = self.socket.send(data, socket.MSG_DONTWAIT)
        except _WOULD_BLOCK + _TLS_WOULD_BLOCK:
            return 0
        self.lastProgress = time.monotonic()
        return sent

    def _sendFileSomeLocked(self, piece):
        """One os.sendfile that does not wait; False if the file ended early."""
        try:
            sent = os.sendfile(self.fileno, piece.fd, piece.offset, min(piece.count, 1 << 30))
        except _WOULD_BLOCK:
            return True
        if sent == 0:
            return False
        piece.offset += sent
        piece.count -= sent
        self.lastProgress = time.monotonic()
        return True

    def _waitForRoomLocked(self):
        """A writer that keeps writing while the client reads nothing waits
        (the producer pauses) -- at most writeTimeout without progress."""
        while self._queued >= self.highWater and not self.disconnected:
            if not self._roomToWrite.wait(self.writeTimeout):
                self._closeLocked()  # no room came in writeTimeout: cut it

    def _sendAllLocked(self, data):
        """``sendall``: waits for the peer as long as SO_SNDTIMEO allows."""
        try:
            self.socket.sendall(data)
        except OSError:
            self._closeLocked()

    def _sendFileBlockingLocked(self, fileobj, offset, count):
        if self.socket.gettimeout() is not None:
            # A Python-level timeout makes the socket non-blocking underneath;
            # socket.sendfile knows how to wait on such a socket.
            return self.socket.sendfile(fileobj, offset, count) == count
        fd = fileobj.fileno()
        while count > 0:
            sent = os.sendfile(self.fileno, fd, offset, min(count, 1 << 30))  # SO_SNDTIMEO bounds it
            if sent == 0:
                return False  # the file ended early
            offset += sent
            count -= sent
        return True

    def writeSequence(self, chunks):
        self.write(b"".join(chunks))

    # -- reading ------------------------------------------------------------
    def receiveNow(self):
        """What has arrived, without waiting.

        Bytes; ``b""`` once the peer has closed or the connection failed;
        None if nothing has come yet (or a TLS handshake is still going on).
        A plain socket is read with MSG_DONTWAIT; a TLS socket is switched to
        non-blocking while the selector watches it.
        """
        try:
            if not self.isTLS:
                return self.socket.recv(RECEIVE_SIZE, socket.MSG_DONTWAIT)
            if self._shared:  # a worker may be writing: one SSL call at a time
                with self._writeLock:
                    return self._receiveTLS()
            return self._receiveTLS()
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except OSError:  # ssl.SSLError is one too
            return b""

    def _receiveTLS(self):
        data = self.socket.recv(RECEIVE_SIZE)  # the first one finishes the handshake
        while data and self.socket.pending():
            data += self.socket.recv(RECEIVE_SIZE)
        return data

    def receive(self, seconds):
        """In a worker, mid-request: wait up to ``seconds`` for bytes.
        Bytes; ``b""`` once the peer has closed; None if none came in time."""
        if self.isTLS:  # a blocking socket, bounded by SO_RCVTIMEO
            try:
                return self.socket.recv(RECEIVE_SIZE)
            except READ_TIMED_OUT:
                return None
        return self.receiveWithin(seconds)

    def receiveWithin(self, seconds):
        """In a worker: like receiveNow, but wait up to ``seconds`` for
        something to arrive.  On TLS only what the TLS layer has already
        decrypted, at once: waiting for a record is the selector's job (a
        blocking read could stop inside half a record)."""
        if self.isTLS:
            return self.socket.recv(RECEIVE_SIZE) if self.socket.pending() else None
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self.fileno, select.POLLIN)
        if not self._poller.poll(seconds * 1000):
            return None
        data = self.receiveNow()
        return b"" if data is None and self.disconnected else data

    # Where TLS differs, besides reading and writing: the selector and the
    # workers share a socket, and a TLS socket must not be read in one thread
    # while another writes to it, nor block in the selector.
    @property
    def readsWhileWriting(self):
        """May the selector read ahead (a pipelined request) while a worker
        writes a response?  Not through one TLS layer."""
        return not self.isTLS

    def startWaiting(self):
        """The selector watches this socket from now on.  True if bytes are
        already waiting inside the TLS layer (the selector reads them now)."""
        if not self.isTLS:
            return False
        if self._shared:  # (non-blocking already) a worker may be writing
            with self._writeLock:
                return not self.disconnected and self.socket.pending() > 0
        self.socket.setblocking(False)
        return self.socket.pending() > 0

    def stopWaiting(self):
        """A worker takes this socket: its reads and writes may block again
        (not a shared one's: it stays non-blocking for good)."""
        if self.isTLS and not self.disconnected and not self._shared:
            self.socket.setblocking(True)

    def setTimeouts(self, read, write):
        """Bound every blocking read and write of this socket, in seconds.

        The kernel keeps the timers (SO_RCVTIMEO, SO_SNDTIMEO): a read that
        waits longer raises one of READ_TIMED_OUT, a write an OSError.
        Python's own socket timeouts would poll() before every call; these
        cost nothing until they fire, so a read is one system call.
        ``write`` also bounds queued output's wait for progress.  A socket
        that queues its output (a server's HTTP connection over TCP) is
        non-blocking: it never waits in a read or a write, only in a poll
        with its own timeout, so it is given no kernel timers at all.
        """
        self.writeTimeout = write
        if self.queuesOutput and not self.isTLS:
            return
        self.setReadTimeout(read)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(write))

    def setReadTimeout(self, seconds):
        if seconds != self._readTimeout:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(seconds))
            self._readTimeout = seconds

    # -- closing ------------------------------------------------------------
    def shutdownWriting(self):
        """Say "no more bytes from us" (a FIN, once the queued output has
        gone) and keep reading: how a refusal ends without a reset.  On TLS, nothing: shutting the socket under
        the TLS layer would end the reading too."""
        if self.isTLS:
            return
        with self._writeLock:
            if self._output:
                self._shutWhenSent = True  # after them: flush() shuts it
                return
            self._shutdownWritingLocked()

    def _shutdownWritingLocked(self):
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def loseConnection(self):
        """Close the socket once the queued output has gone (at once if none)."""
        with self._writeLock:
            if self._output and not self.disconnected:
                self._closing = True  # flush() closes it, or writeTimeout cuts it
                return
            self._closeLocked()

    def abortConnection(self):
        """Close the socket now, queued output or not."""
        with self._writeLock:
            self._closeLocked()

    def _closeLocked(self):
        if self.disconnected:
            return
        self.disconnected = True
        self.connected = False
        for item in self._output:
            if isinstance(item, _FileRange):
                item.close()
        self._output.clear()
        self._queued = 0
        self._roomToWrite.notify_all()
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        if self.whenClosed is not None:
            self.whenClosed()

    # -- addresses ------------------------------------------------------------
    def getPeer(self):
        if self._peer is None:
            self._peer = self._address(self.socket.getpeername)
        return self._peer

    def getHost(self):
        if self._host is None:
            self._host = self._address(self.socket.getsockname)
        return self._host

    def _address(self, lookup):
        """An address object for ``lookup()``; a blank one if the socket has gone."""
        try:
            return address.fromSocketAddress(self._family, lookup())
        except OSError:
            blank = "" if self._family == "AF_UNIX" else ("0.0.0.0", 0)
            return address.fromSocketAddress(self._family, blank)


def copyFileRange(fileobj, offset, count, write, pieceSize=RECEIVE_SIZE, isGone=None):
    """Copy ``count`` bytes of ``fileobj`` from ``offset`` to ``write``, a
    piece at a time, stopping early once ``isGone()`` says the reader has
    left.  True if all of them went; False if the file ended first.

    Where the kernel cannot copy file to socket itself (TLS, chunks, an
    encoder, a relay), this is the loop every sender uses.
    """
    fileobj.seek(offset)
    while count > 0 and not (isGone is not None and isGone()):
        piece = fileobj.read(min(count, pieceSize))
        if not piece:
            return False
        write(piece)
        count -= len(piece)
    return count == 0


def _timeval(seconds):
    """Seconds as the kernel's struct timeval (for SO_RCVTIMEO / SO_SNDTIMEO)."""
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1e6))
