"""Read what can be read from an addml.xml that breaks the schema the way real ones do.

Descriptions written by hand or by old tools (a 1989 description re-typed into ADDML 8 is the
classic) put ``flatFileDefinitions`` and ``structureTypes`` beside ``flatFiles`` instead of in it,
misspell elements (``recordDfinition``, ``flatFileDefintion``, ``fielDefinitionReference``), keep
ADDMML 7 names (``rectype``, ``primkey``) or ADDMML 7 leftovers (``delimspec``, ``nu_records``),
write a wrapper in the singular (``<recordDefinition>`` around the record definitions), put text
where the schema wants children (``<nullValues>9999</nullValues>``) and misspell property names
(``numberOfOccurences``). Arkade 5 reads addml.xml with .NET's XmlSerializer, which skips what it
does not know: such a definition is then simply not there, and every file that refers to it is
reported as referring to nothing.

``repair`` works on a copy of the document and fixes what has one sensible reading, guided by the
bundled ADDML schemas (which element may hold which, in what order): a misspelled or ADDMML 7 name
becomes the ADDML name, an element in the wrong place moves to the one place the schema allows it
(the wrapper it needs is made when there is none), a singular wrapper becomes the plural, text in
``nullValues`` becomes a ``nullValue``, text in a ``property`` its ``value``. Each fix is reported
once, with the line of the element in the file, under U.01 (the schema deviation) or U.06 (a
property name); an element nothing explains is reported once and left out. What remains wrong is
reported by U.01's validation of the repaired copy, at the same lines.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from lxml import etree

from .addml_model import Problem, local
from .findings import ERROR, WARNING

XS = "{http://www.w3.org/2001/XMLSchema}"

ADDMML7_NAMES = {"rectype": "recordDefinition", "primkey": "primaryKey", "altkey": "alternateKey",
                 "forkey": "foreignKey", "nonull": "notNull"}
"""ADDMML 7 element names that have one ADDML 8 equivalent."""

MAX_LISTED = 1000
"""Mends reported one by one; beyond this the rest are counted in one line (and no longer matched by spelling:
a hostile document of a million unknown elements must not cost a million fuzzy matches)."""

PROPERTY_NAMES = ("fileName", "numberOfOccurrences", "numberOfRecords", "checksum", "algorithm", "value")
"""The flatFile property names the checks read (a misspelling of one is read as it)."""


@dataclass
class Grammar:
    """What the ADDML schemas allow: each element's children, in sequence order, and which hold text."""

    children: dict[str, dict[str, int]] = field(default_factory=dict)
    """element -> {child: position in the sequence}; the alternatives of a choice share a position."""
    parents: dict[str, set[str]] = field(default_factory=dict)
    element_only: set[str] = field(default_factory=set)

    @property
    def names(self) -> set[str]:
        return set(self.children)


@lru_cache(maxsize=1)
def grammar() -> Grammar:
    """Parent/child relations of the bundled ADDML 8.3 and 8.2 schemas (global elements with refs)."""
    g = Grammar()
    for version in ("8.3", "8.2"):
        data = resources.files("extractor.schemas").joinpath(f"addml-{version}.xsd").read_bytes()
        schema = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        for el in schema.findall(f"{XS}element"):
            name = el.get("name", "")
            kids = g.children.setdefault(name, {})
            ctype = el.find(f"{XS}complexType")
            if ctype is None:
                continue
            if ctype.get("mixed") != "true" and (ctype.find(f"{XS}sequence") is not None
                                                 or ctype.find(f"{XS}choice") is not None):
                g.element_only.add(name)
            _collect(ctype, kids, [0])
    for parent, kids in g.children.items():
        for child in kids:
            g.parents.setdefault(child, set()).add(parent)
    return g


def _collect(node: etree._Element, kids: dict[str, int], pos: list[int], in_choice: bool = False) -> None:
    for part in node:
        tag = part.tag if isinstance(part.tag, str) else ""
        if tag == f"{XS}element" and part.get("ref"):
            kids.setdefault(part.get("ref", "").split(":")[-1], pos[0])
            if not in_choice:
                pos[0] += 1
        elif tag == f"{XS}sequence":
            _collect(part, kids, pos, False)
        elif tag == f"{XS}choice":
            _collect(part, kids, pos, True)
            pos[0] += 1


def distance(a: str, b: str) -> int:
    """Edit distance with transpositions (optimal string alignment), case-insensitive."""
    a, b = a.lower(), b.lower()
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


