"""What a depot needs besides the data: the metadata Arkivverket's ADDML profile requires.

An extract without an archival period fails U.02 (and so the depot's test); one without an archive
creator cannot be packaged; one without a system name is warned about. The user must learn this
when extracting, not at the last step, so ``extract`` names each missing item with the profile key
and the option that gives it, and ``--strict`` refuses to start without them
(``pipeline.check_descriptions``). The same texts are
the fixes ``validate`` gives for its U.02 findings.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import ConfigError
from .profile import Metadata


@dataclass(frozen=True)
class Need:
    """One item of depot metadata: what it is, where it goes, how to give it."""

    what: str
    keys: tuple[str, ...]
    option: str
    why: str

    @property
    def fix(self) -> str:
        keys = " and ".join(f"[metadata] {k}" for k in self.keys)
        return f"give {self.option} to extract, or set {keys} in the profile"


NEEDS = (
    Need("archival period (arkivperiode)", ("period_start", "period_end"), "--period START..END",
         "addml.xml's content/archivalPeriod; without it the ADDML profile test (U.02, §1.4.7) fails"),
    Need("archive creator (arkivskaper)", ("archive_creator",), "--archive-creator NAME",
         "the recordCreator agent in addml.xml; the DIAS package cannot be made without it"),
    Need("system name (fagsystemets navn)", ("system_name",), "--system-name NAME",
         "addml.xml's context/system/name; U.02 warns without it"),
)


SIARD_WHY = {
    "archival period (arkivperiode)": "metadata.xml's dataOriginTimespan and the package's STARTDATE/ENDDATE; "
                                      "without it they say (ikke oppgitt)",
    "archive creator (arkivskaper)": "metadata.xml's dataOwner; the DIAS package cannot be made without it",
    "system name (fagsystemets navn)": "metadata.xml's dbname and the package's system agents; the source's name "
                                       "stands in without it",
}
"""Where each item goes in a SIARD extract (``--format siard``), which has no addml.xml."""


def missing(md: Metadata, fmt: str = "") -> list[Need]:
    """The items of ``NEEDS`` the metadata does not give (``fmt`` "siard": said for a SIARD extract)."""
    needs = [n for n in NEEDS if not all(getattr(md, k).strip() for k in n.keys)]
    if fmt == "siard":
        needs = [Need(n.what, n.keys, n.option, SIARD_WHY[n.what]) for n in needs]
    return needs


def missing_block(needs: list[Need]) -> str:
    """The lines ``extract`` ends with when the depot would refuse the extract for its metadata."""
    if not needs:
        return ""
    lines = [f"The depot needs {len(needs)} thing(s) this extract does not say yet (Arkivverket's ADDML profile):"]
    for n in needs:
        lines.append(f"  - {n.what}: {n.fix} ({n.why})")
    lines.append("Extract again with them (the extract is valid otherwise); 'uttrekk profile init SOURCE' suggests "
                 "the archival period from the date columns.")
    return "\n".join(lines)


_YEAR = re.compile(r"\d{4}")


def parse_period(text: str) -> tuple[str, str]:
    """``--period START..END``: ISO dates, or years (the whole year): ``1998..2024``; one year alone
    is that year."""
    start, sep, end = text.strip().partition("..")
    if not sep and _YEAR.fullmatch(start.strip()):
        end = start
    elif not sep:
        raise ConfigError(f"--period {text!r}: give START..END, e.g. 1998-01-01..2024-12-31 or 1998..2024")
    return _day(start.strip(), text, first=True), _day(end.strip(), text, first=False)


def _day(part: str, text: str, first: bool) -> str:
    if _YEAR.fullmatch(part):
        return f"{part}-01-01" if first else f"{part}-12-31"
    try:
        return dt.date.fromisoformat(part).isoformat() if len(part) == 10 else _bad(text)
    except ValueError:
        return _bad(text)


def _bad(text: str) -> str:
    raise ConfigError(f"--period {text!r}: {text!r} is not START..END with dates YYYY-MM-DD or years YYYY")
