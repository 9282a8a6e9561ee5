"""Tests for refweb.h2.hpack and refweb.h2.huffman: HPACK (RFC 7541), bytes only.

The examples of RFC 7541 Appendix C are transcribed below as data: each
block's bytes, the header list it decodes to, and the dynamic table after
it.  The decoder must give exactly those; the encoder must give back the
same bytes where the RFC made the same choices, and in any case a block
that decodes to what it was given.
"""

import ctypes
import ctypes.util
import random
import time
import tracemalloc
from fractions import Fraction

import pytest

from refweb.h2 import hpack, huffman
from refweb.h2.hpack import Decoder, DynamicTable, Encoder, HPACKError


def unhex(text):
    return bytes.fromhex("".join(text.split()))


def sizeUpdate(size):
    """A dynamic table size update (§6.3): 001, then the size on 5 bits."""
    return hpack.encodeInteger(size, 5, 0x20)


# -- Huffman code (§5.2, Appendix B) ------------------------------------------

def test_huffman_table_has_every_octet_and_eos():
    """Appendix B has 257 rows: octets 0-255 and EOS, thirty one-bits."""
    assert len(huffman.CODES) == 257
    assert huffman.CODES[huffman.EOS] == ((1 << 30) - 1, 30)
    assert huffman.CODES[ord("/")] == (0x18, 6)   # the RFC's own worked row


def test_huffman_codes_follow_from_their_lengths():
    """The code is canonical (Appendix B): sorted by (length, symbol), each
    code is the previous one plus one, shifted to its length -- so a
    mistyped code or length in the transcription shows here."""
    order = sorted(range(257), key=lambda symbol: (huffman.CODES[symbol][1], symbol))
    expected, previousLength = -1, huffman.CODES[order[0]][1]
    for symbol in order:
        code, length = huffman.CODES[symbol]
        expected = (expected + 1) << (length - previousLength)
        previousLength = length
        assert code == expected, symbol


def test_huffman_code_is_complete():
    """Every bit string starts with some code (Kraft's sum is exactly 1), so
    the decoding tree has no missing branch."""
    assert sum(Fraction(1, 2 ** length) for _, length in huffman.CODES) == 1
    assert all(child is not None for node in huffman.TREE for child in node)


@pytest.mark.parametrize("coded, plain", [
    ("f1e3 c2e5 f23a 6ba0 ab90 f4ff", b"www.example.com"),
    ("a8eb 1064 9cbf", b"no-cache"),
    ("25a8 49e9 5ba9 7d7f", b"custom-key"),
    ("25a8 49e9 5bb8 e8b4 bf", b"custom-value"),
    ("6402", b"302"),
    ("aec3 771a 4b", b"private"),
    ("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", b"Mon, 21 Oct 2013 20:13:21 GMT"),
    ("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", b"https://www.example.com"),
    ("9bd9 ab", b"gzip"),
    ("94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587"
     "3160 65c0 03ed 4ee5 b106 3d50 07",
     b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
])
def test_huffman_appendix_c_strings_both_ways(coded, plain):
    """Appendix C's Huffman strings decode to their text, and encode back to
    the same octets."""
    assert huffman.decode(unhex(coded)) == plain
    assert huffman.encode(plain) == unhex(coded)
    assert huffman.encodedLength(plain) == len(unhex(coded))


def test_huffman_round_trip_every_octet():
    """Each octet 0-255, alone and all together, comes back as it went."""
    for octet in range(256):
        assert huffman.decode(huffman.encode(bytes([octet]))) == bytes([octet])
    everything = bytes(range(256)) * 2
    assert huffman.decode(huffman.encode(everything)) == everything


def test_huffman_round_trip_random_strings():
    """Random strings (fixed seed), of any octets and of header characters,
    come back as they went; the empty string is empty both ways."""
    rng = random.Random(7541)
    assert huffman.encode(b"") == b"" and huffman.decode(b"") == b""
    for _ in range(300):
        alphabet = bytes(range(256)) if rng.random() < 0.5 else b"abcdefxyz0123456789-_/.=; "
        data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 200)))
        assert huffman.decode(huffman.encode(data)) == data


