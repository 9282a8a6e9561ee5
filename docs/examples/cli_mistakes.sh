# What refweb answers to some first mistakes: each command fails, with a line or two.
attempt() { echo "\$ refweb $*"; python -m refweb "$@" 2>&1; echo "(exit status $?)"; echo; }
printf 'def application(environ start_response):\n    return []\n' > broken.py
attempt -n web --wsgi broken.application
attempt -n web --wsgi json.nosuchattr
attempt -n --path . web
attempt -n web --pth .
