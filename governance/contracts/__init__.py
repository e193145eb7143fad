"""Quality contracts: one pandera model per lake table, with owner, source and PII per column.

``CONTRACTS`` maps ``zone.table`` to its :class:`~governance.contracts.base.Contract`; the
registry test checks it against :mod:`lakehouse.tables` (every table has one, no contract
names a column its table lacks).
"""

from __future__ import annotations

from governance.contracts.base import PII_CLASSES, CheckSpec, Contract, Rule


def _all() -> dict[str, Contract]:
    from governance.contracts import bronze, gold, intermediate, seeds, silver

    modules = (bronze, silver, intermediate, seeds, gold)
    return {c.table: c for module in modules for c in module.CONTRACTS}


def contracts() -> dict[str, Contract]:
    """Every contract by ``zone.table`` (imports the contract modules on first use)."""
    return _all()


def contract_for(table: str) -> Contract:
    """One table's contract, with a message that lists the known tables."""
    known = contracts()
    if table not in known:
        raise KeyError(
            f"no contract for {table!r}; contracts exist for: {', '.join(sorted(known))}"
        )
    return known[table]


__all__ = ["PII_CLASSES", "CheckSpec", "Contract", "Rule", "contract_for", "contracts"]
