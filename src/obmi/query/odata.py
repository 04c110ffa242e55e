"""The OData v4 read layer (docs/odata.md): the entity model, the system query options parsed and
checked, `$filter`/`$orderby` translated to SQL over the *published* expressions, and paging.

- The model (`build_model`): entity sets, their properties (EDM types) and navigation
  properties, and its CSDL XML (`csdl`). Areas carry the code of the area they lie in at every
  level (`in_<level>`), so the level list of the installation shapes the model.
- Options (`parse_options`): $filter, $select, $orderby, $top, $skip, $count, $expand,
  $skiptoken, $format; anything else with a `$` is refused (400), never ignored.
- $filter: a small recursive-descent parser (eq ne gt ge lt le, and or not, in, contains,
  startswith, endswith, tolower, toupper, parentheses; string, number, boolean, null, date and
  date-time literals) into an AST, compiled to a SQLAlchemy Core expression over each set's
  property expressions (`Source.columns`). Observations filter on their published value and
  status (a suppressed cell has value NULL and status "suppressed" in SQL as in the answer), so
  no filter can probe a withheld number.
- Dates: an observation's `period_start` (and `period_start_time`) is a function of its period;
  a comparison on it becomes `period IN (the known periods that satisfy it)`, which the index on
  (indicator, period, area) answers — Power BI's incremental refresh sends such windows.
- Paging (`run`): in key order, each page ends with a `$skiptoken` (the last key: keyset paging,
  as cheap at page 1,000 as at page 1); with an explicit $orderby the next link uses $skip.

Disclosure control and rounding come from `obmi.query.observations.publish`, as in every channel.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Callable, Iterable, Mapping, Sequence
from xml.sax.saxutils import quoteattr

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    String,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    text,
    true,
    tuple_,
)

from obmi.errors import ValidationError
from obmi.indicators.observation import Observation, Status
from obmi.publish.warehouse import period_row
from obmi.query.observations import publish
from obmi.query.visibility import CatalogueView
from obmi.store.state import read_state
from obmi.store.tables import area, area_level, area_link, observation
from obmi.store.tables import indicator as indicator_table

NAMESPACE = "OBMi"
CONTAINER = "Default"
ODATA_VERSION = "4.0"
OPTIONS = frozenset({"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand", "$skiptoken",
                     "$format"})
NOT_SUPPORTED = {"$apply": "aggregation ($apply) is not supported: aggregate in the client",
                 "$search": "free-text $search is not supported: use $filter with contains()",
                 "$compute": "$compute is not supported", "$levels": "$levels is not supported",
                 "$index": "$index is not supported", "$schemaversion": "$schemaversion is not supported"}


class ODataError(ValidationError):
    """A request the service cannot answer (400), with the OData error code and target."""

    def __init__(self, message: str, code: str = "BadRequest", target: str | None = None, status: int = 400):
        super().__init__(message, {target or "request": [message]})
        self.code, self.target, self.status = code, target, status


# --- the model -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prop:
    name: str
    type: str  # Edm.String, Edm.Double, Edm.Int32, Edm.Int64, Edm.Boolean, Edm.Date, Edm.DateTimeOffset
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Nav:
    name: str
    target: str  # entity set name
    on: tuple[tuple[str, str], ...]  # (this property, the target's key property)
    doc: str


@dataclass(frozen=True)
class EntitySet:
    name: str
    type_name: str
    key: tuple[str, ...]
    props: tuple[Prop, ...]
    doc: str
    navs: tuple[Nav, ...] = ()
    protected: bool = False  # needs a signed-in actor of an organisation (a token)

    def prop(self, name: str) -> Prop:
        for p in self.props:
            if p.name == name:
                return p
        raise ODataError(f"{self.name} has no property {name!r} (properties: {', '.join(self.names)})",
                         "UnknownProperty", name)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.props]

    def nav(self, name: str) -> Nav:
        for n in self.navs:
            if n.name == name:
                return n
        known = ", ".join(n.name for n in self.navs) or "none"
        raise ODataError(f"{self.name} has no navigation property {name!r} (navigation properties: {known})",
                         "UnknownProperty", name)


S, D, I32, I64, B, DATE, DTO = ("Edm.String", "Edm.Double", "Edm.Int32", "Edm.Int64", "Edm.Boolean", "Edm.Date",
                                "Edm.DateTimeOffset")


def _p(name: str, type_: str, doc: str, nullable: bool = True) -> Prop:
    return Prop(name, type_, doc, nullable)


OBSERVATIONS = EntitySet("Observations", "Observation", ("indicator", "level", "area_code", "period"), (
    _p("indicator", S, "indicator code (→ Indicators)", False), _p("level", S, "area level code", False),
    _p("area_code", S, "area code (unique within its level)", False), _p("area_name", S, "area name", False),
    _p("period", S, "period: 2015, 2015-Q1, 2015-03, 2015-03-01 or an edition", False),
    _p("period_type", S, "year, quarter, month, date, edition", False),
    _p("period_start", DATE, "first day of the period (fast to filter: incremental refresh)"),
    _p("period_start_time", DTO, "first day of the period at 00:00 UTC (for Power BI's RangeStart/RangeEnd)"),
    _p("value", D, "the value, rounded to the indicator's decimals; null when status is suppressed, "
                   "not_applicable, missing or empty"),
    _p("status", S, "final, provisional, estimated, suppressed, not_applicable, missing, empty", False),
    _p("reason", S, "why a suppressed cell is withheld (disclosure rule: primary, …); null otherwise"),
    _p("origin", S, "source (delivered), reexpressed, aggregated, derived (computed by OBMi)", False),
), "One published observation per indicator, area and period.", (
    Nav("Indicator", "Indicators", (("indicator", "code"),), "the indicator"),
    Nav("Area", "Areas", (("level", "level"), ("area_code", "code")), "the area"),
    Nav("Period", "Periods", (("period", "period"),), "the period"),
))
INDICATORS = EntitySet("Indicators", "Indicator", ("code",), (
    _p("code", S, "catalogue code", False), _p("name_nl", S, "name (Dutch)", False),
    _p("name_en", S, "name (English)", False), _p("definition_nl", S, "definition (Dutch)"),
    _p("definition_en", S, "definition (English)"), _p("unit", S, "unit"), _p("source", S, "source"),
    _p("licence", S, "licence"), _p("aggregation", S, "sum, ratio, weighted_mean, none", False),
    _p("decimals", I32, "decimals values are rounded to", False), _p("polarity", S, "positive, negative, neutral"),
    _p("frequency", S, "year, quarter, month, date, edition", False),
    _p("is_count", B, "a count (disclosure control applies)", False),
    _p("public_from_level", S, "public only from this level up (null: at every level)"),
    _p("organisation", S, "owning organisation (null: shared)"),
), "The indicators you may see.")
PERIODS = EntitySet("Periods", "Period", ("period",), (
    _p("period", S, "the period", False), _p("period_type", S, "year, quarter, month, date, edition", False),
    _p("year", I32, "its year"), _p("start_date", DATE, "first day"), _p("end_date", DATE, "last day"),
), "Every period with observations you may see.")
AREA_BASE = (
    _p("level", S, "level code", False), _p("code", S, "area code", False), _p("name", S, "name", False),
    _p("short_name", S, "short name"), _p("level_name", S, "the level's name (Dutch)", False),
)


def parent_property(level: str) -> str:
    """The Areas property holding the code of the area of `level` an area lies in."""
    name = "in_" + re.sub(r"[^A-Za-z0-9_]", "_", level)
    return name[:128]


def areas_set(levels: Sequence[str]) -> EntitySet:
    parents = tuple(_p(parent_property(lv), S, f"code of the {lv} area it lies in (itself at level {lv})")
                    for lv in levels)
    return EntitySet("Areas", "Area", ("level", "code"), AREA_BASE + parents,
                     "Every area of every level, with the area it lies in at each level.")


@dataclass(frozen=True)
class Model:
    sets: tuple[EntitySet, ...]

    def get(self, name: str) -> EntitySet:
        for s in self.sets:
            if s.name == name:
                return s
        raise ODataError(f"unknown entity set {name!r} (entity sets: {', '.join(s.name for s in self.sets)})",
                         "NotFound", name, 404)

    def service_document(self, base: str, *, signed_in: bool) -> dict[str, Any]:
        return {"@odata.context": f"{base}$metadata", "value": [
            {"name": s.name, "kind": "EntitySet", "url": s.name} for s in self.sets if signed_in or not s.protected]}

    def csdl(self) -> str:
        """The model as CSDL XML (OData 4.0)."""
        out = ['<?xml version="1.0" encoding="utf-8"?>',
               '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
               '<edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">',
               '<edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/>', '</edmx:Reference>',
               '<edmx:DataServices>', f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{NAMESPACE}">']
        for s in self.sets:
            out.append(f'<EntityType Name="{s.type_name}">')
            out.append("<Key>" + "".join(f'<PropertyRef Name="{k}"/>' for k in s.key) + "</Key>")
            for p in s.props:
                nullable = "" if p.nullable else ' Nullable="false"'
                out.append(f'<Property Name="{p.name}" Type="{p.type}"{nullable}>'
                           f'<Annotation Term="Core.Description" String={quoteattr(p.doc)}/></Property>')
            for n in s.navs:
                target = self.get(n.target)
                out.append(f'<NavigationProperty Name="{n.name}" Type="{NAMESPACE}.{target.type_name}" Nullable="false">'
                           + "".join(f'<ReferentialConstraint Property="{a}" ReferencedProperty="{b}"/>' for a, b in n.on)
                           + "</NavigationProperty>")
            out.append("</EntityType>")
        out.append(f'<EntityContainer Name="{CONTAINER}">')
        for s in self.sets:
            out.append(f'<EntitySet Name="{s.name}" EntityType="{NAMESPACE}.{s.type_name}">')
            out += [f'<NavigationPropertyBinding Path="{n.name}" Target="{n.target}"/>' for n in s.navs]
            out.append(f'<Annotation Term="Core.Description" String={quoteattr(s.doc)}/></EntitySet>')
        out += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
        return "\n".join(out)


def build_model(levels: Sequence[str], extra: Iterable[EntitySet] = ()) -> Model:
    return Model((OBSERVATIONS, INDICATORS, areas_set(levels), PERIODS, *extra))


# --- $filter: tokens, parser, AST -----------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<dto>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,12})?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:[dDfFmMlL])?)(?![\w.])
  | (?P<str>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),/])
""", re.VERBOSE)
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
FUNCTIONS = {"contains": 2, "startswith": 2, "endswith": 2, "tolower": 1, "toupper": 1}
FLIP = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}


