# -*- test-case-name: tests.test_hpack -*-
"""HPACK: HTTP/2's header compression (RFC 7541), decoder and encoder.

Guide: not in the guide (the guide leaves the wire to Twisted; HTTP/2 is
one more wire under "Site Objects").

Where it sits: the connection gathers a stream's header block from a
HEADERS frame and its CONTINUATION frames and hands it to its ``Decoder``,
which returns the header list; a response's headers go through its
``Encoder`` into the block of the HEADERS frame it sends.  Each direction of
a connection has its own pair of tables, so each side keeps one ``Decoder``
(for what it reads) and one ``Encoder`` (for what it writes) per connection.

A header block is a row of *representations* (§6), each opening with a few
bits that say which it is (``REPRESENTATIONS``): a field named by its index
in the tables, a field written out (name by index, or literal), or a change
of the dynamic table's size.  Indexes 1-61 are the ``STATIC_TABLE``
(Appendix A); 62 and up are the ``DynamicTable``, newest entry first, which
both sides fill in step (§2.3).  Integers have a prefix of N bits (§5.1)
and strings a Huffman flag (§5.2, ``huffman.py``).

What a peer can make a decoder spend is bounded: the table by the size we
advertise (``maxTableSize``), the decoded list by ``maxHeaderListSize``
(counted as it grows, so many references to one big entry -- an HPACK bomb
-- stop early), integers by ``MAX_INTEGER_CONTINUATIONS``.

Start reading at ``Decoder``, then its ``decode``.
"""

import collections

from refweb.h2 import huffman
from refweb.h2.huffman import HPACKError  # re-exported: the name the connection catches

# RFC 7541 Appendix A, transcribed: index n is STATIC_TABLE[n - 1].
STATIC_TABLE = (
    (":authority", ""), (":method", "GET"), (":method", "POST"),                       # 1-3
    (":path", "/"), (":path", "/index.html"), (":scheme", "http"),                     # 4-6
    (":scheme", "https"), (":status", "200"), (":status", "204"),                      # 7-9
    (":status", "206"), (":status", "304"), (":status", "400"),                        # 10-12
    (":status", "404"), (":status", "500"), ("accept-charset", ""),                    # 13-15
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""),                     # 16-17
    ("accept-ranges", ""), ("accept", ""), ("access-control-allow-origin", ""),        # 18-20
    ("age", ""), ("allow", ""), ("authorization", ""), ("cache-control", ""),          # 21-24
    ("content-disposition", ""), ("content-encoding", ""),                             # 25-26
    ("content-language", ""), ("content-length", ""), ("content-location", ""),        # 27-29
    ("content-range", ""), ("content-type", ""), ("cookie", ""), ("date", ""),         # 30-33
    ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),         # 34-38
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""),                # 39-41
    ("if-range", ""), ("if-unmodified-since", ""), ("last-modified", ""),              # 42-44
    ("link", ""), ("location", ""), ("max-forwards", ""),                              # 45-47
    ("proxy-authenticate", ""), ("proxy-authorization", ""), ("range", ""),            # 48-50
    ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),             # 51-54
    ("set-cookie", ""), ("strict-transport-security", ""),                             # 55-56
    ("transfer-encoding", ""), ("user-agent", ""), ("vary", ""), ("via", ""),          # 57-60
    ("www-authenticate", ""),                                                          # 61
)

# The encoder's look-ups: the first index of each field and of each name.
STATIC_FIELD_INDEX = {}
STATIC_NAME_INDEX = {}
for _index, _field in enumerate(STATIC_TABLE, 1):
    STATIC_FIELD_INDEX.setdefault(_field, _index)
    STATIC_NAME_INDEX.setdefault(_field[0], _index)

# The representations of §6, told apart by their first bits; the rest of the
# first octet is the prefix of an integer (an index, or the new table size).
INDEXED = "indexed field"                                   # §6.1
INCREMENTAL = "literal with incremental indexing"           # §6.2.1
SIZE_UPDATE = "dynamic table size update"                   # §6.3
NEVER_INDEXED = "literal never indexed"                     # §6.2.3
WITHOUT_INDEXING = "literal without indexing"               # §6.2.2

