"""Relations the source does not declare, found in its data (``uttrekk inspect --keys``).

``find`` runs the comparisons (its SQL is the dialect's), ``names`` weighs column names,
``candidates`` holds what is found, ``listing`` shows it, ``profile_edit`` adds it to a profile.
"""

from .candidates import Candidate, Relations
from .find import find_relations
from .listing import format_relations, terminal_progress
from .names import NAME_KEY, NAME_KEYLIKE, NAME_NONE, NAME_PART, NAME_TABLE, name_evidence
from .profile_edit import add_relations, write_profile

__all__ = ["NAME_KEY", "NAME_KEYLIKE", "NAME_NONE", "NAME_PART", "NAME_TABLE", "Candidate", "Relations", "add_relations",
           "find_relations", "format_relations", "name_evidence", "terminal_progress", "write_profile"]