@dataclass(frozen=True)
class Lit:
    value: Any
    type: str  # string, number, boolean, null, date, datetime


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Cmp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class In:
    item: Any
    values: tuple[Lit, ...]


@dataclass(frozen=True)
class Bool:
    op: str  # and, or, not
    args: tuple[Any, ...]


def _tokens(source: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise ODataError(f"$filter: unexpected {source[pos:pos + 12]!r} at position {pos}", "InvalidFilter", "$filter")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    return out


class _Parser:
    """or_expr := and_expr ('or' and_expr)*; and_expr := unary ('and' unary)*;
    unary := 'not' unary | primary [comparison primary | 'in' '(' literal, … ')'];
    primary := '(' or_expr ')' | function '(' args ')' | property | literal."""

    def __init__(self, source: str):
        self.source = source
        self.tokens = _tokens(source)
        self.i = 0

    def fail(self, what: str) -> ODataError:
        at = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.source)
        return ODataError(f"$filter: {what} at position {at} of {self.source!r}", "InvalidFilter", "$filter")

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        kind, text_, _ = self.tokens[self.i]
        return value is None or (kind in ("name", "punct") and text_ == value)

    def take(self, value: str) -> None:
        if not self.peek(value):
            raise self.fail(f"expected {value!r}")
        self.i += 1

    def parse(self) -> Any:
        if not self.tokens:
            raise self.fail("empty filter")
        node = self.or_expr()
        if self.i != len(self.tokens):
            raise self.fail(f"unexpected {self.tokens[self.i][1]!r}")
        return node

    def or_expr(self) -> Any:
        node = self.and_expr()
        while self.peek("or"):
            self.i += 1
            node = Bool("or", (node, self.and_expr()))
        return node

    def and_expr(self) -> Any:
        node = self.unary()
        while self.peek("and"):
            self.i += 1
            node = Bool("and", (node, self.unary()))
        return node

    def unary(self) -> Any:
        if self.peek("not"):
            self.i += 1
            return Bool("not", (self.unary(),))
        left = self.primary()
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "name" and self.tokens[self.i][1] in COMPARISONS:
            op = self.tokens[self.i][1]
            self.i += 1
            return Cmp(op, left, self.primary())
        if self.peek("in"):
            self.i += 1
            self.take("(")
            values = [self.literal()]
            while self.peek(","):
                self.i += 1
                values.append(self.literal())
            self.take(")")
            return In(left, tuple(values))
        return left

    def literal(self) -> Lit:
        node = self.primary()
        if not isinstance(node, Lit):
            raise self.fail("expected a literal")
        return node

    def primary(self) -> Any:
        if self.i >= len(self.tokens):
            raise self.fail("unexpected end")
        kind, value, _ = self.tokens[self.i]
        self.i += 1
        if kind == "punct" and value == "(":
            node = self.or_expr()
            self.take(")")
            return node
        if kind == "str":
            return Lit(value[1:-1].replace("''", "'"), "string")
        if kind == "num":
            number = value.rstrip("dDfFmMlL")
            return Lit(float(number) if any(c in number for c in ".eE") else int(number), "number")
        if kind == "date":
            try:
                return Lit(date.fromisoformat(value), "date")
            except ValueError:
                raise self.fail(f"invalid date {value!r}") from None
        if kind == "dto":
            try:
                return Lit(datetime.fromisoformat(value.replace("Z", "+00:00")), "datetime")
            except ValueError:
                raise self.fail(f"invalid date-time {value!r}") from None
        if kind == "name":
            if value in ("true", "false"):
                return Lit(value == "true", "boolean")
            if value == "null":
                return Lit(None, "null")
            if self.peek("("):
                if value not in FUNCTIONS:
                    raise ODataError(f"$filter: function {value}() is not supported (supported: "
                                     f"{', '.join(sorted(FUNCTIONS))})", "NotSupported", "$filter")
                self.i += 1
                args = [self.or_expr()]
                while self.peek(","):
                    self.i += 1
                    args.append(self.or_expr())
                self.take(")")
                if len(args) != FUNCTIONS[value]:
                    raise self.fail(f"{value}() takes {FUNCTIONS[value]} argument(s)")
                return Call(value, tuple(args))
            if self.peek("/"):
                raise self.fail("paths (navigation in $filter) are not supported")
            return Ref(value)
        raise self.fail(f"unexpected {value!r}")


