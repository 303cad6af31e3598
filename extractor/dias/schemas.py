"""Validation of what the packager writes against the bundled DIAS schemas (see ``extractor.schemas``)."""

from __future__ import annotations

from typing import Any

from ..schemas import INFO, METS, PREMIS, XLINK_URL, schema, schema_bytes

__all__ = ["INFO", "METS", "PREMIS", "XLINK_URL", "check", "schema", "schema_bytes"]


def check(doc: Any, name: str, what: str) -> None:
    """Validate a document uttrekk wrote; a failure is a bug in uttrekk, not a user error."""
    xsd = schema(name)
    if not xsd.validate(doc):
        raise AssertionError(f"uttrekk wrote a {what} that does not validate against {name}: {xsd.error_log}")
