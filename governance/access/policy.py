"""The access policy: one YAML file mapping each role to tables, denied columns and masks.

Read once per command; a malformed file is an error naming the file and the entry, never a
silent "allow". Table patterns are ``zone.table`` or ``zone.*``; columns are
``zone.table.column``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lakehouse.errors import LakehouseError

POLICY_FILE = Path(__file__).with_name("policy.yml")
ROLES = ("data_engineer", "analyst", "model_service", "auditor")
MASKS = {
    # The mask's SQL over the column ``{c}``; hash keeps equal values equal (joins still work).
    "hash": "sha2(cast({c} as string), 256)",
    "redact": "cast(null as {t})",
    "partial": "concat(substr(cast({c} as string), 1, 2), '***')",
}


class PolicyError(LakehouseError):
    """The policy file is malformed or names an unknown role or mask."""


class AccessDeniedError(LakehouseError):
    """A query touches a table or column its role may not read."""

    template = "role {role} may not read {what}"


@dataclass(frozen=True, slots=True)
class Role:
    """What one role may read and how it sees masked columns."""

    name: str
    read: tuple[str, ...]
    deny: tuple[str, ...] = ()
    masks: dict[str, str] = field(default_factory=dict)

    def may_read_table(self, table: str) -> bool:
        """``zone.table`` matched by a read pattern and not denied as a whole."""
        return any(fnmatch.fnmatchcase(table, p) for p in self.read) and table not in self.deny

    def denied_columns(self, table: str) -> set[str]:
        """Columns of ``table`` this role may not read at all."""
        prefix = f"{table}."
        return {d[len(prefix) :] for d in self.deny if d.startswith(prefix)}

    def masks_of(self, table: str) -> dict[str, str]:
        """Column -> mask name for ``table``."""
        prefix = f"{table}."
        return {c[len(prefix) :]: m for c, m in self.masks.items() if c.startswith(prefix)}


def load_policy(path: Path = POLICY_FILE) -> dict[str, Role]:
    """Every role of the policy file, checked."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"access policy {path}: {' '.join(str(exc).split())}") from None
    roles = {}
    for name, spec in (raw.get("roles") or {}).items():
        masks = dict(spec.get("masks") or {})
        unknown = {m for m in masks.values() if m not in MASKS}
        if unknown:
            raise PolicyError(f"access policy {path}: role {name}: unknown masks {sorted(unknown)}")
        read, deny = tuple(spec.get("read") or ()), tuple(spec.get("deny") or ())
        roles[name] = Role(name, read, deny, masks)
    return roles


def role(name: str, path: Path = POLICY_FILE) -> Role:
    """One role by name; an unknown role is an error listing the known ones."""
    roles = load_policy(path)
    if name not in roles:
        raise PolicyError(f"unknown role {name!r}: the access policy has {', '.join(roles)}")
    return roles[name]
