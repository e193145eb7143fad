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


def test_one_select_list_masks_for_both_entry_points() -> None:
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    from governance.access.gate import role_columns

    analyst = role("analyst")
    schema = StructType(
        [StructField(n, StringType()) for n in ("inspection_id", "officer_id")]
        + [StructField("n", IntegerType())]
    )
    # sql --role leaves a denied column out; serve --role keeps it as a typed NULL to name it.
    assert role_columns(analyst, "gold.fct_inspections", schema) == ["`inspection_id`", "`n`"]
    assert role_columns(analyst, "gold.fct_inspections", schema, denied_as_null=True)[1] == (
        "CAST(NULL AS string) AS `officer_id`"
    )
    traders = StructType(
        [StructField("trader_id", StringType()), StructField("name", StringType())]
    )
    assert role_columns(analyst, "gold.dim_traders", traders) == [
        "sha2(cast(`trader_id` as string), 256) AS `trader_id`",
        "concat(substr(cast(`name` as string), 1, 2), '***') AS `name`",
    ]


def test_a_thrift_statement_outcome_from_its_state_and_error() -> None:
    from governance.audit.statements import outcome_of

    assert outcome_of("FINISHED", "") == outcome_of("CLOSED", "") == "ok"
    refusal = "role analyst may not read table silver.x"
    assert outcome_of("FAILED", refusal) == "denied"
    assert outcome_of("FAILED", "[PARSE_SYNTAX_ERROR] Syntax error") == "error"
    assert outcome_of("CANCELED", "") == "canceled"
    assert outcome_of("FAILED", "role analyst may only run queries (SELECT/WITH): DDL") == "denied"