def test_huffman_refuses_padding_longer_than_7_bits():
    """Padding of eight or more ones is an error (§5.2): a whole octet of
    ones after a string, or a string that is only padding."""
    with pytest.raises(HPACKError, match="longer than 7"):
        huffman.decode(huffman.encode(b"a") + b"\xff")
    with pytest.raises(HPACKError, match="longer than 7"):
        huffman.decode(b"\xff")


def test_huffman_refuses_padding_that_is_not_ones():
    """Padding must be the leading bits of EOS, all ones (§5.2): "a" (00011)
    padded with 000 is refused."""
    assert huffman.decode(b"\x1f") == b"a"
    with pytest.raises(HPACKError, match="ends inside a code"):
        huffman.decode(b"\x18")


def test_huffman_refuses_eos_in_a_string():
    """The EOS code inside a string is an error (§5.2)."""
    eos = b"\xff\xff\xff\xfc"   # thirty ones, then two bits of the next code
    with pytest.raises(HPACKError, match="EOS"):
        huffman.decode(eos)
    with pytest.raises(HPACKError, match="EOS"):
        huffman.decode(b"\x1f\xff\xff\xff\xff")   # "a" (00011), EOS, five ones of padding


def test_huffman_decoding_a_kilobyte_is_fast():
    """Decoding 1 KiB of Huffman-coded header text takes well under a
    millisecond once its (state, octet) pairs have been met."""
    rng = random.Random(24)
    text = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789-/=;., ") for _ in range(1400))
    coded = huffman.encode(text)
    assert len(coded) >= 1024
    assert huffman.decode(coded) == text
    start = time.perf_counter()
    for _ in range(50):
        huffman.decode(coded)
    perDecode = (time.perf_counter() - start) / 50
    assert perDecode < 0.002, perDecode   # measured about 0.1 ms; slack for a loaded machine


# -- integers (§5.1, Appendix C.1) --------------------------------------------

@pytest.mark.parametrize("value, prefix, encoded", [
    (10, 5, "0a"),           # C.1.1
    (1337, 5, "1f 9a 0a"),   # C.1.2
    (42, 8, "2a"),           # C.1.3
])
def test_integer_appendix_c1(value, prefix, encoded):
    """C.1's integers encode and decode as the RFC shows."""
    assert hpack.encodeInteger(value, prefix) == unhex(encoded)
    assert hpack.decodeInteger(unhex(encoded), 0, prefix) == (value, len(unhex(encoded)))


def test_integer_round_trip_at_the_edges():
    """Values at and around 2^N - 1, and large ones, come back for every
    prefix from 1 to 8 bits, the flags bits kept and ignored."""
    for prefix in range(1, 9):
        flags = (0xFF << prefix) & 0xFF
        limit = (1 << prefix) - 1
        for value in [0, 1, limit - 1, limit, limit + 1, limit + 127, limit + 128, 1 << 27]:
            data = b"\x00" + hpack.encodeInteger(value, prefix, flags)
            assert data[1] & flags == flags
            assert hpack.decodeInteger(data, 1, prefix) == (value, len(data))


def test_integer_refuses_too_many_continuation_octets():
    """An integer of more than four continuation octets is refused, even one
    padded with zero-valued octets (§5.1: past the implementation's limits)."""
    fits = b"\x1f\x80\x80\x80\x01"
    assert hpack.decodeInteger(fits, 0, 5) == (31 + (1 << 21), 5)
    with pytest.raises(HPACKError, match="continuation"):
        hpack.decodeInteger(b"\x1f\x80\x80\x80\x80\x01", 0, 5)
    with pytest.raises(HPACKError, match="continuation"):
        hpack.decodeInteger(b"\x1f" + b"\xff" * 100, 0, 5)


def test_integer_refuses_a_block_that_ends_inside_it():
    """An integer cut off by the block's end is an error, not a short read."""
    for data in [b"", b"\x1f", b"\x1f\x9a"]:
        with pytest.raises(HPACKError, match="ends inside an integer"):
            hpack.decodeInteger(data, 0, 5)


# -- strings (§5.2) -----------------------------------------------------------

