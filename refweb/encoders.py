# -*- test-case-name: tests.test_encoders -*-
"""Request encoders: compressing response bodies (gzip).

Guide: "Request encoders" -- ``EncodingResourceWrapper(resource,
[GzipEncoderFactory()])``; "the first encoder factory returning an object
will be used".

A factory looks at the request's ``Accept-Encoding`` and either returns an
encoder (and marks the response ``Content-Encoding: gzip``) or None.  Every
response that *could* have been encoded says ``Vary: Accept-Encoding``, so
caches keep the two versions apart.  The encoder compresses each write as it
comes and flushes it (a streamed response stays streamed); ``finish()``
returns the gzip trailer.

The guide's warning stands: compressing secret data next to data an
attacker controls, over TLS, leaks the secret (CRIME/BREACH).

Start reading at ``GzipEncoderFactory.encoderForRequest``.
"""

import zlib


def acceptedCodings(headerValues):
    """["gzip;q=0.5, br", "identity;q=0"] -> {"gzip": 0.5, "br": 1.0, "identity": 0.0}."""
    codings = {}
    for value in headerValues:
        for item in value.split(","):
            name, _, params = item.strip().partition(";")
            name = name.strip().lower()
            if not name:
                continue
            quality = 1.0
            key, _, number = params.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
            codings[name] = quality
    return codings


class GzipEncoderFactory:
    """Gzip the response when the client accepts it (RFC 9110 §12.5.3)."""

    compressLevel = 6

    def __init__(self, compressLevel=None):
        if compressLevel is not None:
            self.compressLevel = compressLevel

    def encoderForRequest(self, request):
        vary = ",".join(request.responseHeaders.getRawHeaders("vary", [])).lower()
        if "accept-encoding" not in vary:
            request.responseHeaders.addRawHeader("vary", "Accept-Encoding")
        codings = acceptedCodings(request.requestHeaders.getRawHeaders("accept-encoding", []))
        quality = codings.get("gzip", codings.get("*", 0.0))
        if quality <= 0:
            return None
        request.responseHeaders.setRawHeaders("content-encoding", ["gzip"])
        return GzipEncoder(self.compressLevel)


class GzipEncoder:
    """Compresses a body piece by piece into one gzip stream."""

    def __init__(self, compressLevel):
        # wbits 16 + MAX_WBITS: a gzip header and trailer around the deflate data
        self._compressor = zlib.compressobj(compressLevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def encode(self, data):
        """Compress ``data`` and flush it, so the client gets it now."""
        return self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def finish(self):
        return self._compressor.flush(zlib.Z_FINISH)
