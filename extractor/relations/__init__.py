"""Relations the source does not declare, found in its data (``uttrekk inspect --keys``)."""

from .find import (
    NAME_KEY,
    NAME_KEYLIKE,
    NAME_NONE,
    NAME_PART,
    NAME_TABLE,
    Candidate,
    Relations,
    find_relations,
    format_relations,
    name_evidence,
    terminal_progress,
    write_profile,
)

__all__ = ["NAME_KEY", "NAME_KEYLIKE", "NAME_NONE", "NAME_PART", "NAME_TABLE", "Candidate", "Relations",
           "find_relations", "format_relations", "name_evidence", "terminal_progress", "write_profile"]
