"""`python -m lingcode` runs the same entry point as the `lingcode` console script."""

from lingcode.cli import main

if __name__ == "__main__":
    main()
