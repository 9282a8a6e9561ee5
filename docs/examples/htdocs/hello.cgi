#!/usr/bin/env python3
# A CGI program: the request arrives in environment variables (and stdin).
import os

print("Content-Type: text/plain")
print()  # the blank line that ends the CGI header block
print("method=%s" % os.environ["REQUEST_METHOD"])
print("query=%s" % os.environ.get("QUERY_STRING", ""))
print("path_info=%s" % os.environ.get("PATH_INFO", ""))