@lru_cache(maxsize=4096)
def closest(name: str, candidates: frozenset[str] | tuple[str, ...],
            preferred: frozenset[str] | None = None) -> str | None:
    """The one candidate ``name`` is a misspelling of (at most 2 edits, fewer for short names), if any."""
    limit = 2 if len(name) >= 8 else 1
    scored = sorted((distance(name, c), c) for c in candidates if abs(len(c) - len(name)) <= limit)
    best = [c for d, c in scored if d == scored[0][0]] if scored else []
    if not best or scored[0][0] > limit or scored[0][0] == 0 and best[0] == name:
        return None
    if len(best) > 1 and preferred:
        best = [c for c in best if c in preferred] or best
    return best[0] if len(best) == 1 else None


class _Repair:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.ns = etree.QName(root).namespace
        self.g = grammar()
        self.problems: list[Problem] = []
        self.unlisted = 0
        self.names = frozenset(self.g.names)
        self.done: dict[int, etree._Element] = {}
        """Elements already walked, by id; the element is kept so that its proxy (and id) stay the same."""

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}" if self.ns else name

    def report(self, el: etree._Element, message: str, check: str = "U.01", severity: str = ERROR) -> None:
        if len(self.problems) >= MAX_LISTED:
            self.unlisted += 1
            return
        line = el.sourceline
        self.problems.append(Problem(severity, f"line {line}: {message}" if line else message, check))

    @property
    def flooded(self) -> bool:
        return len(self.problems) >= MAX_LISTED

    def run(self) -> None:
        self.visit(self.root)

    def visit(self, el: etree._Element) -> None:
        if id(el) in self.done:
            return
        self.done[id(el)] = el
        parent = local(el)
        for c in list(el):
            if not isinstance(c.tag, str) or c.getparent() is not el:
                continue  # comments, processing instructions; or moved away meanwhile
            if not self.name(c, parent):
                continue
            self.text(c)
            if local(c) not in self.g.children.get(parent, {}) and parent in self.g.children:
                if not self.place(c, el):
                    continue
            self.visit(c)
        self.order(el)
        holder = el.getparent()
        owner = holder.getparent() if holder is not None else None
        if parent == "property" and owner is not None and local(owner) in ("flatFile", "property"):
            self.property_name(el)

    def name(self, c: etree._Element, parent: str) -> bool:
        """Give ``c`` its ADDML name; False when it has none (reported and left out)."""
        name = local(c)
        ns = etree.QName(c).namespace
        allowed = set(self.g.children.get(parent, {}))
        if ns != self.ns:
            if name in self.g.names:
                self.report(c, f"<{name}> is not in the ADDML namespace ({ns or 'none'}); read as ADDML's <{name}>")
                c.tag = self.q(name)
                return True
            self.report(c, f"<{name}> (namespace {ns or 'none'}) is not ADDML; left out")
            c.getparent().remove(c)
            return False
        if name in self.g.names:
            if name not in allowed and name + "s" in allowed and parent in self.g.children:
                self.singular_wrapper(c, name)
            return True
        new = ADDMML7_NAMES.get(name)
        why = "an ADDMML 7 name"
        if new is None and not self.flooded:
            new = closest(name, self.names, frozenset(allowed))
            why = "a misspelling"
        if new is None:
            self.report(c, f"<{name}> in <{parent}> is not an ADDML element; left out (Arkade 5 skips it too)")
            c.getparent().remove(c)
            return False
        self.report(c, f"<{name}> is {why} of <{new}>; read as <{new}> (Arkade 5 skips the element and all in it)")
        c.tag = self.q(new)
        if new not in allowed and new + "s" in allowed:
            self.singular_wrapper(c, new)
        return True

    def singular_wrapper(self, c: etree._Element, name: str) -> None:
        """``<recordDefinition>`` where ``<recordDefinitions>`` belongs: a wrapper in the singular, or one
        definition without its wrapper."""
        plural = name + "s"
        holds_its_kind = any(isinstance(k.tag, str) and (local(k) == name or closest(local(k), (name,)) == name
                                                         or ADDMML7_NAMES.get(local(k)) == name) for k in c)
        if holds_its_kind and c.get("name") is None:
            self.report(c, f"<{name}> holds the {name} elements; read as the wrapper <{plural}>")
            c.tag = self.q(plural)

    def text(self, c: etree._Element) -> None:
        """Text where the schema wants children: a nullValues' text is its one nullValue, a property's its value."""
        name = local(c)
        content = (c.text or "").strip()
        if not content or name not in self.g.element_only:
            return
        if name == "nullValues" and not any(isinstance(k.tag, str) for k in c):
            self.report(c, f"<nullValues> holds the text {content!r}, not <nullValue> elements; read as one nullValue")
            c.text = None
            etree.SubElement(c, self.q("nullValue")).text = content
        elif name == "property" and not any(isinstance(k.tag, str) and local(k) == "value" for k in c):
            self.report(c, f"<property name={c.get('name')!r}> holds the text {content!r}, not a <value>; read as its "
                           "value")
            c.text = None
            etree.SubElement(c, self.q("value")).text = content
            c.insert(0, c[-1])

    def place(self, c: etree._Element, el: etree._Element) -> bool:
        """Move ``c`` from ``el`` to where the schema allows it; False when there is no such place."""
        name, parent = local(c), local(el)
        homes = self.g.parents.get(name, set())
        if len(homes) != 1:
            self.report(c, f"<{name}> is not allowed inside <{parent}>, and ADDML allows it in "
                           f"{'several places' if homes else 'no place'}, so where it belongs cannot be told; left out")
            el.remove(c)
            return False
        target = next((s for s in el if isinstance(s.tag, str) and s is not c and local(s) in homes), None)
        made = False
        if target is None:
            wrapper = next((h for h in sorted(homes) if h in self.g.children.get(parent, {})), None)
            if wrapper is not None:
                target = etree.Element(self.q(wrapper))
                self.insert(el, target)
                made = True
        if target is None:
            scope = next((a for a in c.iterancestors() if local(a) == "dataset"), self.root)
            found = [x for x in scope.iter() if isinstance(x.tag, str) and local(x) in homes and x is not c]
            target = found[0] if len(found) == 1 else None
        if target is None:
            where = " or ".join(f"<{h}>" for h in sorted(homes)) or "nowhere"
            self.report(c, f"<{name}> is inside <{parent}>; ADDML allows it only in {where}, and there is no such "
                           "place to read it from; left out")
            el.remove(c)
            return False
        self.report(c, f"<{name}> is inside <{parent}>, not <{local(target)}>; read as part of <{local(target)}>"
                       f"{' (made for it)' if made else ''} (Arkade 5 does not see it where it is)")
        self.insert(target, c)
        if made:
            self.visit(target)  # a new wrapper is not among the children being walked: read it (and c) now
        elif id(target) in self.done:
            self.visit(c)  # its new parent was read already: read it now
        return False

    def insert(self, parent: etree._Element, child: etree._Element) -> None:
        """Put ``child`` where the schema's sequence puts it among ``parent``'s children."""
        order = self.g.children.get(local(parent), {})
        rank = order.get(local(child), len(order))
        old = child.getparent()
        if old is not None:
            old.remove(child)
        pos = 0
        for n, k in enumerate(parent):
            if isinstance(k.tag, str) and order.get(local(k), len(order)) <= rank:
                pos = n + 1
        parent.insert(pos, child)

    def order(self, el: etree._Element) -> None:
        """Children in another order than the schema's sequence: reported and read in the schema's order."""
        order = self.g.children.get(local(el), {})
        if not order:
            return
        items = list(el)
        ranks: list[int] = []
        rank = -1
        for k in items:
            if isinstance(k.tag, str):
                rank = order.get(local(k), rank)
            ranks.append(rank)
        if ranks == sorted(ranks):
            return
        highest = -1
        last = ""
        for k, r in zip(items, ranks, strict=True):
            if isinstance(k.tag, str):
                if r < highest:
                    self.report(k, f"<{local(k)}> comes after <{last}> in <{local(el)}>; ADDML wants it before; "
                                   "read anyway")
                elif r > highest:
                    highest, last = r, local(k)
        ordered = [k for _, _, k in sorted(zip(ranks, range(len(items)), items, strict=True))]
        for k in ordered:
            el.append(k)

    def property_name(self, prop: etree._Element) -> None:
        name = prop.get("name", "")
        if name in PROPERTY_NAMES or self.flooded:
            return
        new = closest(name, PROPERTY_NAMES)
        if new is not None:
            self.report(prop, f"property {name!r} is a misspelling of {new!r}; read as {new!r} (Arkade 5 does not "
                              "find it)", "U.06", WARNING)
            prop.set("name", new)


def repair(root: etree._Element) -> tuple[etree._Element, list[Problem]]:
    """A repaired copy of an ADDML document and what was repaired (each once, with its line).

    The document itself is returned, untouched, when nothing needed repair.
    """
    work = _Repair(copy.deepcopy(root))
    work.run()
    if not work.problems:
        return root, []
    if work.unlisted:
        work.problems.append(Problem(ERROR, f"... and {work.unlisted:,} more deviations from the schema, mended the same "
                                            "way but not listed (the description is far from ADDML)", "U.01"))
    return work.root, work.problems