def test_string_uses_huffman_unless_it_is_longer():
    """A string is Huffman-coded (H bit set) when that is no longer than its
    octets; octets with long codes go raw."""
    assert hpack.encodeString(b"www.example.com") == unhex("8c f1e3 c2e5 f23a 6ba0 ab90 f4ff")
    assert hpack.encodeString(b"\x00\x01") == b"\x02\x00\x01"
    assert hpack.encodeString(b"www.example.com", useHuffman=False) == b"\x0fwww.example.com"
    assert hpack.decodeString(b"\x02\x00\x01", 0) == (b"\x00\x01", 3)


def test_string_refuses_a_length_past_the_block():
    """A string longer than what is left of the block is an error."""
    with pytest.raises(HPACKError, match="runs past"):
        hpack.decodeString(b"\x8c\xf1\xe3", 0)


# -- the dynamic table (§4) ---------------------------------------------------

def test_dynamic_table_size_is_name_value_and_32():
    """An entry counts its name and value octets plus 32 (§4.1)."""
    table = DynamicTable()
    table.add("custom-key", "custom-header")
    assert (table.size, len(table)) == (55, 1)


def test_dynamic_table_evicts_oldest_first():
    """Adding past maxSize evicts the oldest entries until the new one fits
    (§4.4); the newest has dynamic index 1 (overall 62)."""
    table = DynamicTable(100)
    table.add("a", "1" * 10)   # 43
    table.add("b", "2" * 10)   # 43
    table.add("c", "3" * 10)   # 43: evicts a
    assert list(table.entries) == [("c", "3" * 10), ("b", "2" * 10)]
    assert table.size == 86 and table.field(62) == ("c", "3" * 10)


def test_dynamic_table_entry_bigger_than_the_table_empties_it():
    """An entry larger than the whole table empties it and is not added (§4.4)."""
    table = DynamicTable(100)
    table.add("a", "1")
    table.add("big", "x" * 100)
    assert (list(table.entries), table.size) == ([], 0)


def test_dynamic_table_resize_evicts_to_fit():
    """A smaller maximum evicts entries until the rest fit (§4.3); zero
    empties the table."""
    table = DynamicTable()
    for name in "abc":
        table.add(name, "v")   # 34 each
    table.resize(70)
    assert [name for name, _ in table.entries] == ["c", "b"]
    table.resize(0)
    assert (len(table), table.size) == (0, 0)


# -- Appendix C: the RFC's examples, decoded ----------------------------------

# (block, header list, dynamic table after it, table size after it)
C2 = {
    "C.2.1": ("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
              [("custom-key", "custom-header")], [("custom-key", "custom-header")], 55),
    "C.2.2": ("040c 2f73 616d 706c 652f 7061 7468",
              [(":path", "/sample/path")], [], 0),
    "C.2.3": ("1008 7061 7373 776f 7264 0673 6563 7265 74",
              [("password", "secret")], [], 0),
    "C.2.4": ("82", [(":method", "GET")], [], 0),
}

REQUEST_1 = [(":method", "GET"), (":scheme", "http"), (":path", "/"),
             (":authority", "www.example.com")]
REQUEST_2 = REQUEST_1 + [("cache-control", "no-cache")]
REQUEST_3 = [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"),
             (":authority", "www.example.com"), ("custom-key", "custom-value")]
REQUEST_TABLES = [
    ([(":authority", "www.example.com")], 57),
    ([("cache-control", "no-cache"), (":authority", "www.example.com")], 110),
    ([("custom-key", "custom-value"), ("cache-control", "no-cache"),
      (":authority", "www.example.com")], 164),
]
C3 = ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "8286 84be 5808 6e6f 2d63 6163 6865",
      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"]
C4 = ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
      "8286 84be 5886 a8eb 1064 9cbf",
      "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]

DATE_1 = ("date", "Mon, 21 Oct 2013 20:13:21 GMT")
DATE_2 = ("date", "Mon, 21 Oct 2013 20:13:22 GMT")
LOCATION = ("location", "https://www.example.com")
PRIVATE = ("cache-control", "private")
COOKIE = ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
RESPONSE_1 = [(":status", "302"), PRIVATE, DATE_1, LOCATION]
RESPONSE_2 = [(":status", "307"), PRIVATE, DATE_1, LOCATION]
RESPONSE_3 = [(":status", "200"), PRIVATE, DATE_2, LOCATION, ("content-encoding", "gzip"), COOKIE]
RESPONSE_TABLES = [
    ([LOCATION, DATE_1, PRIVATE, (":status", "302")], 222),
    ([(":status", "307"), LOCATION, DATE_1, PRIVATE], 222),
    ([COOKIE, ("content-encoding", "gzip"), DATE_2], 215),
]
C5 = ["4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
      "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
      "6c65 2e63 6f6d",
      "4803 3330 37c1 c0bf",
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
      "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
      "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
      "3d31"]
