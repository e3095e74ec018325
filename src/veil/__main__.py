"""`python -m veil` runs the command line."""

from veil.cli import main

if __name__ == "__main__":
    main()
