"""The access policy file: roles, table patterns, denied columns, masks; bad files refused."""

from __future__ import annotations

import pytest

from governance.access.policy import ROLES, PolicyError, load_policy, role

pytestmark = pytest.mark.unit


def test_the_policy_defines_the_four_roles_and_their_reach() -> None:
    roles = load_policy()
    assert set(roles) == set(ROLES)
    analyst = roles["analyst"]
    assert analyst.may_read_table("gold.fct_declarations")
    assert not analyst.may_read_table("silver.int_cms__declarations")
    assert not analyst.may_read_table("gold.ml_declaration_features")  # denied as a whole
    assert analyst.denied_columns("gold.fct_inspections") == {"officer_id"}
    assert analyst.masks_of("gold.dim_traders") == {"trader_id": "hash", "name": "partial"}
    assert roles["auditor"].may_read_table("governance.audit_log")
    assert not roles["auditor"].may_read_table("gold.fct_declarations")


def test_unknown_roles_and_masks_are_errors_naming_them(tmp_path) -> None:
    with pytest.raises(PolicyError, match="unknown role 'intern'"):
        role("intern")
    bad = tmp_path / "policy.yml"
    bad.write_text("roles:\n  analyst:\n    read: ['gold.*']\n    masks: {gold.t.c: scramble}\n")
    with pytest.raises(PolicyError, match=r"role analyst: unknown masks \['scramble'\]"):
        load_policy(bad)
