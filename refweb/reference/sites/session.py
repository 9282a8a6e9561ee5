"""Sessions: request.getSession() keeps one Session per browser, by cookie ("Session")."""

from refweb.resource import Resource


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


class Counter(Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        session.visits = getattr(session, "visits", 0) + 1
        return ("visits=%d uid=%s" % (session.visits, text(session.uid))).encode("utf-8")


class Expire(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.getSession().expire()
        return b"expired"


def makeResource(root, info):
    top = Resource()
    top.putChild(b"count", Counter())
    top.putChild(b"expire", Expire())
    return top
