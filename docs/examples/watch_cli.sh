# Serve ./htdocs and log every step of each walk (--trace) and every raw head (--wire).
python -m refweb -n web --path htdocs --trace --wire --listen tcp:${PORT:-8080}:interface=127.0.0.1
