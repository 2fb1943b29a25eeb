from devaipod.cli import main

main()
