"""Validate an ADDML extract the way Arkade 5 does (issue 5), plus uttrekk's own checks.

``validate_path(path) -> Report`` reads a folder, a content folder or a DIAS ``.tar`` in place;
``command.validate`` is the ``uttrekk validate`` click command. See docs/validate.md.
"""

from __future__ import annotations

from .findings import CheckResult, Finding, Report
from .run import validate_path

__all__ = ["validate_path", "Report", "CheckResult", "Finding"]