C6 = ["4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
      "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
      "4883 640e ffc1 c0bf",
      "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
      "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
      "9587 3160 65c0 03ed 4ee5 b106 3d50 07"]

# name -> (table size SETTINGS_HEADER_TABLE_SIZE set, blocks, header lists, tables after)
SEQUENCES = {
    "C.3": (4096, C3, [REQUEST_1, REQUEST_2, REQUEST_3], REQUEST_TABLES),
    "C.4": (4096, C4, [REQUEST_1, REQUEST_2, REQUEST_3], REQUEST_TABLES),
    "C.5": (256, C5, [RESPONSE_1, RESPONSE_2, RESPONSE_3], RESPONSE_TABLES),
    "C.6": (256, C6, [RESPONSE_1, RESPONSE_2, RESPONSE_3], RESPONSE_TABLES),
}


@pytest.mark.parametrize("name", sorted(C2))
def test_appendix_c2_field_representations_decode(name):
    """C.2's single fields decode to the RFC's header list and table: with
    incremental indexing the field is added, without or never indexed it is not."""
    block, headers, table, size = C2[name]
    decoder = Decoder()
    assert decoder.decode(unhex(block)) == headers
    assert (list(decoder.table.entries), decoder.table.size) == (table, size)


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_appendix_c_sequences_decode_with_their_tables(name):
    """C.3-C.6: each block of a connection decodes to the RFC's header list,
    and the dynamic table after it is the RFC's, evictions included."""
    tableSize, blocks, headerLists, tables = SEQUENCES[name]
    decoder = Decoder(maxTableSize=tableSize)
    for block, headers, (table, size) in zip(blocks, headerLists, tables):
        assert decoder.decode(unhex(block)) == headers
        assert (list(decoder.table.entries), decoder.table.size) == (table, size)


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_appendix_c_sequences_encode_to_the_rfcs_bytes(name):
    """The encoder makes the RFC's choices -- index when a table has the
    field, else a literal added to the table, its name by the smallest
    index; Huffman unless longer -- so it writes C.3-C.6 byte for byte
    (C.3 and C.5 with Huffman off; C.5 and C.6 with a 256-octet table from
    the start and set-cookie not kept out of the table, as the RFC does)."""
    tableSize, blocks, headerLists, tables = SEQUENCES[name]
    encoder = Encoder(useHuffman=name in ("C.4", "C.6"))
    encoder.table.resize(tableSize)
    encoder.neverIndexed = frozenset()
    for block, headers, (table, size) in zip(blocks, headerLists, tables):
        assert encoder.encode(headers) == unhex(block)
        assert (list(encoder.table.entries), encoder.table.size) == (table, size)


# -- the encoder --------------------------------------------------------------

def randomHeaders(rng):
    """A header list mixing static-table fields, repeated custom ones,
    sensitive ones and random octets."""
    pool = [(":status", "200"), (":status", "404"), ("content-type", "text/html"),
            ("x-custom", "one"), ("x-custom", "two"), ("set-cookie", "id=42"),
            ("authorization", "Basic dXNlcg=="), ("server", "refweb")]
    headers = []
    for _ in range(rng.randrange(0, 12)):
        if rng.random() < 0.6:
            headers.append(rng.choice(pool))
        else:
            name = "x-" + "".join(rng.choice("abcdefgh-") for _ in range(rng.randrange(1, 12)))
            value = "".join(chr(rng.randrange(256)) for _ in range(rng.randrange(0, 300)))
            headers.append((name, value))
    return headers


