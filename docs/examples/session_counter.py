"""Count each browser's visits in its Session."""
from refweb.resource import Resource


class Counter(Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()  # made, with its cookie, on the first visit
        session.visits = getattr(session, "visits", 0) + 1
        return "Visit number %d of session %s...\n" % (session.visits, session.uid[:8])


class Logout(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.getSession().expire()  # forget it: the next visit starts afresh
        return "Bye.\n"


root = Resource()
root.putChild("", Counter())
root.putChild("logout", Logout())
