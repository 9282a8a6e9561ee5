# Run the .tac in the foreground.
python -m refweb -ny wsgi_hello.tac