def test_encoder_round_trips_random_header_lists():
    """Random header lists (fixed seed) on one connection decode to what was
    encoded, and both tables stay the same, through evictions and size
    changes."""
    rng = random.Random(9113)
    encoder, decoder = Encoder(), Decoder()
    for round in range(400):
        if round % 50 == 49:
            encoder.setMaxTableSize(rng.choice([0, 100, 256, 4096]))
        headers = randomHeaders(rng)
        assert decoder.decode(encoder.encode(headers)) == headers
        assert list(decoder.table.entries) == list(encoder.table.entries)


def test_encoder_sends_a_known_field_as_an_index():
    """A field the static table has is one octet; one sent before is one
    octet the second time (index 62)."""
    encoder = Encoder()
    assert encoder.encode([(":status", "200")]) == b"\x88"
    first = encoder.encode([("x-a", "b")])
    assert first[0] == 0x40 and encoder.encode([("x-a", "b")]) == b"\xbe"


def test_encoder_never_indexes_sensitive_fields():
    """authorization, proxy-authorization, cookie and set-cookie go "never
    indexed" (first bits 0001, §6.2.3), their names by index, and stay out
    of the table, however often they are sent."""
    encoder, decoder = Encoder(), Decoder()
    for _ in range(2):
        block = encoder.encode([("set-cookie", "id=42"), ("authorization", "secret")])
        assert block[0] == 0x1F and block[1] == 55 - 15   # index 55 on a 4-bit prefix
        assert decoder.decode(block) == [("set-cookie", "id=42"), ("authorization", "secret")]
    assert len(encoder.table) == 0 and len(decoder.table) == 0


def test_encoder_does_not_index_a_field_bigger_than_the_table():
    """A field too big for the whole table is written "without indexing"
    (first bits 0000): adding it would only empty the table (§4.4)."""
    encoder = Encoder()
    encoder.encode([("x-a", "b")])
    block = encoder.encode([("x-big", "v" * 4096)])
    assert block[0] == 0x00 and list(encoder.table.entries) == [("x-a", "b")]
    assert Decoder().decode(block) == [("x-big", "v" * 4096)]


def test_encoder_accepts_bytes():
    """Names and values may be bytes; they are read as latin-1."""
    encoder = Encoder()
    assert Decoder().decode(encoder.encode([(b"x-a", b"caf\xe9")])) == [("x-a", "caf\xe9")]


def test_encoder_announces_a_new_table_size_at_the_next_block():
    """After setMaxTableSize the next block opens with a size update (§4.2,
    001 then the size on 5 bits), the table shrinks, and later blocks do not
    repeat it."""
    encoder = Encoder()
    encoder.encode([("x-a", "b" * 300)])
    encoder.setMaxTableSize(256)
    block = encoder.encode([(":status", "200")])
    assert block == sizeUpdate(256) + b"\x88"
    assert (encoder.table.maxSize, len(encoder.table)) == (256, 0)
    assert encoder.encode([(":status", "200")]) == b"\x88"


def test_encoder_announces_the_smallest_size_then_the_final_one():
    """Two changes between blocks: the smallest size is announced, then the
    final one (§4.2); a change back to the same size announces nothing."""
    encoder = Encoder()
    encoder.setMaxTableSize(0)
    encoder.setMaxTableSize(4096)
    assert encoder.encode([]) == sizeUpdate(0) + sizeUpdate(4096)
    encoder.setMaxTableSize(100)
    encoder.setMaxTableSize(4096)
    encoder.setMaxTableSize(300)
    assert encoder.encode([]) == sizeUpdate(100) + sizeUpdate(300)


def test_encoder_uses_no_more_than_its_limit():
    """A peer allowing a bigger table changes nothing: the encoder keeps to
    tableSizeLimit (4096), which needs no announcement."""
    encoder = Encoder()
    encoder.setMaxTableSize(1 << 20)
    assert encoder.encode([]) == b"" and encoder.table.maxSize == 4096


# -- the decoder's errors -----------------------------------------------------

@pytest.mark.parametrize("block, message", [
    ("80", "index 0"),                        # index 0 is not a field (§6.1)
    ("be", "index 62"),                       # past an empty dynamic table
    ("7e 01 61", "index 62"),                 # a literal's name index past the table
    ("ff 80 80 80 80 01", "continuation"),    # an absurd integer
    ("41 8c f1e3", "runs past"),              # a string cut off by the block's end
    ("40 81 ff 00", "longer than 7"),         # a name of padding alone
    ("40 01 61 81 18", "ends inside a code"),  # padding that is not ones
    ("00 01 61 84 ff ff ff fc", "EOS"),       # EOS inside a value
])
def test_decoder_refuses(block, message):
    """Each malformed block raises HPACKError naming what is wrong."""
    with pytest.raises(HPACKError, match=message):
        Decoder().decode(unhex(block))


