# -*- test-case-name: tests.test_tap -*-
"""``refweb web``: the web server the command line builds.

Guide: "Running a Twisted Web Server" (``twistd web --path``, ``--help``),
"Serving WSGI Applications" (``--wsgi=helloworld.application``) and
"Spreadable Web Servers" (``--user``, ``--personal``).

Journey: refweb.runner parses the global options, then hands the rest of
the command line to ``parseArgs`` here (usage errors are raised before
anything forks).  In the server process ``makeService`` builds the root
resource, wraps it in a Site, and returns one listening service per
``--listen`` endpoint.

Exactly one option chooses the root: ``--path`` (a static.File with ``.rpy``
and ``.cgi`` processing on), ``--class``, ``--resource-script``, ``--wsgi``
or ``--user``; with none, a small demo page.  Resolving dotted names and
importing modules waits for ``makeService``, in the server process.

Start reading at ``makeService``, then ``makeRoot``.
"""

import os
import re
import sys
import textwrap

from refweb import resource
from refweb.application import service as service_module
from refweb.internet import endpoints
from refweb.options import (EXAMPLES, Option, StartupError, UsageError, callUserCode,
                            formatHelp, loadNamed, parseOptions, shortPath,
                            versionText)
from refweb.python.reflect import describeKind

COMMAND = "refweb web"
PERSONAL_SOCKET = "~/.refweb-web-pb"  # where `--personal` listens; `--user` looks there

WEB_OPTIONS = [
    Option("add-header", None, "HEADER", "Add the header 'Name: value' to "
           "every response (repeatable).", repeat=True),
    Option("allow-ignore-ext", None, help="Let a request for 'foo' be answered "
           "by 'foo.EXT' for any extension (with --path)."),
    Option("certificate", "c", "FILE", "TLS certificate for --https (older "
           "spelling; prefer --listen ssl:...).", default="server.pem"),
    Option("class", None, "NAME", "Serve an instance of this Resource class, "
           "a dotted name, made with no arguments."),
    Option("display-tracebacks", None, help="Show the traceback of an error "
           "while rendering to the client. WARNING: this can reveal private "
           "data; use it only while developing.", dest="tracebacks"),
    Option("help", None, help="Display this help and exit."),
    Option("https", None, "PORT", "Also serve HTTPS on this port with -c and -k "
           "(older spelling; prefer --listen ssl:PORT:privateKey=...)."),
    Option("index", "i", "NAME", "A file name to look for as a folder's index "
           "page (repeatable; replaces the default list index, index.html, "
           "index.htm, index.rpy).", repeat=True),
    Option("ignore-ext", None, "EXT", "Let a request for 'foo' be answered by "
           "'foo.EXT' (repeatable; tried in order).", repeat=True),
    Option("journey", None, help="Log the steps each request took, by their number in "
           "docs/internals/design.rst, with the time each took ('journey' lines), for learning."),
    Option("privkey", "k", "FILE", "TLS private key for --https (older "
           "spelling; prefer --listen ssl:...).", default="server.pem"),
    Option("logfile", "l", "FILE", "Write an access log in Combined Log Format "
           "to this file."),
    Option("listen", None, "DESC", "An endpoint to serve on: tcp:PORT"
           "[:interface=ADDR], unix:PATH[:mode=0660][:wantPID=1] or "
           "ssl:PORT:privateKey=KEY[:certKey=CERT] (repeatable). "
           "[default: tcp:8080]", repeat=True, dest="ports"),
    Option("mime-type", "m", "TYPE", "The content type of files whose "
           "extension tells nothing (with --path). [default: text/html]"),
    Option("notracebacks", "n", help="Do not show tracebacks to the client "
           "(the default; kept for old command lines).", dest="tracebacks",
           const=False),
    Option("port", "p", "DESC", "Older spelling of --listen.", repeat=True,
           dest="ports"),
    Option("path", None, "PATH", "Serve this folder (or file). Its .rpy files "
           "run as resource scripts and .cgi files as CGI programs, so serve "
           "only folders whose scripts you trust."),
    Option("personal", None, help="Publish the site to a --user server instead "
           "of serving HTTP: listen on unix:%s (mode 0600) unless --listen "
           "says otherwise." % PERSONAL_SOCKET),
    Option("processor", None, "EXT=NAME", "Serve files ending in EXT with the "
           "resource factory NAME, a dotted name (with --path; repeatable).",
           repeat=True),
    Option("resource-script", None, "FILE", "Serve the resource this .rpy "
           "file defines as the root."),
    Option("trace", None, help="Log every step of each request's walk down "
           "the resource tree ('trace:' lines), for learning."),
    Option("user", "u", help="Serve users' ~/public_html as /USER/ and their "
           "personal servers (~/.refweb-web-pb) as /USER.refweb/."),
    Option("version", None, help="Print the version and exit."),
    Option("wire", None, help="Log the raw head of every request and response "
           "('wire >>' and 'wire <<' lines; over HTTP/2, every frame), for learning."),
    Option("wsgi", None, "NAME", "Serve this WSGI application, a dotted name "
           "such as helloworld.application, as the root."),
]

