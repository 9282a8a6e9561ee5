# -*- test-case-name: tests.test_tap -*-
"""namedAny: the object a dotted name names, as the command line gives it.

Guide: "Serving WSGI Applications" (``--wsgi=helloworld.application``) and
"Running a Twisted Web Server" (``--class``); Twisted's
``twisted.python.reflect.namedAny`` has the same name and job.

Where it sits: refweb.tap resolves ``--wsgi``, ``--class`` and
``--processor`` with it, refweb.process resolves ``--logger``; both in the
server process, once the command line is checked.  This module imports
nothing else of refweb, so both may use it without importing each other.

A name that names nothing is an ``InvalidName`` (``ModuleNotFound`` or
``ObjectNotFound``) whose message is one line a person can read: "json has
no attribute nosuchattr", never the repr of a module.  A module that exists
but fails while it is imported (a SyntaxError, an exception at import) is
the user's own code failing: that exception is raised as it is, for the
caller to report with the file and line (refweb.options.UserCodeError).

Start reading at ``namedAny``.
"""

import importlib


class InvalidName(ValueError):
    """A dotted name that names nothing; the message is one line."""


class ModuleNotFound(InvalidName):
    """No module of that name can be imported."""


class ObjectNotFound(InvalidName):
    """The module is there, the attribute is not."""


def namedAny(name):
    """The object a dotted name names: 'helloworld.application' -> the function.

    The longest prefix that imports is the module; the rest are attributes.
    """
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        moduleName = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(moduleName)
        except ModuleNotFoundError as exc:
            # Only "this very module is missing" means: try a shorter prefix.
            # A module that imports a missing one is broken, not missing.
            if exc.name and (moduleName == exc.name or moduleName.startswith(exc.name + ".")):
                continue
            raise
        return _attributes(obj, moduleName, parts[cut:])
    raise ModuleNotFound("no module named %s (is its folder the current one, or on "
                         "PYTHONPATH?)" % (parts[0],))


def _attributes(obj, found, names):
    for attribute in names:
        try:
            obj = getattr(obj, attribute)
        except AttributeError:
            raise ObjectNotFound("%s has no attribute %s" % (found, attribute)) from None
        found += "." + attribute
    return obj


_KINDS = {int: "an integer", float: "a number", complex: "a number", bool: "True or False",
          str: "a string", bytes: "a bytes string", list: "a list", tuple: "a tuple",
          dict: "a dictionary", set: "a set", type(None): "None"}


def describeKind(obj):
    """What ``obj`` is, as a person says it: 'a module', 'an integer', 'None',
    'a Greeting object' -- never its repr (which may be long, or private)."""
    if isinstance(obj, type(importlib)):
        return "a module"
    for kind, words in _KINDS.items():
        if type(obj) is kind:
            return words
    if isinstance(obj, type):
        return "the class %s" % (obj.__name__,)
    name = type(obj).__name__
    return "%s %s object" % ("an" if name[:1].lower() in "aeiou" else "a", name)
