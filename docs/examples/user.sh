# The user server: /USER/ is ~USER/public_html, /USER.refweb/ is USER's personal server.
python -m refweb -n web --user --listen tcp:${PORT:-8080}:interface=127.0.0.1
