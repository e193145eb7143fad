"""What a contract is: a pandera model, its metadata, and its checks as Spark predicates.

Why both pandera and predicates: pandera's pyspark backend says *whether* a check passed (one
boolean per check, no failure cases, see STACK_NOTES 4.2) at the cost of one Spark action per
check, but the quality tables need *how many* rows failed and which, for hundreds of checks a
night. So every rule is written once: column rules as pandera ``Field`` arguments (read from
the model and compiled here into the predicate pandera's built-in runs, with its semantics:
null passes, ``str_matches`` anchored at the start), cross-column rules as a :class:`Rule` (a
Spark predicate, added to the pandera schema as a dataframe check). The validator then counts
every predicate's failures in one aggregation pass over the table; a test checks the counts
against pandera's own validation.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandera.pyspark as pa
from pandera.api.checks import Check

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

PII_CLASSES = ("none", "pseudonymized", "personal")


@dataclass(frozen=True, slots=True)
class Rule:
    """A row-level check written as a Spark predicate: true (or null) when the row passes.

    ``predicate`` is a zero-argument function because Spark columns need an active session.
    """

    name: str
    column: str
    family: str
    predicate: Callable[[], Column]
    description: str = ""


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check of a table as the validator runs it: a row predicate or a key."""

    name: str
    column: str
    family: str
    predicate: Callable[[], Column] | None = None
    key: tuple[str, ...] = ()

    @property
    def is_key(self) -> bool:
        """True for a uniqueness check (counted by grouping, not by a predicate)."""
        return bool(self.key)


@dataclass(frozen=True, slots=True)
class Contract:
    """A table's contract: its pandera model, who owns it, PII per column and extra rules.

    ``batch_column`` selects the newest batch of an incremental table (validation checks only
    the new data); ``received_column`` selects by day (``--date``). Both are column paths.
    """

    table: str
    model: type[pa.DataFrameModel]
    rules: tuple[Rule, ...] = ()
    batch_column: str | None = None
    received_column: str | None = None

    @property
    def config(self) -> type:
        """The model's ``Config`` merged with its bases' (as pandera builds the schema).

        Why not ``model.Config``: pandera's pyspark models replace an inherited ``Config``
        with an empty one, so a model that inherits its key and metadata from another (an
        intermediate table from its staging model) has them only in the merged config.
        """
        self.model.to_schema()
        return self.model.__config__ or self.model.Config

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The model's ``Config.metadata``: owner and source system."""
        return getattr(self.config, "metadata", None) or {}

    @property
    def owner(self) -> str:
        """Who answers for the table's data (a team, not a person)."""
        return str(self.metadata.get("owner", ""))

    @property
    def source_system(self) -> str:
        """The system the data comes from (``cms``, ``erp``, ... or ``lakehouse``)."""
        return str(self.metadata.get("source_system", ""))

    @property
    def pii(self) -> dict[str, str]:
        """Column -> PII class (``none``, ``pseudonymized``, ``personal``).

        From each field's metadata, plus ``Config.metadata["pii"]`` for columns a model lists
        without typing them (gold amounts whose decimal scale the SQL decides).
        """
        typed = {
            name: str((column.metadata or {}).get("pii", ""))
            for name, column in self.model.to_schema().columns.items()
        }
        return {**dict(self.metadata.get("pii", {})), **typed}

    @property
    def copies_failed_rows(self) -> bool:
        """Silver and gold failing rows are copied to ``governance.dq_failed_rows``."""
        return self.zone in {"silver", "gold"}

    @property
    def zone(self) -> str:
        """The zone part of ``zone.table``."""
        return self.table.split(".", 1)[0]

    @property
    def key(self) -> tuple[str, ...]:
        """The columns that identify a row (pandera ``Config.unique``), or none."""
        unique = getattr(self.config, "unique", None) or ()
        return (unique,) if isinstance(unique, str) else tuple(unique)

    def schema(self) -> pa.DataFrameSchema:
        """The pandera schema: the model's columns plus every rule as a dataframe check."""
        schema = copy.deepcopy(self.model.to_schema())
        schema.checks = [*schema.checks, *(_rule_check(rule) for rule in self.rules)]
        return schema

    def checks(self) -> list[CheckSpec]:
        """Every check the validator counts, in a stable order: columns, rules, key."""
        specs: list[CheckSpec] = []
        for name, column in self.model.to_schema().columns.items():
            if not column.nullable:
                specs.append(CheckSpec(f"{name}:not_null", name, "nullability", _not_null(name)))
            for check in column.checks:
                specs.append(
                    CheckSpec(
                        f"{name}:{check.name}", name, _family(check), column_predicate(name, check)
                    )
                )
        specs += [CheckSpec(r.name, r.column, r.family, r.predicate) for r in self.rules]
        if self.key:
            specs.append(
                CheckSpec(f"{'+'.join(self.key)}:unique", ",".join(self.key), "key", key=self.key)
            )
        return specs


def _rule_check(rule: Rule) -> Check:
    """A rule as a pandera dataframe check (the pyspark backend passes the DataFrame)."""

    def passes(df: DataFrame) -> bool:
        return df.filter(~_passes(rule.predicate())).limit(1).count() == 0

    return Check(passes, name=rule.name, error=rule.description or rule.name)


