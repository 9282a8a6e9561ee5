"""The module counter.rpy imports: an ordinary Python module beside the server."""


class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1

    def getValue(self):
        return self.value
