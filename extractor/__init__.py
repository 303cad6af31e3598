"""uttrekk: relational databases to archival extracts (ADDML flat files) that depots accept."""

__version__ = "0.1.0"