def parse_filter(source: str) -> Any:
    return _Parser(source).parse()


# --- $filter: to SQL ---------------------------------------------------------------------------

# A virtual property: filter(op, literal) → SQL condition; its value comes from `finish`.
VirtualFilter = Callable[[str, Lit], ColumnElement[bool]]


@dataclass
class Source:
    """How one entity set is read: the FROM clause, the SQL expression of each property, the
    conditions every query gets (visibility), the unique key order, and how rows become entities."""
    spec: EntitySet
    from_: FromClause
    columns: Mapping[str, ColumnElement[Any]]
    fetch: Sequence[ColumnElement[Any]]  # what a query selects, in `finish`'s order
    key: tuple[ColumnElement[Any], ...]  # unique, in the order of an index: keyset paging
    finish: Callable[[list[Any]], list[dict[str, Any]]]
    where: list[ColumnElement[bool]] = field(default_factory=list)
    virtual: dict[str, VirtualFilter] = field(default_factory=dict)
    dialect: str = "sqlite"


TYPE_OF_LITERAL = {S: ("string",), D: ("number",), I32: ("number",), I64: ("number",), B: ("boolean",),
                   DATE: ("date", "datetime"), DTO: ("date", "datetime")}


def _literal_for(prop: Prop, lit: Lit) -> Any:
    if lit.type == "null":
        return None
    if lit.type not in TYPE_OF_LITERAL[prop.type]:
        raise ODataError(f"$filter: {prop.name} is {prop.type}; {lit.value!r} is a {lit.type}", "TypeMismatch", prop.name)
    if prop.type in (I32, I64) and isinstance(lit.value, float) and not lit.value.is_integer():
        raise ODataError(f"$filter: {prop.name} is a whole number", "TypeMismatch", prop.name)
    if prop.type == DATE:
        return lit.value.isoformat() if isinstance(lit.value, date) and not isinstance(lit.value, datetime) \
            else lit.value.astimezone(UTC).date().isoformat()
    return lit.value