EPILOG = textwrap.fill("With no option choosing the root (--path, --class, "
                       "--resource-script, --wsgi, --user) refweb serves a small "
                       "demo page.", 79) + "\n\n" + EXAMPLES

# The limits a command line may change (docs/internals/wire.rst, "Limits").
# option -> (the attribute it sets, its unit).  maxConnections is set on each
# listening port; the others on the Site, whose connections copy them.
LIMIT_OPTIONS = {
    "max-body-size": ("maxBodySize", "bytes"),
    "max-connections": ("maxConnections", "count"),
    "read-timeout": ("readTimeout", "seconds"),
    "write-timeout": ("writeTimeout", "seconds"),
    "head-timeout": ("headTimeout", "seconds"),
    "idle-timeout": ("idleTimeout", "seconds"),
    "body-timeout": ("bodyTimeout", "seconds"),
}
_LIMIT_HELP = {
    "maxBodySize": "The largest request body accepted, in bytes (a K, M or G "
                   "suffix multiplies by 1024, 1024**2, 1024**3); larger ones get 413.",
    "maxConnections": "Connections each listening port serves at once; the "
                      "next one gets 503.",
    "readTimeout": "Seconds one read of a request may wait; then 408.",
    "writeTimeout": "Seconds one write may wait on a client that does not "
                    "read; then the connection is closed.",
    "headTimeout": "Seconds a request's whole head may take to arrive; then 408.",
    "idleTimeout": "Seconds a kept-alive connection may wait for its next request.",
    "bodyTimeout": "Seconds a whole request body may take to arrive; then 408.",
}
_SIZE_SUFFIX = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
_SIZE = re.compile(r"([0-9]+)([KMG]?)\Z", re.I)
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?\Z")


def _limitDefault(attribute):
    from refweb import http
    from refweb.internet.threadedreactor import Port
    owner = Port if attribute == "maxConnections" else http.HTTPChannel
    return getattr(owner, attribute)


def _limitOptions():
    return [Option(option, None, unit.upper() if unit != "count" else "N",
                   "%s [default: %s]" % (_LIMIT_HELP[attribute], _limitDefault(attribute)),
                   dest="limit_" + attribute)
            for option, (attribute, unit) in LIMIT_OPTIONS.items()]


WEB_OPTIONS += _limitOptions()

ROOT_OPTIONS = ("path", "class", "resource_script", "wsgi", "user")
FILE_ONLY = ("index", "ignore_ext", "allow_ignore_ext", "mime_type", "processor")


# --------------------------------------------------------------------------
# parsing (in the foreground process, before any fork)
# --------------------------------------------------------------------------

def parseArgs(argv):
    """The ``web`` options -> a checked config dict (or help text to print)."""
    values, rest = parseOptions(argv, WEB_OPTIONS, COMMAND)
    if values["help"]:
        return formatHelp("refweb [options] web [web options]", WEB_OPTIONS, EPILOG)
    if values["version"]:
        return versionText()
    if rest:
        raise UsageError(COMMAND, "unexpected argument %r" % (rest[0],))
    return postOptions(values)


def postOptions(config):
    """Check the options together and fill in what they imply."""
    roots = [name for name in ROOT_OPTIONS if config[name] is not None]
    if len(roots) > 1:
        raise UsageError(COMMAND, "--%s and --%s both choose the root; give one"
                         % tuple(n.replace("_", "-") for n in roots[:2]))
    config["root"] = roots[0] if roots else None
    for name in FILE_ONLY:
        if config[name] and config["root"] != "path":
            raise UsageError(COMMAND, "--%s only applies with --path" % name.replace("_", "-"))
    _checkFiles(config)
    config["add_header"] = [_splitHeader(h) for h in config["add_header"]]
    config["processor"] = [_splitProcessor(p) for p in config["processor"]]
    config["ignore_ext"] = [_dotted(ext) for ext in config["ignore_ext"]]
    for name in ("class", "wsgi"):
        if config[name] is not None:
            _checkDottedName("--" + name, config[name])
    config["ports"] = _ports(config)
    config["limits"] = _limits(config)
    return config


