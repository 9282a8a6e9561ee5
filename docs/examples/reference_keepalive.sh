# Why does stage 0 fail keep-alive?  Two behaviours that pass, one skipped, one that
# fails, with the bytes that went each way (-v).  Run from docs/examples/.
python -m refweb.reference --impl command \
    --command 'python3 learner_server.py {port} {root} {site}' \
    -k trees.putChild_child_found -k trees.request_uri_and_path \
    -k framing.status_line_http11 -k framing.keepalive_default_http11 -v
