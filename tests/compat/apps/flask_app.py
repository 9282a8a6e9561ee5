"""A Flask application for the compatibility suite (tests/compat/test_frameworks.py)."""

import hashlib

from flask import Flask, Response, redirect, request, session, stream_with_context

app = Flask(__name__)
app.secret_key = "compat-suite-only"
app.config["MAX_CONTENT_LENGTH"] = None


@app.route("/")
def index():
    return "flask says hello"


@app.route("/echo", methods=["POST", "PUT"])
def echo():
    data = request.get_data()
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "contentLength": request.content_length}


@app.route("/form", methods=["POST"])
def form():
    return {"fields": request.form.to_dict(flat=False)}


@app.route("/upload", methods=["POST"])
def upload():
    files = {name: {"filename": f.filename, "length": len(f.read())}
             for name, f in request.files.items()}
    return {"files": files, "fields": request.form.to_dict()}


@app.route("/stream")
def stream():
    def generate():
        for i in range(5):
            yield "line %d\n" % i
    return Response(stream_with_context(generate()), mimetype="text/plain")


@app.route("/redirect")
def go():
    return redirect("/")


@app.route("/login", methods=["POST"])
def login():
    session["user"] = request.form["user"]
    return "logged in"


@app.route("/whoami")
def whoami():
    return session.get("user", "nobody")


@app.route("/environ")
def environ():
    keys = ("SERVER_SOFTWARE", "SCRIPT_NAME", "PATH_INFO", "wsgi.input_terminated")
    return {k: request.environ.get(k) for k in keys}
