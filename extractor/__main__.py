"""``python -m extractor`` runs the uttrekk command line."""

from .cli import main

if __name__ == "__main__":
    main()