def test_decoder_refuses_a_size_update_over_the_setting():
    """A size update above the SETTINGS_HEADER_TABLE_SIZE we advertise is an
    error (§6.3); up to it, it is applied."""
    decoder = Decoder(maxTableSize=4096)
    with pytest.raises(HPACKError, match="over the 4096"):
        decoder.decode(sizeUpdate(4097))
    decoder = Decoder(maxTableSize=4096)
    block = sizeUpdate(0) + sizeUpdate(4096) + b"\x82"
    assert decoder.decode(block) == [(":method", "GET")]
    assert decoder.table.maxSize == 4096


def test_decoder_refuses_a_size_update_after_a_field():
    """A size update anywhere but a block's start is an error (§4.2)."""
    with pytest.raises(HPACKError, match="after a field"):
        Decoder().decode(b"\x82\x20")


def test_decoder_requires_a_size_update_after_the_setting_shrinks():
    """Once maxTableSize is set below the table's size, the next block must
    open with a size update (§4.2); a block that does is accepted."""
    decoder = Decoder()
    decoder.maxTableSize = 256
    with pytest.raises(HPACKError, match="must open with a size update"):
        decoder.decode(b"\x82")
    decoder = Decoder()
    decoder.decode(unhex(C3[0]))
    decoder.maxTableSize = 256
    assert decoder.decode(b"\x20\x82") == [(":method", "GET")]
    assert (len(decoder.table), decoder.table.maxSize) == (0, 0)
    assert decoder.decode(b"\x82") == [(":method", "GET")]


def test_decoder_allows_a_larger_setting_without_an_update():
    """Raising maxTableSize obliges the peer to nothing (§4.2)."""
    decoder = Decoder(maxTableSize=256)
    decoder.maxTableSize = 8192
    assert decoder.decode(b"\x82") == [(":method", "GET")]


def test_decoder_counts_the_header_list_with_32_per_field():
    """The header list's size is name + value + 32 a field (RFC 9113 §6.5.2):
    a list of exactly maxHeaderListSize passes, one octet more does not."""
    block = Encoder().encode([("x-a", "b" * 65)])   # 3 + 65 + 32 = 100
    assert Decoder(maxHeaderListSize=100).decode(block) == [("x-a", "b" * 65)]
    with pytest.raises(HPACKError, match="header list larger than 99"):
        Decoder(maxHeaderListSize=99).decode(block)


