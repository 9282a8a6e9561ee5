"""HTTP/2 by hand: frames (frames.py), HPACK (hpack.py, huffman.py), the connection (connection.py), the channel (channel.py)."""
