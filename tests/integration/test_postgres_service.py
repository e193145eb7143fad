"""PostgreSQL, the CMS write-back target, runs for real in the tests."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_postgres_accepts_connections_and_transactions(postgres) -> None:
    import psycopg

    with psycopg.connect(postgres.dsn) as conn:
        conn.execute("create table if not exists probe (id int primary key, v text)")
        conn.execute(
            "insert into probe values (1, 'x') on conflict (id) do update set v = excluded.v"
        )
        conn.execute(
            "insert into probe values (1, 'y') on conflict (id) do update set v = excluded.v"
        )
        rows = conn.execute("select id, v from probe").fetchall()
    assert rows == [(1, "y")]