def _text(src: Source, node: Any) -> ColumnElement[Any]:
    """A string-valued operand of a function: a property or tolower/toupper of one."""
    if isinstance(node, Ref):
        prop = src.spec.prop(node.name)
        if prop.type != S:
            raise ODataError(f"$filter: {node.name} is not a string", "TypeMismatch", node.name)
        if node.name in src.virtual or node.name not in src.columns:
            raise ODataError(f"$filter: {node.name} can only be compared", "NotSupported", node.name)
        return src.columns[node.name]
    if isinstance(node, Call) and node.name in ("tolower", "toupper"):
        inner = _text(src, node.args[0])
        return func.lower(inner) if node.name == "tolower" else func.upper(inner)
    raise ODataError("$filter: expected a string property", "InvalidFilter", "$filter")


def _string_arg(node: Any) -> str:
    if not isinstance(node, Lit) or node.type != "string":
        raise ODataError("$filter: expected a string literal", "InvalidFilter", "$filter")
    return str(node.value)


def _function(src: Source, node: Call) -> ColumnElement[bool]:
    if node.name in ("tolower", "toupper"):
        raise ODataError(f"$filter: {node.name}() is not a condition; compare it", "InvalidFilter", "$filter")
    column, needle = _text(src, node.args[0]), _string_arg(node.args[1])
    n = len(needle)
    if node.name == "startswith":
        return func.substr(column, 1, n) == needle
    if node.name == "endswith":  # case-sensitive on both databases, as OData says
        tail = func.right(column, n) if src.dialect == "postgresql" else func.substr(column, -n)
        return tail == needle if n else true()
    position = func.strpos(column, needle) if src.dialect == "postgresql" else func.instr(column, needle)
    return position > 0