def _limits(config):
    """{attribute: value} for every limit option given, each checked."""
    limits = {}
    for option, (attribute, unit) in LIMIT_OPTIONS.items():
        text = config.pop("limit_" + attribute)
        if text is None:
            continue
        if unit == "seconds":
            if not _SECONDS.match(text) or float(text) <= 0:
                raise UsageError(COMMAND, "--%s wants a number of seconds above 0, "
                                 "such as 30 or 2.5, not %r" % (option, text))
            limits[attribute] = float(text)
            continue
        match = _SIZE.match(text) if unit == "bytes" else re.match(r"([0-9]+)()\Z", text)
        if not match or int(match.group(1)) < 1:
            raise UsageError(COMMAND, "--%s wants a whole number above 0%s, not %r"
                             % (option, " (with K, M or G)" if unit == "bytes" else "", text))
        limits[attribute] = int(match.group(1)) * _SIZE_SUFFIX[match.group(2).upper()]
    return limits


def _checkFiles(config):
    for name in ("path", "resource_script", "logfile"):
        if config[name]:
            config[name] = os.path.abspath(os.path.expanduser(config[name]))
    for name in ("path", "resource_script"):
        if config[name] and not os.path.exists(config[name]):
            raise UsageError(COMMAND, "--%s: %s does not exist"
                             % (name.replace("_", "-"), config[name]))


def _splitHeader(text):
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in text for c in "\r\n"):
        raise UsageError(COMMAND, "--add-header wants 'Name: value', not %r" % (text,))
    return name.strip(), value.strip()


def _dotted(ext):
    return ext if ext.startswith(".") or ext == "*" else "." + ext


def _splitProcessor(text):
    ext, sep, name = text.partition("=")
    if not sep or not ext:
        raise UsageError(COMMAND, "--processor wants EXT=NAME such as "
                         ".foo=mymodule.FooResource, not %r" % (text,))
    _checkDottedName("--processor", name)
    return _dotted(ext), name


def _checkDottedName(option, name):
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise UsageError(COMMAND, "%s wants a dotted name such as "
                         "package.module.thing, not %r" % (option, name))


def _ports(config):
    """Every endpoint to listen on, each checked by endpoints.parse."""
    ports = list(config["ports"])
    if config["https"]:
        ports.append("ssl:%s:privateKey=%s:certKey=%s" % (
            config["https"], endpoints.quote(config["privkey"]),
            endpoints.quote(config["certificate"])))
    if not ports:
        if config["personal"]:
            path = os.path.expanduser(PERSONAL_SOCKET)
            ports.append("unix:%s:mode=0600" % (endpoints.quote(path),))
        else:
            ports.append("tcp:8080")
    for description in ports:
        try:
            endpoints.parse(description)
        except endpoints.BadDescription as exc:
            raise UsageError(COMMAND, str(exc)) from None
    return ports


# --------------------------------------------------------------------------
# building (in the server process)
# --------------------------------------------------------------------------

def _fileRoot(config):
    from refweb import script, static, twcgi
    root = static.File(_afterChroot(config, config["path"]))
    root.processors = {".rpy": script.ResourceScript, ".cgi": twcgi.CGIScript}
    # The pid and log files (refweb's, and --logfile's) are written in the
    # current folder, which is often the one served: never list nor serve them.
    hidden = list(config.get("hide", ())) + [config["logfile"]]
    root.hiddenPaths = frozenset(_afterChroot(config, os.path.realpath(p))
                                 for p in hidden if p and p != "-") - {None}
    if config["mime_type"]:
        root.defaultType = config["mime_type"]
    if config["index"]:
        root.indexNames = list(config["index"])
    for ext in config["ignore_ext"]:
        root.ignoreExt(ext)
    if config["allow_ignore_ext"]:
        root.ignoreExt("*")
    for ext, name in config["processor"]:
        root.processors[ext] = loadNamed("--processor", name)
    return root


def _classRoot(config):
    name = config["class"]
    return callUserCode("--class " + name, loadNamed("--class", name))


def _scriptRoot(config):
    """The wrapper runs the script for each request; it is run once now too,
    so a script that cannot give a resource stops the start, in one line,
    rather than answering 500 to every request."""
    from refweb import script
    wrapper = script.ResourceScriptWrapper(_afterChroot(config, config["resource_script"]))
    callUserCode("--resource-script " + shortPath(config["resource_script"]),
                 script.runScript, config["resource_script"], wrapper.registry)
    return wrapper



def _afterChroot(config, path):
    """``path`` as the server will find it: with ``refweb --chroot DIR`` the
    paths given (checked to lie inside DIR by the runner) are taken as the
    user wrote them, before the chroot, then seen from the new root
    ('/srv/jail/site' -> '/site'); the resources are built before the
    chroot, and read files only after it."""
    from refweb.process import pathInRoot
    root = config.get("chroot")
    if not root or not path:
        return path
    return pathInRoot(path, os.path.realpath(root))


