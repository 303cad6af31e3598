"""Validate an ADDML extract the way Arkade 5 does (issue 5)."""