def _comparison(src: Source, op: str, left: Any, right: Any) -> ColumnElement[bool]:
    if isinstance(left, Lit) and not isinstance(right, Lit):
        left, right, op = right, left, FLIP[op]
    if not isinstance(right, Lit):
        raise ODataError("$filter: compare a property with a literal", "InvalidFilter", "$filter")
    if isinstance(left, Call) and left.name in ("tolower", "toupper"):
        return _compare(_text(src, left), op, _string_arg(right))
    if not isinstance(left, Ref):
        raise ODataError("$filter: compare a property with a literal", "InvalidFilter", "$filter")
    prop = src.spec.prop(left.name)
    if left.name in src.virtual:
        if right.type == "null":
            return false() if op == "eq" else true()  # every period has a start
        _literal_for(prop, right)  # type check
        return src.virtual[left.name](op, right)
    value = _literal_for(prop, right)
    column = src.columns[left.name]
    if value is None:
        if op not in ("eq", "ne"):
            raise ODataError("$filter: null can only be compared with eq or ne", "InvalidFilter", "$filter")
        return column.is_(None) if op == "eq" else column.is_not(None)
    return _compare(column, op, value)


_OPERATORS: dict[str, Callable[[ColumnElement[Any], Any], ColumnElement[bool]]] = {
    "eq": lambda c, v: c == v, "ne": lambda c, v: or_(c != v, c.is_(None)), "gt": lambda c, v: c > v,
    "ge": lambda c, v: c >= v, "lt": lambda c, v: c < v, "le": lambda c, v: c <= v}


def _compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    # Only the operator asked for is built: `> true` is no SQL expression (booleans: eq and ne).
    return _OPERATORS[op](column, value)


def compile_filter(src: Source, node: Any) -> ColumnElement[bool]:
    if isinstance(node, Bool):
        parts = [compile_filter(src, a) for a in node.args]
        if node.op == "not":
            return not_(parts[0])
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Cmp):
        return _comparison(src, node.op, node.left, node.right)
    if isinstance(node, In):
        if not node.values:
            return false()
        return or_(*[_comparison(src, "eq", node.item, v) for v in node.values])
    if isinstance(node, Call):
        return _function(src, node)
    if isinstance(node, Ref) and src.spec.prop(node.name).type == B and node.name in src.columns:
        return src.columns[node.name].is_(True)
    raise ODataError("$filter: expected a condition", "InvalidFilter", "$filter")


def compare_python(a: Any, op: str, b: Any) -> bool:
    return {"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


# --- the other options -------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    filter: Any = None
    select: tuple[str, ...] = ()
    orderby: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: tuple[str, ...] = ()
    skiptoken: tuple[Any, ...] | None = None
    raw: Mapping[str, str] = field(default_factory=dict)  # the options as given (for the next link)


def _whole(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise ODataError(f"{name} must be a whole number of 0 or more, not {raw!r}", "InvalidOption", name)
    return int(raw)


def _names(raw: str, option: str) -> list[str]:
    parts = [p.strip() for p in raw.split(",")]
    if not all(parts):
        raise ODataError(f"{option}: empty item in {raw!r}", "InvalidOption", option)
    return parts


def parse_options(spec: EntitySet, params: Mapping[str, str]) -> Options:
    """The system query options of a request on `spec`, checked against its properties."""
    for name in params:
        if name in NOT_SUPPORTED:
            raise ODataError(NOT_SUPPORTED[name], "NotImplemented", name, 501)
        if name.startswith("$") and name not in OPTIONS:
            raise ODataError(f"unknown system query option {name} (supported: {', '.join(sorted(OPTIONS))})",
                             "InvalidOption", name)
    fmt = params.get("$format", "json").split(";")[0].strip().lower()
    if fmt not in ("json", "application/json"):
        raise ODataError("only $format=json is supported", "InvalidOption", "$format")
    select_ = tuple(dict.fromkeys(_names(params["$select"], "$select"))) if params.get("$select") else ()
    if select_ == ("*",):
        select_ = ()
    for name in select_:
        spec.prop(name)
    orderby: list[tuple[str, bool]] = []
    for part in _names(params["$orderby"], "$orderby") if params.get("$orderby") else []:
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ODataError(f"$orderby: expected 'property [asc|desc]', not {part!r}", "InvalidOption", "$orderby")
        spec.prop(words[0])
        orderby.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    expand = tuple(_names(params["$expand"], "$expand")) if params.get("$expand") else ()
    for name in expand:
        if "(" in name or "/" in name:
            raise ODataError("$expand: nested options and paths are not supported", "NotSupported", "$expand")
        spec.nav(name)
    count = params.get("$count", "false").lower()
    if count not in ("true", "false"):
        raise ODataError("$count must be true or false", "InvalidOption", "$count")
    filter_ = parse_filter(params["$filter"]) if params.get("$filter", "").strip() else None
    token = None
    if params.get("$skiptoken"):
        try:
            token = tuple(json.loads(base64.urlsafe_b64decode(params["$skiptoken"].encode() + b"==")))
        except (ValueError, TypeError):
            raise ODataError("invalid $skiptoken (use the @odata.nextLink as given)", "InvalidOption",
                             "$skiptoken") from None
    return Options(filter_, select_, tuple(orderby), _whole(params, "$top"), _whole(params, "$skip") or 0,
                   count == "true", expand, token, dict(params))


def encode_token(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values), default=str).encode()).decode().rstrip("=")


