"""Applications and services: what ``refweb -y app.tac`` runs.

Guide: "Advanced Configuration" and "Serving WSGI Applications".

    service   Service, MultiService, Application, IService, IServiceCollection
    internet  TCPServer, UNIXServer, SSLServer: services that listen when started
    strports  service('tcp:8080', site): a listening service from a description
    app       loadApplication(path) for .tac files; startApplication / stopApplication

Import them the guide's way: ``from refweb.application import internet, service``.

Start reading at ``service``, then ``app``.
"""
