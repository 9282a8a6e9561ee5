# A personal server: publishes ./htdocs on the UNIX socket ~/.refweb-web-pb.
python -m refweb -n web --personal --path htdocs