def test_decoder_stops_an_hpack_bomb_early():
    """One 4 KiB entry referenced 10,000 times (a 40 MB header list from a
    14 KiB block) raises as soon as the list passes maxHeaderListSize,
    quickly and without allocating the list."""
    block = b"\x40" + hpack.encodeString(b"x", False) + hpack.encodeString(b"v" * 4000, False)
    block += b"\xbe" * 10000
    decoder = Decoder()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(HPACKError, match="header list larger than 65536"):
            decoder.decode(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 0.5
    assert peak < 200 * 1024, peak


# -- against nghttp2's HPACK, a strict peer (when the library is installed) ---

class NghttpHpack:
    """nghttp2's deflater and inflater (one connection's pair), through
    ctypes: the C library curl and nghttp use."""

    EMIT, FINAL = 0x02, 0x01   # nghttp2_hd_inflate_flag

    class NV(ctypes.Structure):
        _fields_ = [("name", ctypes.c_void_p), ("value", ctypes.c_void_p),
                    ("namelen", ctypes.c_size_t), ("valuelen", ctypes.c_size_t),
                    ("flags", ctypes.c_uint8)]

    def __init__(self, lib):
        self.lib = lib
        pointer, size, ssize = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_ssize_t
        signatures = {
            "nghttp2_hd_deflate_new": (ctypes.c_int, [ctypes.POINTER(pointer), size]),
            "nghttp2_hd_deflate_bound": (size, [pointer, pointer, size]),
            "nghttp2_hd_deflate_hd": (ssize, [pointer, pointer, size, pointer, size]),
            "nghttp2_hd_deflate_change_table_size": (ctypes.c_int, [pointer, size]),
            "nghttp2_hd_inflate_new": (ctypes.c_int, [ctypes.POINTER(pointer)]),
            "nghttp2_hd_inflate_hd2": (ssize, [pointer, pointer, pointer, pointer, size,
                                               ctypes.c_int]),
            "nghttp2_hd_inflate_end_headers": (ctypes.c_int, [pointer]),
            "nghttp2_hd_inflate_change_table_size": (ctypes.c_int, [pointer, size]),
        }
        for name, (restype, argtypes) in signatures.items():
            getattr(lib, name).restype = restype
            getattr(lib, name).argtypes = argtypes
        self.deflater, self.inflater = pointer(), pointer()
        assert lib.nghttp2_hd_deflate_new(ctypes.byref(self.deflater), 4096) == 0
        assert lib.nghttp2_hd_inflate_new(ctypes.byref(self.inflater)) == 0

    def deflate(self, headers):
        buffers = []
        fields = (self.NV * len(headers))()
        for field, (name, value) in zip(fields, headers):
            for attribute, text in (("name", name), ("value", value)):
                octets = text.encode("latin-1")
                buffers.append(ctypes.create_string_buffer(octets, len(octets) + 1))
                setattr(field, attribute, ctypes.addressof(buffers[-1]))
                setattr(field, attribute + "len", len(octets))
        bound = self.lib.nghttp2_hd_deflate_bound(self.deflater, fields, len(headers))
        out = ctypes.create_string_buffer(bound)
        written = self.lib.nghttp2_hd_deflate_hd(self.deflater, out, bound, fields, len(headers))
        assert written >= 0, written
        return out.raw[:written]

    def inflate(self, block):
        data = ctypes.create_string_buffer(block, len(block) + 1)
        headers, position = [], 0
        while True:
            field, flags = self.NV(), ctypes.c_int(0)
            used = self.lib.nghttp2_hd_inflate_hd2(
                self.inflater, ctypes.byref(field), ctypes.byref(flags),
                ctypes.addressof(data) + position, len(block) - position, 1)
            assert used >= 0, "nghttp2 refused the block (%d)" % used
            position += used
            if flags.value & self.EMIT:
                headers.append((ctypes.string_at(field.name, field.namelen).decode("latin-1"),
                                ctypes.string_at(field.value, field.valuelen).decode("latin-1")))
            if flags.value & self.FINAL:
                self.lib.nghttp2_hd_inflate_end_headers(self.inflater)
                return headers


@pytest.fixture
def nghttp2():
    name = ctypes.util.find_library("nghttp2")
    if name is None:
        pytest.skip("libnghttp2 is not installed (Debian: libnghttp2-14)")
    return NghttpHpack(ctypes.CDLL(name))


def test_nghttp2_reads_what_the_encoder_writes(nghttp2):
    """nghttp2's inflater decodes the encoder's blocks (random lists, fixed
    seed) to the lists encoded, table size changes included."""
    rng = random.Random(7540)
    encoder = Encoder()
    for round in range(300):
        if round % 60 == 59:
            size = rng.choice([0, 256, 4096])
            assert nghttp2.lib.nghttp2_hd_inflate_change_table_size(nghttp2.inflater, size) == 0
            encoder.setMaxTableSize(size)
        headers = randomHeaders(rng)
        assert nghttp2.inflate(encoder.encode(headers)) == headers


def test_decoder_reads_what_nghttp2_writes(nghttp2):
    """The decoder decodes nghttp2's blocks (random lists, fixed seed) to
    the lists encoded, its table size updates included."""
    rng = random.Random(7230)
    decoder = Decoder()
    for round in range(300):
        if round % 60 == 59:
            size = rng.choice([0, 256, 4096])
            decoder.maxTableSize = size
            assert nghttp2.lib.nghttp2_hd_deflate_change_table_size(nghttp2.deflater, size) == 0
        headers = randomHeaders(rng)
        assert decoder.decode(nghttp2.deflate(headers)) == headers
