"""A bottle application for the compatibility suite (tests/compat/test_frameworks.py)."""

import hashlib

import bottle

app = bottle.Bottle()
bottle.BaseRequest.MEMFILE_MAX = 1024 * 1024


@app.route("/")
def index():
    return "bottle says hello"


@app.route("/echo", method=["POST", "PUT"])
def echo():
    data = bottle.request.body.read()
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@app.route("/form", method="POST")
def form():
    return {"fields": dict(bottle.request.forms.decode())}


@app.route("/upload", method="POST")
def upload():
    upload = bottle.request.files.get("file")
    return {"filename": upload.raw_filename, "length": len(upload.file.read())}


@app.route("/stream")
def stream():
    for i in range(5):
        yield "line %d\n" % i


@app.route("/redirect")
def go():
    bottle.redirect("/")


@app.route("/cookie")
def cookie():
    seen = bottle.request.get_cookie("visits", "0")
    bottle.response.set_cookie("visits", str(int(seen) + 1))
    return seen