#      first bits  mask         prefix  representation
REPRESENTATIONS = [
    (0b1000_0000, 0b1000_0000, 7, INDEXED),
    (0b0100_0000, 0b1100_0000, 6, INCREMENTAL),
    (0b0010_0000, 0b1110_0000, 5, SIZE_UPDATE),
    (0b0001_0000, 0b1111_0000, 4, NEVER_INDEXED),
    (0b0000_0000, 0b1111_0000, 4, WITHOUT_INDEXING),
]
PATTERN = {kind: (bits, prefix) for bits, _, prefix, kind in REPRESENTATIONS}

ENTRY_OVERHEAD = 32            # §4.1: an entry's size is name + value + 32 octets
MAX_INTEGER_CONTINUATIONS = 4  # 28 bits past the prefix: more than any limit here
DEFAULT_TABLE_SIZE = 4096      # SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2)


def representationOf(octet):
    """(kind, prefix bits) of the representation that opens with ``octet``."""
    for bits, mask, prefix, kind in REPRESENTATIONS:
        if octet & mask == bits:
            return kind, prefix


# -- primitives: integers (§5.1) and strings (§5.2) ----------------------------

def encodeInteger(value, prefixBits, firstByteFlags=0):
    """``value`` on a prefix of ``prefixBits`` bits, the first octet's other
    bits taken from ``firstByteFlags`` (§5.1)."""
    limit = (1 << prefixBits) - 1
    if value < limit:
        return bytes([firstByteFlags | value])
    out = bytearray([firstByteFlags | limit])
    value -= limit
    while value >= 128:
        out.append(0x80 | (value & 0x7F))   # 7 bits a continuation octet, low bits first
        value >>= 7
    out.append(value)
    return bytes(out)


def decodeInteger(data, offset, prefixBits):
    """(the integer at ``data[offset]`` on a ``prefixBits`` prefix, the offset
    after it).  Refuses more than ``MAX_INTEGER_CONTINUATIONS`` continuation
    octets (§5.1: an integer past an implementation's limits is an error)."""
    if offset >= len(data):
        raise HPACKError("header block ends inside an integer")
    limit = (1 << prefixBits) - 1
    value = data[offset] & limit
    offset += 1
    if value < limit:
        return value, offset
    for shift in range(0, 7 * MAX_INTEGER_CONTINUATIONS, 7):
        if offset >= len(data):
            raise HPACKError("header block ends inside an integer")
        octet = data[offset]
        offset += 1
        value += (octet & 0x7F) << shift
        if not octet & 0x80:
            return value, offset
    raise HPACKError("integer longer than %d continuation octets" % MAX_INTEGER_CONTINUATIONS)


def encodeString(octets, useHuffman=True):
    """``octets`` as a string literal: a length on a 7-bit prefix whose first
    bit says Huffman (§5.2).  Huffman is used unless it is longer."""
    if useHuffman and huffman.encodedLength(octets) <= len(octets):
        coded = huffman.encode(octets)
        return encodeInteger(len(coded), 7, 0x80) + coded
    return encodeInteger(len(octets), 7) + octets


def decodeString(data, offset):
    """(the string literal at ``data[offset]`` as bytes, the offset after it)."""
    isHuffman = offset < len(data) and data[offset] & 0x80
    length, offset = decodeInteger(data, offset, 7)
    end = offset + length
    if end > len(data):
        raise HPACKError("string of %d octets runs past the header block" % length)
    raw = data[offset:end]
    return (huffman.decode(raw) if isHuffman else bytes(raw)), end


# -- the dynamic table (§2.3.2, §4) --------------------------------------------

def entrySize(name, value):
    """An entry's size (§4.1); names and values are latin-1 text, one
    character per octet."""
    return len(name) + len(value) + ENTRY_OVERHEAD


