# Every option of `refweb web`, with its help line.
python -m refweb web --help
