"""The DIAS submission package and its info file (issue 5)."""
