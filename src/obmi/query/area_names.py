"""Finding areas by what people type: their names (accents, case, hyphens and word order do not
matter; each typed word is the start of a word of the name), a few everyday names ("Vlaanderen"
for the Vlaams Gewest) and the names of former municipalities, which lead to the area they are
part of today through the geography's version links (Borsbeek → Antwerpen since 2025). Also the
tree of the current geography (region → province → municipality → wijk) for choosing by hand.
Geography only, no observations: nothing here needs disclosure control."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sqlalchemy import Connection, select

from obmi.store.tables import area, area_level, area_link

# Everyday names of areas whose official name differs: what people type for them.
ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("gewest", "2000"): ("Vlaanderen", "Flanders", "Flemish Region"),
    ("gewest", "3000"): ("Wallonië", "Wallonia", "Walloon Region"),
    ("gewest", "4000"): ("Brussel", "Brussels", "Brussels-Capital Region"),
    ("belgie", "100"): ("Belgium",),
    ("gemeente", "11002"): ("Antwerp",),
    ("gemeente", "44021"): ("Ghent",),
    ("gemeente", "31005"): ("Bruges",),
}

# Which level comes first among equally good matches: a name most often means the municipality.
LEVEL_PREFERENCE = {"gemeente": 0, "provincie": 1, "gewest": 2, "belgie": 3, "ggw7": 4, "arrondiss": 5}
TREE_LEVELS = ("gewest", "provincie", "gemeente", "ggw7")
MAX_WORDS = 8


@lru_cache(maxsize=65536)  # area names repeat on every keystroke of a type-ahead
def normalise(text: str) -> str:
    """Lower case without accents, every run of other characters one space: "Sint-Niklaas" and
    "sint niklaas" read alike, as do "Écaussinnes" and "ecaussinnes"."""
    plain = str(text).casefold()
    if not plain.isascii():
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def words_of(text: str) -> list[str]:
    return normalise(text).split()[:MAX_WORDS]


def prefix_match(typed: Iterable[str], words: Iterable[str]) -> set[str]:
    """The typed words that begin a word of `words`."""
    pool = list(words)
    return {t for t in typed if any(w.startswith(t) for w in pool)}


@dataclass(frozen=True)
class NamedArea:
    """An area of a current level, as a suggestion: found through its own name or an everyday
    name, or through a former municipality (`former`, of `former_level`, part of it `since`)."""

    id: int
    level: str
    code: str
    name: str
    level_name_nl: str
    level_name_en: str
    sort_order: int
    former: str | None = None
    former_level: str | None = None
    since: str | None = None
    names: tuple[str, ...] = field(default=(), compare=False)  # normalised names it is found by

    @property
    def key(self) -> str:
        return f"{self.level}:{self.code}"


@dataclass(frozen=True)
class AreaMatch:
    area: NamedArea
    exact: bool  # the typed text is the whole name (or code): the area meant, if it is the only one
    matched: frozenset[str]  # the typed words this area accounts for
    rank: tuple = field(compare=False, default=())


def _current_areas(conn: Connection) -> list[NamedArea]:
    rows = conn.execute(select(area.c.id, area.c.level, area.c.code, area.c.name, area_level.c.name_nl,
                               area_level.c.name_en, area_level.c.sort_order)
                        .join(area_level, area_level.c.code == area.c.level)
                        .where(area_level.c.is_current.is_(True), area.c.is_unknown.is_(False)))
    return [NamedArea(r.id, r.level, r.code, r.name, r.name_nl, r.name_en or r.name_nl, r.sort_order,
                      names=(normalise(r.name), *(normalise(a) for a in ALIASES.get((r.level, r.code), ()))))
            for r in rows]


def _version_steps(conn: Connection) -> dict[int, tuple]:
    """Old area id → (its name, level, the one area it became, that area's level, the year that
    level starts) for old areas that lie wholly in one newer area."""
    old, new = area.alias("old"), area.alias("new")
    rows = conn.execute(select(area_link.c.child_id, old.c.name.label("old_name"), old.c.level.label("old_level"),
                               old.c.is_unknown, area_link.c.parent_id, area_level.c.valid_from)
                        .join(old, old.c.id == area_link.c.child_id)
                        .join(new, new.c.id == area_link.c.parent_id)
                        .join(area_level, area_level.c.code == new.c.level)
                        .where(area_link.c.relation == "version")).all()
    targets: dict[int, list] = {}
    for r in rows:
        targets.setdefault(r.child_id, []).append(r)
    return {child: (r[0].old_name, r[0].old_level, r[0].parent_id, (r[0].valid_from or "")[:4] or None)
            for child, r in targets.items() if len(r) == 1 and not r[0].is_unknown}


def _former_names(conn: Connection, current: dict[int, NamedArea]) -> list[NamedArea]:
    """The current areas once more for each old area (of any older version) that now lies wholly
    in them under another name: the name it had, and since when it is part of today's area."""
    steps = _version_steps(conn)
    names = {i: normalise(a.name) for i, a in current.items()}
    found: dict[tuple[str, int], NamedArea] = {}
    for start, (old_name, old_level, _, _) in steps.items():
        node, since, hops = start, None, 0
        while node in steps and node not in current and hops < 10:
            _, _, target, starts = steps[node]
            name_now = normalise(current[target].name) if target in current else \
                normalise(steps[target][0]) if target in steps else None
            if since is None and name_now is not None and name_now != normalise(old_name):
                since = starts
            node, hops = target, hops + 1
        today = current.get(node)
        if today is None or names[node] == normalise(old_name):
            continue
        key = (normalise(old_name), today.id)
        if key not in found:
            found[key] = replace(today, former=old_name, former_level=old_level, since=since,
                                 names=(normalise(old_name),))
    return list(found.values())