def _passes(predicate: Column) -> Column:
    """Null means "not applicable", as in pandera's built-in checks (``filter(~cond)``)."""
    from pyspark.sql import functions as F

    return F.coalesce(predicate, F.lit(True))


def _not_null(name: str) -> Callable[[], Column]:
    def predicate() -> Column:
        from pyspark.sql import functions as F

        return F.col(name).isNotNull()

    return predicate


_FAMILIES = {
    "greater_than": "range",
    "greater_than_or_equal_to": "range",
    "less_than": "range",
    "less_than_or_equal_to": "range",
    "in_range": "range",
    "isin": "allowed_values",
    "notin": "allowed_values",
    "str_matches": "format",
    "str_contains": "format",
    "str_startswith": "format",
    "str_endswith": "format",
    "str_length": "format",
}


def _family(check: Check) -> str:
    return _FAMILIES.get(check.name or "", "custom")


def _compare(stats: Mapping[str, Any]) -> dict[str, Callable[[Column], Column]]:
    """pandera's built-in column checks as Spark predicates on one column (same semantics)."""
    lo, hi = stats.get("min_value"), stats.get("max_value")
    return {
        "equal_to": lambda c: c == stats.get("value"),
        "not_equal_to": lambda c: c != stats.get("value"),
        "greater_than": lambda c: c > lo,
        "greater_than_or_equal_to": lambda c: c >= lo,
        "less_than": lambda c: c < hi,
        "less_than_or_equal_to": lambda c: c <= hi,
        "in_range": lambda c: (
            (c >= lo if stats.get("include_min", True) else c > lo)
            & (c <= hi if stats.get("include_max", True) else c < hi)
        ),
        "isin": lambda c: c.isin(list(stats["allowed_values"])),
        "notin": lambda c: ~c.isin(list(stats["forbidden_values"])),
        # pandera anchors str_matches at the start ("^" added when missing), not str_contains.
        "str_matches": lambda c: _matches(c, _anchored(stats["pattern"])),
        "str_contains": lambda c: c.rlike(_pattern(stats["pattern"])),
        "str_startswith": lambda c: c.startswith(stats["string"]),
        "str_endswith": lambda c: c.endswith(stats["string"]),
        "str_length": lambda c: _length(c, lo, hi, stats.get("exact_value")),
    }


def _pattern(pattern: Any) -> str:
    return str(getattr(pattern, "pattern", pattern))


def _anchored(pattern: Any) -> str:
    text = _pattern(pattern)
    return text if text.startswith("^") else f"^{text}"


# A fixed run of lower-case hex digits: SHA-256 hashes and the pseudonyms, 64 characters.
_HEX_RUN = re.compile(r"\^\[(?:0-9a-f|a-f0-9)\]\{([0-9]+)\}\$")


def _matches(c: Column, pattern: str) -> Column:
    """``c`` matches ``pattern`` (Java regex, ``rlike``), as pandera's ``str_matches`` says.

    Why not ``rlike`` alone: on a fixed run of hex digits (every 64-character id) the regex
    (a Java string and a matcher per value) was a fifth of validation's task time. Such a
    value is first tried without it: the right length in bytes, every byte a hex digit
    (``unhex`` is null otherwise) and none upper-case means the regex matches; anything else
    (null, a wrong length, a stray character) is left to the regex itself, so the answer is
    the regex's in every case, e.g. a trailing line break, which Java's ``$`` accepts.
    """
    from pyspark.sql import functions as F

    run = _HEX_RUN.fullmatch(pattern)
    if run is None:
        return c.rlike(pattern)
    surely = (F.octet_length(c) == int(run.group(1))) & F.unhex(c).isNotNull() & (c == F.lower(c))
    return F.when(surely, F.lit(True)).otherwise(c.rlike(pattern))


def _length(c: Column, lo: int | None, hi: int | None, exact: int | None = None) -> Column:
    from pyspark.sql import functions as F

    length = F.length(c)
    if exact is not None:
        return length == exact
    cond = F.lit(True)
    if lo is not None:
        cond = cond & (length >= lo)
    if hi is not None:
        cond = cond & (length <= hi)
    return cond


def column_predicate(name: str, check: Check) -> Callable[[], Column]:
    """A pandera built-in column check as a Spark predicate (true when the row passes)."""
    builders = _compare(check.statistics or {})
    if check.name not in builders:
        raise ValueError(
            f"column {name!r}: check {check.name!r} has no Spark predicate; "
            f"use one of {sorted(builders)} or write a Rule"
        )
    build = builders[check.name]

    def predicate() -> Column:
        from pyspark.sql import functions as F

        return build(F.col(name))

    return predicate


def column(pii: str = "none", *, nullable: bool = True, **checks: Any) -> Any:
    """A contract field: its PII class and pandera checks (nullable unless said otherwise)."""
    if pii not in PII_CLASSES:
        raise ValueError(f"PII class {pii!r} is not one of {PII_CLASSES}")
    return pa.Field(nullable=nullable, metadata={"pii": pii}, **checks)
