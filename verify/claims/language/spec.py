"""What a claim of a claim file says: its form and its parsed, validated fields.

Forms (``form = "..."``) and their fields (every form also takes ``title``, ``statement``,
``source``, ``when``, ``expect`` and ``mutation_of``):

==============  ================================  ====================================================
form            fields                            meaning
==============  ================================  ====================================================
``always``      ``holds`` (relation)              the relation holds at every step
``eventually``  ``holds`` (relation)              from some step on, the relation holds at every step
``monotone``    ``quantity``, ``direction``       ``non-decreasing`` / ``non-increasing`` /
                                                  ``increasing`` / ``decreasing`` from each step to the next
``bounded``     ``quantity``, ``lower``/``upper``  ``lower(t) <= quantity <= upper(t)`` at every step
                                                  (bounds: expressions of ``t`` and the init)
``limit``       ``quantity``, ``to``              the quantity tends to ``to`` (an expression of the init)
``rate``        ``quantity``, ``like``            quantity = Theta(like): ``c g(t) <= q <= C g(t)`` for all
                                                  large ``t``, constants found and printed
``pattern``     one of ``enters``, ``never_leaves``, ``avoids`` (an activation pattern such as
                ``"1001"``; ``.`` matches either bit): the run enters it / once in it never leaves /
                never visits it
==============  ================================  ====================================================

``when`` (a relation over the init: ``w1_0``, ..., ``eta``) states the hypotheses: an init outside
them is *not-admitted*. ``expect = "refuted"`` marks a deliberately false claim (a mutation), which
``verify check`` then requires to be refuted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from verify.claims.language.parse import ExprError, is_relation
from verify.claims.language.symbols import Namespace, T

COMMON = ("form", "title", "statement", "source", "when", "expect", "mutation_of")
DIRECTIONS = ("non-decreasing", "non-increasing", "increasing", "decreasing")
PATTERN_KINDS = ("enters", "never_leaves", "avoids")
EXPECT = ("certified", "refuted")

# field -> kind, per form; a kind says what the field holds and which symbols it may use
FORMS: dict[str, dict[str, str]] = {
    "always": {"holds": "relation"},
    "eventually": {"holds": "relation"},
    "monotone": {"quantity": "quantity", "direction": "direction"},
    "bounded": {"quantity": "quantity", "lower": "bound", "upper": "bound"},
    "limit": {"quantity": "quantity", "to": "init-quantity"},
    "rate": {"quantity": "quantity", "like": "bound"},
    "pattern": {"enters": "pattern", "never_leaves": "pattern", "avoids": "pattern"},
}
OPTIONAL = {("bounded", "lower"), ("bounded", "upper"), ("pattern", "enters"), ("pattern", "never_leaves"),
            ("pattern", "avoids")}


class FieldError(ValueError):
    """A bad field of a claim: ``field`` names it, the message says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of a claim file, validated: ``exprs`` holds the parsed sympy fields, ``texts`` the
    text they were read from."""

    id: str
    form: str
    exprs: dict[str, sp.Basic]
    texts: dict[str, str]
    when: sp.Basic | None = None
    direction: str | None = None
    pattern: tuple[str, str] | None = None  # (kind, pattern)
    title: str = ""
    statement: str = ""
    source: str = ""
    expect: str | None = None
    mutation_of: str | None = None
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def relation(self) -> sp.Basic:
        """The relation an ``always`` / ``eventually`` / ``bounded`` claim asserts at each step."""
        if self.form in ("always", "eventually"):
            return self.exprs["holds"]
        if self.form == "bounded":
            q = self.exprs["quantity"]
            parts = []
            if "lower" in self.exprs:
                parts.append(sp.LessThan(self.exprs["lower"], q, evaluate=False))
            if "upper" in self.exprs:
                parts.append(sp.LessThan(q, self.exprs["upper"], evaluate=False))
            return parts[0] if len(parts) == 1 else sp.And(*parts, evaluate=False)
        raise ValueError(f"a {self.form} claim has no per-step relation")

    def describe(self) -> str:
        """The claim in one line, from its fields."""
        x = self.texts
        if self.form == "always":
            s = f"at every step t: {x['holds']}"
        elif self.form == "eventually":
            s = f"from some step on, at every step: {x['holds']}"
        elif self.form == "monotone":
            s = f"{x['quantity']} is {self.direction} in t"
        elif self.form == "bounded":
            s = f"{x.get('lower', '-oo')} <= {x['quantity']} <= {x.get('upper', 'oo')} at every step t"
        elif self.form == "limit":
            s = f"{x['quantity']} -> {x['to']} as t -> oo"
        elif self.form == "rate":
            s = f"{x['quantity']} = Theta({x['like']}) as t -> oo"
        else:
            kind, pat = self.pattern
            s = {"enters": f"the run enters pattern {pat}", "never_leaves": f"once in pattern {pat} the run never "
                 "leaves it", "avoids": f"the run never visits pattern {pat}"}[kind]
        return s + (f" (when {x['when']})" if "when" in x else "")


def _pattern(text: object, length: int) -> str:
    if not isinstance(text, str) or len(text) != length or set(text) - set("01."):
        raise ExprError(f"must be an activation pattern of {length} characters 0, 1 or . (any), e.g. "
                        f"{'1' + '0' * (length - 2) + '1' if length > 1 else '1'}")
    return text


def _symbols_allowed(expr: sp.Basic, kind: str, ns: Namespace) -> None:
    free = expr.free_symbols
    if kind in ("init-quantity", "when"):
        bad = free - ns.init_only()
        what = "the init (w1_0, ...) and eta"
    elif kind == "bound":
        bad = free - ns.init_only() - {T}
        what = "t, the init (w1_0, ...) and eta"
    else:
        return
    if bad:
        names = ", ".join(sorted(s.name for s in bad))
        raise ExprError(f"may only use {what}, not {names}")


def read_field(ns: Namespace, kind: str, value: object) -> sp.Basic:
    """Parse and check one expression field of the given kind."""
    if not isinstance(value, str):
        raise ExprError(f"must be a string holding an expression, not {type(value).__name__}")
    expr = ns.read(value)
    wants_relation = kind in ("relation", "when")
    if wants_relation and not is_relation(expr):
        raise ExprError(f"must be a relation (a comparison such as 'x <= y'), but {value!r} is a quantity")
    if not wants_relation and is_relation(expr):
        raise ExprError(f"must be a quantity, but {value!r} is a relation")
    _symbols_allowed(expr, kind, ns)
    return expr


def build_spec(claim_id: str, table: object, ns: Namespace, pattern_length: int) -> ClaimSpec:
    """A validated :class:`ClaimSpec` from one ``[claim.<id>]`` table; errors raise :class:`FieldError`."""
    if not isinstance(table, dict):
        raise FieldError("claim", "must be a table of fields ([claim.<id>] with form = ...)")
    for key, value in table.items():
        if isinstance(value, dict):
            raise FieldError(key, f"is a table, not a field (an id with a dot must be quoted: "
                             f"[claim.\"{claim_id}.{key}\"])")
    form = table.get("form")
    if form is None:
        raise FieldError("form", f"is missing; one of {', '.join(FORMS)}")
    if form not in FORMS:
        raise FieldError("form", f"{form!r} is not a form; forms: {', '.join(FORMS)}")
    fields = FORMS[form]
    for key in table:
        if key not in COMMON and key not in fields:
            raise FieldError(key, f"is not a field of a {form} claim; fields: {', '.join((*fields, *COMMON[1:]))}")
    exprs: dict[str, sp.Basic] = {}
    texts: dict[str, str] = {}
    direction = pattern = None
    for name, kind in fields.items():
        if name not in table:
            if (form, name) not in OPTIONAL:
                raise FieldError(name, f"is missing (a {form} claim needs {', '.join(fields)})")
            continue
        value = table[name]
        try:
            if kind == "direction":
                if value not in DIRECTIONS:
                    raise ExprError(f"must be one of {', '.join(DIRECTIONS)}")
                direction = value
            elif kind == "pattern":
                pattern = (name, _pattern(value, pattern_length))
            else:
                exprs[name] = read_field(ns, kind, value)
            texts[name] = str(value)
        except ExprError as exc:
            raise FieldError(name, str(exc)) from None
    if form == "bounded" and not ({"lower", "upper"} & set(exprs)):
        raise FieldError("lower", "a bounded claim needs lower, upper or both")
    if form == "pattern" and sum(k in table for k in PATTERN_KINDS) != 1:
        raise FieldError("enters", f"a pattern claim needs exactly one of {', '.join(PATTERN_KINDS)}")
    when = None
    if "when" in table:
        try:
            when = read_field(ns, "when", table["when"])
        except ExprError as exc:
            raise FieldError("when", str(exc)) from None
        texts["when"] = table["when"]
    for key in ("title", "statement", "source", "mutation_of"):
        if key in table and not isinstance(table[key], str):
            raise FieldError(key, "must be a string")
    expect = table.get("expect")
    if expect is not None and expect not in EXPECT:
        raise FieldError("expect", f"must be one of {', '.join(EXPECT)}")
    spec = ClaimSpec(claim_id, form, exprs, texts, when, direction, pattern, table.get("title", ""),
                     table.get("statement", ""), table.get("source", ""), expect, table.get("mutation_of"))
    return spec