def candidates(conn: Connection) -> list[NamedArea]:
    """Every current area, and every former name that leads to one."""
    current = {a.id: a for a in _current_areas(conn)}
    return list(current.values()) + _former_names(conn, current)


def _outside_brackets(name: str) -> list[str]:
    """The words of a name without its bracketed part: "Dampoort (Gent)" → dampoort."""
    return normalise(re.sub(r"\(.*?\)", " ", name)).split()


def _rank(candidate: NamedArea, typed: list[str], exact: bool) -> tuple:
    """Exact names first, then names starting with the typed words, then names with those
    words; last those found only through their bracketed part (the wijken "… (Gent)")."""
    joined = " ".join(typed)
    starts = any(n.startswith(joined) for n in candidate.names)
    inside = candidate.former is None and len(prefix_match(typed, _outside_brackets(candidate.name))) < len(typed)
    kind = 0 if exact else 1 if starts else 3 if inside else 2
    preference = LEVEL_PREFERENCE.get(candidate.level, 10 + candidate.sort_order / 1000)
    return (kind, preference, candidate.former is not None, len(candidate.name), normalise(candidate.name))


def _is_code(candidate: NamedArea, text: str) -> bool:
    raw = text.strip().casefold()
    return candidate.former is None and raw in (candidate.code.casefold(), candidate.key.casefold())


def match_areas(pool: list[NamedArea], text: str, *, partial: bool = False) -> list[AreaMatch]:
    """The areas of `pool` matching `text`, best first, one per area (its best way in). Every
    typed word must begin a word of one of its names, or `text` is its code or LEVEL:CODE;
    with `partial`, areas accounting for some of the words count too (for search, where the
    other words may name an indicator)."""
    typed = words_of(text)
    if not typed:
        return []
    best: dict[str, AreaMatch] = {}
    for candidate in pool:
        if _is_code(candidate, text):
            matched, exact = set(typed), True
        else:
            matched = set()
            for name in candidate.names:
                matched |= prefix_match(typed, name.split())
            exact = " ".join(t for t in typed if t in matched) in candidate.names
        if not matched or (len(matched) < len(set(typed)) and not partial):
            continue
        found = AreaMatch(candidate, exact, frozenset(matched),
                          _rank(candidate, [t for t in typed if t in matched], exact))
        known = best.get(candidate.key)
        if known is None or (-len(found.matched), found.rank) < (-len(known.matched), known.rank):
            best[candidate.key] = found
    return sorted(best.values(), key=lambda m: (-len(m.matched), m.rank))


def suggest(conn: Connection, text: str, *, limit: int = 10) -> tuple[list[AreaMatch], int]:
    """Areas for a type-ahead: the best `limit` matches of `text` and how many there are."""
    found = match_areas(candidates(conn), text)
    return found[:limit], len(found)


def resolve(matches: list[AreaMatch]) -> AreaMatch | None:
    """The one area a typed text means: the only match, or the only exact one."""
    if len(matches) == 1:
        return matches[0]
    exact = {m.area.key: m for m in matches if m.exact}
    return next(iter(exact.values())) if len(exact) == 1 else None


# --- the tree ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TreeNode:
    level: str
    code: str
    name: str
    children: tuple[TreeNode, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.level}:{self.code}"


def _reading_key(name: str) -> str:
    """Sort as people read: "'s-Gravenvoeren" under G, accents and case ignored."""
    return normalise(name.lstrip("'’ ").removeprefix("s-"))


def area_tree(conn: Connection) -> list[TreeNode]:
    """The current geography as a tree (region → province → municipality → wijk), each level's
    areas by name; regions with provinces first."""
    rows = conn.execute(select(area.c.id, area.c.level, area.c.code, area.c.name)
                        .where(area.c.level.in_(TREE_LEVELS), area.c.is_unknown.is_(False))).all()
    by_id = {r.id: r for r in rows}
    depth = {level: i for i, level in enumerate(TREE_LEVELS)}
    kids: dict[int, list[int]] = {}
    has_parent: set[int] = set()
    links = conn.execute(select(area_link.c.child_id, area_link.c.parent_id)
                         .where(area_link.c.relation == "parent", area_link.c.child_id.in_(list(by_id)))).all()
    for child, parent in links:
        if parent in by_id and depth[by_id[child].level] == depth[by_id[parent].level] + 1:
            kids.setdefault(parent, []).append(child)
            has_parent.add(child)

    def build(i: int) -> TreeNode:
        r = by_id[i]
        children = sorted((build(c) for c in kids.get(i, [])), key=lambda n: _reading_key(n.name))
        return TreeNode(r.level, r.code, r.name, tuple(children))
    top = min((depth[r.level] for r in rows), default=0)
    roots = [build(i) for i, r in by_id.items() if i not in has_parent and depth[r.level] == top]
    return sorted(roots, key=lambda n: (not n.children, n.code))