# The --wsgi pool: the size of Twisted's ThreadPool(), which `twistd web
# --wsgi` uses; at most this many requests run in the application at once.
WSGI_MIN_THREADS, WSGI_MAX_THREADS = 5, 20


def _wsgiRoot(config):
    from refweb.internet import reactor
    from refweb.python.threadpool import ThreadPool
    from refweb.wsgi import WSGIResource
    application = loadNamed("--wsgi", config["wsgi"])
    if not callable(application):
        # Found now, at start, rather than as a 500 on every request.
        raise StartupError("--wsgi %s is %s, not a WSGI application (a callable "
                           "taking environ and start_response)"
                           % (config["wsgi"], describeKind(application)))
    pool = ThreadPool(WSGI_MIN_THREADS, WSGI_MAX_THREADS, name="refweb-wsgi")
    pool.start()
    # What is left of shutdownGrace, not 10 s per thread: an application
    # blocked past the grace is abandoned (its threads are daemons).
    reactor.addSystemEventTrigger("after", "shutdown",
                                  lambda: pool.stop(timeout=reactor.graceLeft()))
    return WSGIResource(reactor, pool, application)


def _userRoot(config):
    from refweb import distrib
    return distrib.UserDirectory()


class DemoPage(resource.Resource):
    """What ``refweb web`` serves when no option chose a root."""

    isLeaf = True

    def render_GET(self, request):
        return ("<!DOCTYPE html>\n<html><head><title>refweb demo</title></head><body>\n"
                "<h1>refweb is running</h1>\n"
                "<p>This is the demo page of <code>refweb web</code>. Serve a folder "
                "with <code>refweb web --path DIR</code>, a WSGI application with "
                "<code>--wsgi module.app</code>; <code>refweb web --help</code> "
                "lists every option.</p>\n</body></html>\n")


class AddHeadersResource(resource.Resource):
    """Wraps the root so every response carries the ``--add-header`` headers."""

    def __init__(self, original, headers):
        resource.Resource.__init__(self)
        self.original = original
        self.headers = headers
        # a leaf root (a WSGI app, say) must still see the whole path
        self.isLeaf = getattr(original, "isLeaf", False)

    def _addHeaders(self, request):
        for name, value in self.headers:
            request.responseHeaders.addRawHeader(name, value)

    def getChildWithDefault(self, name, request):
        self._addHeaders(request)
        return self.original.getChildWithDefault(name, request)

    def render(self, request):
        self._addHeaders(request)
        return self.original.render(request)

    def describeInner(self):
        return resource.describeWrapped(self.original)


ROOTS = {"path": _fileRoot, "class": _classRoot, "resource_script": _scriptRoot,
         "wsgi": _wsgiRoot, "user": _userRoot, None: lambda config: DemoPage()}


def makeRoot(config):
    """The root resource the options chose."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # --wsgi helloworld.app finds ./helloworld.py
    root = ROOTS[config["root"]](config)
    if config["add_header"]:
        root = AddHeadersResource(root, config["add_header"])
    return root


def makeService(config):
    """A MultiService: one listening service per endpoint, all for one Site."""
    from refweb import server
    from refweb.application import service, strports
    site = server.Site(makeRoot(config), logPath=_afterChroot(config, config["logfile"]),
                       displayTracebacks=bool(config["tracebacks"]),
                       trace=bool(config["trace"]), wire=bool(config["wire"]),
                       journey=bool(config["journey"]))
    factory = site
    if config["personal"]:
        from refweb import distrib
        factory = distrib.ResourcePublisher(site)
    limits = dict(config.get("limits", {}))
    maxConnections = limits.pop("maxConnections", None)
    for attribute, value in limits.items():
        setattr(site, attribute, value)  # each connection copies it (http.LIMIT_NAMES)
    services = _PortsService(maxConnections)
    for description in config["ports"]:
        strports.service(description, factory).setServiceParent(services)
    return services


class _PortsService(service_module.MultiService):
    """The listening services of one ``refweb web``; sets ``--max-connections``
    on each port once it is bound (a Port reads it at every new connection)."""

    def __init__(self, maxConnections=None):
        service_module.MultiService.__init__(self)
        self.maxConnections = maxConnections

    def _limitPorts(self):
        if self.maxConnections is None:
            return
        for child in self:
            if getattr(child, "_port", None) is not None:
                child._port.maxConnections = self.maxConnections

    def privilegedStartService(self):
        service_module.MultiService.privilegedStartService(self)
        self._limitPorts()

    def startService(self):
        service_module.MultiService.startService(self)
        self._limitPorts()