class DynamicTable:
    """The fields both sides remember, newest first, within ``maxSize``.

    ``entries[0]`` has dynamic index 1 (index 62 overall).  Adding evicts the
    oldest entries until the new one fits; an entry bigger than the whole
    table empties it and is not added (§4.4).
    """

    def __init__(self, maxSize=DEFAULT_TABLE_SIZE):
        self.entries = collections.deque()
        self.size = 0
        self.maxSize = maxSize

    def __len__(self):
        return len(self.entries)

    def add(self, name, value):
        size = entrySize(name, value)
        self.evictDownTo(self.maxSize - size)
        if size <= self.maxSize:
            self.entries.appendleft((name, value))
            self.size += size

    def resize(self, maxSize):
        """A new maximum size (§4.3): evict until the entries fit in it."""
        self.maxSize = maxSize
        self.evictDownTo(maxSize)

    def evictDownTo(self, size):
        while self.entries and self.size > size:
            self.size -= entrySize(*self.entries.pop())

    def field(self, index):
        """The (name, value) at ``index`` of the static and dynamic tables
        together (§2.3.3)."""
        if 1 <= index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        if len(STATIC_TABLE) < index <= len(STATIC_TABLE) + len(self.entries):
            return self.entries[index - len(STATIC_TABLE) - 1]
        raise HPACKError("index %d is in neither table (1 to %d)"
                         % (index, len(STATIC_TABLE) + len(self.entries)))

    def find(self, name, value):
        """(index of the field, index of its name) in both tables, 0 where
        neither has it; the static table first, as its indexes are smaller."""
        fieldIndex = STATIC_FIELD_INDEX.get((name, value), 0)
        nameIndex = STATIC_NAME_INDEX.get(name, 0)
        if fieldIndex:
            return fieldIndex, nameIndex
        for index, entry in enumerate(self.entries, len(STATIC_TABLE) + 1):
            if entry[0] == name:
                nameIndex = nameIndex or index
                if entry[1] == value:
                    return index, nameIndex
        return 0, nameIndex


# -- the decoder: a header block in, a header list out -------------------------

class Decoder:
    """Decodes the header blocks a peer sends on one connection, in order.

    ``maxTableSize`` is the SETTINGS_HEADER_TABLE_SIZE we advertise: the
    table starts at that size, and a peer's size update may not exceed it.
    Set it again when the peer acknowledges a SETTINGS frame that changes
    it (RFC 9113 §6.5.3); a value below the table's current size obliges
    the peer to open its next block with a size update (§4.2).
    ``maxHeaderListSize`` bounds a decoded list (name + value + 32 a field,
    RFC 9113 §6.5.2).
    """

    def __init__(self, maxTableSize=DEFAULT_TABLE_SIZE, maxHeaderListSize=65536):
        self.table = DynamicTable(maxTableSize)
        self._maxTableSize = maxTableSize
        self.maxHeaderListSize = maxHeaderListSize
        self.sizeUpdateDue = False

    @property
    def maxTableSize(self):
        return self._maxTableSize

    @maxTableSize.setter
    def maxTableSize(self, size):
        self._maxTableSize = size
        if size < self.table.maxSize:
            self.sizeUpdateDue = True

    def decode(self, block):
        """The header list (``[(name, value), ...]``, latin-1 text) that
        ``block`` stands for; the dynamic table changes as it says."""
        offset = self.readSizeUpdates(block)
        fields = []
        listSize = 0
        while offset < len(block):
            kind, prefix = representationOf(block[offset])
            if kind == SIZE_UPDATE:
                raise HPACKError("dynamic table size update after a field "
                                 "(RFC 7541 §4.2: only at a block's start)")
            if kind == INDEXED:
                index, offset = decodeInteger(block, offset, prefix)
                name, value = self.table.field(index)
            else:
                name, value, offset = self.readLiteral(block, offset, prefix)
                if kind == INCREMENTAL:
                    self.table.add(name, value)
            listSize += entrySize(name, value)
            if listSize > self.maxHeaderListSize:
                raise HPACKError("header list larger than %d octets" % self.maxHeaderListSize)
            fields.append((name, value))
        return fields

    def readSizeUpdates(self, block):
        """Apply the size updates that open ``block`` (§4.2, §6.3); return
        the offset of its first field."""
        offset = 0
        updated = False
        while offset < len(block) and representationOf(block[offset])[0] == SIZE_UPDATE:
            size, offset = decodeInteger(block, offset, 5)
            if size > self.maxTableSize:
                raise HPACKError("table size update to %d, over the %d we allow"
                                 % (size, self.maxTableSize))
            self.table.resize(size)
            updated = True
        if self.sizeUpdateDue and not updated:
            raise HPACKError("the first block after SETTINGS_HEADER_TABLE_SIZE "
                             "shrank must open with a size update (RFC 7541 §4.2)")
        self.sizeUpdateDue = False
        return offset

    def readLiteral(self, block, offset, prefix):
        """(name, value, offset after) of a literal field (§6.2): a name
        index on ``prefix`` bits, 0 meaning a literal name follows."""
        nameIndex, offset = decodeInteger(block, offset, prefix)
        if nameIndex:
            name = self.table.field(nameIndex)[0]
        else:
            name, offset = decodeString(block, offset)
            name = name.decode("latin-1")
        value, offset = decodeString(block, offset)
        return name, value.decode("latin-1"), offset


