# A resource script with state that outlives one request, kept in `registry`.
from refweb import resource
from SillyWeb import Counter

counter = registry.getComponent(Counter)
if not counter:
    registry.setComponent(Counter, Counter())
counter = registry.getComponent(Counter)


class MyResource(resource.Resource):
    def render_GET(self, request):
        counter.increment()
        return "you are visitor %d" % counter.getValue()


resource = MyResource()
