# Print the resource tree hello.tac would serve, without serving it.
python -m refweb tree hello.tac