# -- the encoder: a header list in, a header block out -------------------------

# Fields whose values are secrets: written "never indexed" (§6.2.3), so no
# table -- ours, or an intermediary's -- keeps them, and a guess at them
# cannot be checked by the size of a later block (§7.1.3).
SENSITIVE_NAMES = frozenset(["authorization", "proxy-authorization", "cookie", "set-cookie"])


class Encoder:
    """Encodes the header lists this side sends on one connection, in order.

    Simple and correct rather than smallest: a field in a table is sent as
    its index; any other is written out, its name by index where a table
    has it, and added to the table -- except ``neverIndexed`` names, written
    "never indexed", and a field bigger than the whole table, written
    "without indexing".  Strings are Huffman-coded unless that is longer.
    """

    neverIndexed = SENSITIVE_NAMES
    tableSizeLimit = DEFAULT_TABLE_SIZE   # we use no more, whatever the peer allows

    def __init__(self, useHuffman=True):
        self.table = DynamicTable(DEFAULT_TABLE_SIZE)
        self.useHuffman = useHuffman
        self.pendingSizes = []   # sizes to announce at the next block's start

    def setMaxTableSize(self, size):
        """The peer's SETTINGS_HEADER_TABLE_SIZE changed: use up to
        ``tableSizeLimit`` of it, and say so at the next block's start."""
        size = min(size, self.tableSizeLimit)
        current = self.pendingSizes[-1] if self.pendingSizes else self.table.maxSize
        if size != current:
            self.pendingSizes.append(size)

    def encode(self, headers):
        """The header block for ``headers``, a list of (name, value) pairs,
        str (latin-1) or bytes."""
        out = [self.sizeUpdates()]
        for name, value in headers:
            name, value = text(name), text(value)
            out.append(self.encodeField(name, value))
        return b"".join(out)

    def sizeUpdates(self):
        """The size updates due (§4.2): the smallest size since the last
        block, if smaller than the final one, then the final one."""
        if not self.pendingSizes:
            return b""
        sizes = [min(self.pendingSizes), self.pendingSizes[-1]]
        del self.pendingSizes[:]
        if sizes[0] == sizes[1]:
            del sizes[0]
        bits, prefix = PATTERN[SIZE_UPDATE]
        for size in sizes:
            self.table.resize(size)
        return b"".join(encodeInteger(size, prefix, bits) for size in sizes)

    def encodeField(self, name, value):
        """One field's representation, the table changed as the peer's will."""
        fieldIndex, nameIndex = self.table.find(name, value)
        if name in self.neverIndexed:
            kind = NEVER_INDEXED
        elif fieldIndex:
            bits, prefix = PATTERN[INDEXED]
            return encodeInteger(fieldIndex, prefix, bits)
        elif entrySize(name, value) > self.table.maxSize:
            kind = WITHOUT_INDEXING   # adding it would only empty the table (§4.4)
        else:
            kind = INCREMENTAL
            self.table.add(name, value)
        bits, prefix = PATTERN[kind]
        out = encodeInteger(nameIndex, prefix, bits)
        if not nameIndex:
            out += encodeString(name.encode("latin-1"), self.useHuffman)
        return out + encodeString(value.encode("latin-1"), self.useHuffman)


def text(name):
    """A header name or value as latin-1 text, one character per octet."""
    return name.decode("latin-1") if isinstance(name, bytes) else name