# --- running a query -----------------------------------------------------------------------------

@dataclass
class Page:
    rows: list[dict[str, Any]]
    count: int | None
    next_options: dict[str, str] | None  # the options of the next page's link


def _base(src: Source, opts: Options) -> list[ColumnElement[bool]]:
    conditions = list(src.where)
    if opts.filter is not None:
        conditions.append(compile_filter(src, opts.filter))
    return conditions


def order_columns(src: Source, opts: Options) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for name, desc in opts.orderby:
        if name not in src.columns:
            raise ODataError(f"$orderby: {name} cannot be sorted on", "NotSupported", name)
        column = src.columns[name]
        out.append(column.desc().nulls_last() if desc else column.asc().nulls_first())
    return out + list(src.key)


def run(conn: Connection, src: Source, opts: Options, *, page_size: int) -> Page:
    """One page of `src` under `opts`: at most `page_size` rows (and at most $top), in key order
    unless $orderby says otherwise; the options of the next page when there is more."""
    conditions = _base(src, opts)
    count = None
    if opts.count:
        count = conn.execute(select(func.count()).select_from(src.from_).where(*conditions)).scalar_one()
    limit = page_size if opts.top is None else min(page_size, opts.top)
    keyset = not opts.orderby and opts.skip == 0
    if keyset and opts.skiptoken is not None:
        if len(opts.skiptoken) != len(src.key):
            raise ODataError("invalid $skiptoken (use the @odata.nextLink as given)", "InvalidOption", "$skiptoken")
        conditions.append(tuple_(*src.key) > tuple_(*[literal(v) for v in opts.skiptoken]))
    stmt = (select(*src.fetch, *src.key).select_from(src.from_).where(*conditions)
            .order_by(*order_columns(src, opts)).limit(limit + 1))
    if not keyset:
        stmt = stmt.offset(opts.skip)
    raw = conn.execute(stmt).all() if limit > 0 else []
    more = len(raw) > limit and (opts.top is None or opts.top > limit)
    raw = raw[:limit]
    rows = src.finish([r[:len(src.fetch)] for r in raw])
    next_options = None
    if more:
        next_options = {k: v for k, v in opts.raw.items() if k not in ("$skiptoken", "$skip", "$top")}
        if opts.top is not None:
            next_options["$top"] = str(opts.top - limit)
        if keyset:
            next_options["$skiptoken"] = encode_token(list(raw[-1][len(src.fetch):]))
        else:
            next_options["$skip"] = str(opts.skip + limit)
    return Page(rows, count, next_options)


def find_one(conn: Connection, src: Source, key: Mapping[str, Any]) -> dict[str, Any] | None:
    conditions = list(src.where) + [src.columns[name] == value for name, value in key.items()]
    raw = conn.execute(select(*src.fetch).select_from(src.from_).where(*conditions).limit(1)).all()
    rows = src.finish([tuple(r) for r in raw])
    return rows[0] if rows else None


def find_many(conn: Connection, src: Source, keys: Sequence[tuple[Any, ...]], names: Sequence[str]
              ) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The entities of `src` with the given key values (for $expand), by key."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    unique = sorted(set(keys), key=repr)
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        columns = [src.columns[n] for n in names]
        match = (columns[0].in_([k[0] for k in chunk]) if len(columns) == 1
                 else or_(*[and_(*[c == v for c, v in zip(columns, k)]) for k in chunk]))
        raw = conn.execute(select(*src.fetch).select_from(src.from_).where(*src.where, match)).all()
        for row in src.finish([tuple(r) for r in raw]):
            out[tuple(row[n] for n in names)] = row
    return out


def project(row: Mapping[str, Any], select_: Sequence[str], spec: EntitySet) -> dict[str, Any]:
    names = select_ or spec.names
    return {name: row.get(name) for name in names}


# --- key predicates in the path: Set('a') or Set(k1='a',k2='b') ---------------------------------

_KEY_PART = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?('(?:[^']|'')*'|-?\d+)\s*(?:,|$)")


