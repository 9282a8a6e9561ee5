# Serve htdocs on a cleartext port, every frame logged: a client that opens
# with the HTTP/2 preface (prior knowledge) is answered in HTTP/2.
python -m refweb -n web --path htdocs --wire --listen tcp:${PORT:-8080}:interface=127.0.0.1
