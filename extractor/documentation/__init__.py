"""Documentation written into every extract, beside ``content/``: ``documentation/``.

- ``beskrivelse.txt``: structure and content as plain ISO 8859-1 text (the depot rule), readable
  without software;
- ``oversikt.html``: the same as one self-contained web page, with an ER diagram (inline SVG);
- ``uttrekkslogg.txt``: the extraction log (what, when, from where, excluded, changed, warnings).

All three are rendered from one model (``model.build``) of the same plan and file results
addml.xml is written from, so they say what addml.xml says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..plan import Plan
from . import htmlpage, text
from .model import build

FOLDER = "documentation"
FILES = ("beskrivelse.txt", "oversikt.html", "uttrekkslogg.txt")


def write_documentation(folder: Path, plan: Plan, result: Any, report: dict[str, Any], deviations: Path) -> None:
    """Write the three files into ``folder`` (the extract's ``documentation/``, inside staging)."""
    doc = build(plan, result, report, deviations)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "beskrivelse.txt", "wb", buffering=1 << 20) as out:
        text.write_beskrivelse(out, doc)
    with open(folder / "oversikt.html", "wb", buffering=1 << 20) as out:
        htmlpage.write_page(out, doc)
    with open(folder / "uttrekkslogg.txt", "wb", buffering=1 << 20) as out:
        text.write_uttrekkslogg(out, doc)