def parse_key(spec: EntitySet, text_: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    pos = 0
    while pos < len(text_):
        m = _KEY_PART.match(text_, pos)
        if m is None or m.end() == pos:
            raise ODataError(f"invalid key {text_!r} for {spec.name}", "InvalidKey", spec.name)
        name = m.group(1) or (spec.key[0] if len(spec.key) == 1 and not values else "")
        raw = m.group(2)
        if name not in spec.key:
            raise ODataError(f"{spec.name} is keyed by {', '.join(spec.key)}", "InvalidKey", spec.name)
        values[name] = raw[1:-1].replace("''", "'") if raw.startswith("'") else int(raw)
        pos = m.end()
    if set(values) != set(spec.key):
        raise ODataError(f"{spec.name} is keyed by {', '.join(spec.key)}: give each", "InvalidKey", spec.name)
    return values


# --- periods -----------------------------------------------------------------------------------

_PERIOD_CACHE: dict[tuple[str, str, int], dict[str, list[str]]] = {}


def known_periods(conn: Connection) -> dict[str, list[str]]:
    """indicator → its periods with observations: a loose index scan per indicator (a few
    index probes per period, not a scan of the table), cached per data version."""
    state = read_state(conn)
    key = (str(conn.engine.url), state.epoch, state.version)
    found = _PERIOD_CACHE.get(key)
    if found is not None:
        return found
    step = text("WITH RECURSIVE p(period) AS ("
                " SELECT (SELECT min(period) FROM observation WHERE indicator = :i)"
                " UNION ALL SELECT (SELECT min(period) FROM observation WHERE indicator = :i AND period > p.period)"
                " FROM p WHERE p.period IS NOT NULL)"
                " SELECT period FROM p WHERE period IS NOT NULL")
    codes = conn.execute(text("SELECT code FROM indicator")).scalars().all()
    found = {code: list(conn.execute(step, {"i": code}).scalars()) for code in codes}
    if len(_PERIOD_CACHE) > 8:
        _PERIOD_CACHE.clear()
    _PERIOD_CACHE[key] = found
    return found


def period_start_sql(period: ColumnElement[Any], period_type: ColumnElement[Any], dialect: str
                     ) -> ColumnElement[Any]:
    """The first day of a period as ISO text, in SQL (for $orderby on period_start)."""
    year = func.substr(period, 1, 4)
    last4 = func.right(period, 4) if dialect == "postgresql" else func.substr(period, -4)
    quarter = case((func.substr(period, 7, 1) == "2", "-04-01"), (func.substr(period, 7, 1) == "3", "-07-01"),
                   (func.substr(period, 7, 1) == "4", "-10-01"), else_="-01-01")
    return case((period_type == "year", period + "-01-01"), (period_type == "quarter", year + quarter),
                (period_type == "month", period + "-01"), (period_type == "date", period),
                else_=last4 + "-01-01")


def period_filter(column: ColumnElement[Any], periods: Iterable[str], start_of: Callable[[str], date | None],
                  as_time: bool) -> VirtualFilter:
    """A comparison on a period's start as `column IN (the periods that satisfy it)`."""
    known = sorted(set(periods))

    def condition(op: str, lit: Lit) -> ColumnElement[bool]:
        value = lit.value
        matching = []
        for p in known:
            start = start_of(p)
            if start is None:
                continue
            if isinstance(value, datetime):
                here: Any = datetime.combine(start, time(0), UTC)
                there: Any = value if value.tzinfo else value.replace(tzinfo=UTC)
            else:
                here, there = start, value
            if compare_python(here, op, there):
                matching.append(p)
        if not matching:
            return false()
        if len(matching) == len(known):
            return true()
        return column.in_(matching)
    return condition


def date_text(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def time_text(value: date | None) -> str | None:
    return f"{value.isoformat()}T00:00:00Z" if value is not None else None


def values_cte(name: str, columns: Sequence[tuple[str, Any]], rows: Sequence[tuple[Any, ...]]) -> Any:
    """A small in-memory table as a VALUES common table expression (Periods)."""
    from sqlalchemy import column as sql_column
    from sqlalchemy import values
    cols = [sql_column(n, t) for n, t in columns]
    if not rows:
        rows = [tuple(None for _ in columns)]
        return select(*[null().cast(t).label(n) for n, t in columns]).where(false()).cte(name)
    return values(*cols, name=name).data(list(rows)).cte(name)


# --- the public sets -----------------------------------------------------------------------------

def _visibility(view: CatalogueView, levels: Sequence[str], indicator: ColumnElement[Any],
                level: ColumnElement[Any]) -> ColumnElement[bool]:
    """The observations `view` may see: its indicators, at the levels it sees them."""
    everywhere: list[str] = []
    parts: list[ColumnElement[bool]] = []
    for code, ind in sorted(view.visible.items()):
        seen = [lv for lv in levels if view.sees_level(ind, lv)]
        if len(seen) == len(levels):
            everywhere.append(code)
        elif seen:
            parts.append(and_(indicator == code, level.in_(seen)))
    if everywhere:
        parts.insert(0, indicator.in_(everywhere))
    return or_(*parts) if parts else false()


def period_start(text_: str) -> date | None:
    return period_row(text_, {})["start_date"]


def observations_source(conn: Connection, view: CatalogueView, levels: Sequence[str]) -> Source:
    o, a = observation.c, area.c
    dialect = conn.dialect.name
    withheld = o.disclosure.is_not(None)
    starts = period_start_sql(o.period, o.period_type, dialect)
    columns: dict[str, ColumnElement[Any]] = {
        "indicator": o.indicator, "level": a.level, "area_code": a.code, "area_name": a.name, "period": o.period,
        "period_type": o.period_type, "period_start": starts, "period_start_time": starts,
        "value": case((withheld, null()), else_=o.value),  # the published value: what filters see
        "status": case((withheld, literal(str(Status.SUPPRESSED))), else_=o.status),
        "reason": o.disclosure, "origin": o.origin}
    periods = {p for code in view.visible for p in known_periods(conn).get(code, [])}
    fetch = [o.indicator, o.area_id, o.period, o.value, o.status, o.disclosure, o.origin, a.code, a.name, a.level,
             o.period_type]
    indicators = view.visible

    def finish(rows: list[Any]) -> list[dict[str, Any]]:
        by_indicator: dict[str, list[Observation]] = {}
        types: dict[tuple[str, int, str], str] = {}
        for ind, area_id, period, value, status, disclosure, origin, code, name, level, ptype in rows:
            by_indicator.setdefault(ind, []).append(Observation(
                ind, area_id, period, value, status, origin=origin, disclosure=disclosure, area_code=code,
                area_name=name, level=level))
            types[(ind, area_id, period)] = ptype
        published: dict[tuple[str, int, str], Observation] = {}
        for ind, obs in by_indicator.items():
            for row in publish(indicators[ind], obs):  # disclosure control and rounding: the one rule
                published[(row.indicator, row.area_id, row.period)] = row
        out = []
        for ind, area_id, period, *_ in rows:
            row = published[(ind, area_id, period)]
            start = period_start(period)
            out.append({"indicator": ind, "level": row.level, "area_code": row.area_code, "area_name": row.area_name,
                        "period": period, "period_type": types[(ind, area_id, period)],
                        "period_start": date_text(start), "period_start_time": time_text(start),
                        "value": row.value, "status": str(row.status), "reason": row.disclosure,
                        "origin": row.origin})
        return out

    return Source(OBSERVATIONS, observation.join(area, a.id == o.area_id), columns, fetch,
                  (o.indicator, o.period, o.area_id), finish,
                  where=[a.is_unknown.is_(False), _visibility(view, levels, o.indicator, a.level)],
                  virtual={"period_start": period_filter(o.period, periods, period_start, False),
                           "period_start_time": period_filter(o.period, periods, period_start, True)},
                  dialect=dialect)


def plain_rows(spec: EntitySet) -> Callable[[list[Any]], list[dict[str, Any]]]:
    names = spec.names

    def finish(rows: list[Any]) -> list[dict[str, Any]]:
        return [dict(zip(names, (bool(v) if spec.prop(n).type == B and v is not None else v
                                 for n, v in zip(names, row)))) for row in rows]
    return finish


def indicators_source(conn: Connection, view: CatalogueView) -> Source:
    c = indicator_table.c
    columns = {p.name: c[p.name] for p in INDICATORS.props}
    return Source(INDICATORS, indicator_table, columns, [columns[n] for n in INDICATORS.names], (c.code,),
                  plain_rows(INDICATORS), where=[c.code.in_(sorted(view.visible)) if view.visible else false()],
                  dialect=conn.dialect.name)


def areas_source(conn: Connection, levels: Sequence[str]) -> Source:
    spec = areas_set(levels)
    a = area.c
    columns: dict[str, ColumnElement[Any]] = {
        "level": a.level, "code": a.code, "name": a.name, "short_name": a.short_name,
        "level_name": area_level.c.name_nl}
    for lv in levels:
        link, parent = area_link.alias(), area.alias()
        above = (select(parent.c.code).select_from(link.join(parent, parent.c.id == link.c.parent_id))
                 .where(link.c.child_id == a.id, link.c.relation == "parent", parent.c.level == lv)
                 .order_by(link.c.weight.desc(), parent.c.code).limit(1).scalar_subquery())
        columns[parent_property(lv)] = case((a.level == lv, a.code), else_=above)
    return Source(spec, area.join(area_level, area_level.c.code == a.level), columns,
                  [columns[n] for n in spec.names], (a.level, a.code), plain_rows(spec),
                  where=[a.is_unknown.is_(False)], dialect=conn.dialect.name)


def periods_source(conn: Connection, view: CatalogueView) -> Source:
    found = sorted({p for code in view.visible for p in known_periods(conn).get(code, [])})
    rows = []
    for p in found:
        r = period_row(p, {})
        rows.append((p, r["period_type"], r["year"], date_text(r["start_date"]), date_text(r["end_date"])))
    table = values_cte("known_periods", [("period", String()), ("period_type", String()), ("year", Integer()),
                                         ("start_date", String()), ("end_date", String())], rows)
    columns = {n: table.c[n] for n in PERIODS.names}
    return Source(PERIODS, table, columns, [columns[n] for n in PERIODS.names], (table.c.period,),
                  plain_rows(PERIODS), dialect=conn.dialect.name)
