from refweb.runner import main
main()
