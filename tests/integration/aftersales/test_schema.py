"""Aftersales' migrations go back down and up again (that they create exactly what tables.py
declares is tests/integration/common/test_schemas.py, for every service)."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from lvyue.aftersales.migrations import MIGRATIONS
from lvyue.aftersales.tables import metadata
from tests.support.schema import schema_diff


def _migrate(connection: Connection, target: str, *, down: bool = False) -> None:
    cfg = MIGRATIONS.config()
    cfg.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(cfg, target)


async def _checks(conn: AsyncConnection) -> set[str]:
    rows = await conn.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'cases'::regclass AND contype = 'c'"
        )
    )
    return {r.conname for r in rows}


_CASE = """
    INSERT INTO cases (id, order_id, type, reason, lines, state, source, platform, shop_id,
                       requested_at, updated_at)
    VALUES (:id, :order_id, 'exchange', 'wrong_item', '[]', :state, 'operator', 'taobao', 's1',
            now(), now())
"""


async def test_the_replacement_revision_downgrades_and_upgrades_again(
    aftersales_engine: AsyncEngine,
) -> None:
    """as0002 down: a case awaiting its replacement is completed (v1's word for it), the
    replacement columns go, the v1 CHECK is back; up again: the same schema as tables.py."""
    order_id, waiting, done = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with aftersales_engine.connect() as conn:
        await conn.execute(
            text("INSERT INTO orders (order_id, created_at, updated_at) VALUES (:o, now(), now())"),
            {"o": order_id},
        )
        await conn.execute(
            text(_CASE), {"id": waiting, "order_id": order_id, "state": "awaiting_replacement"}
        )
        await conn.execute(text(_CASE), {"id": done, "order_id": order_id, "state": "completed"})
        await conn.execute(
            text(
                "UPDATE cases SET replacement_shipment_id = :s, replacement_carrier = 'SF', "
                "replacement_tracking_number = 'SF1', replacement_dispatched_at = now() "
                "WHERE id = :id"
            ),
            {"s": uuid.uuid4(), "id": done},
        )
        with pytest.raises(IntegrityError, match="ck_cases_replacement_all_or_none"):
            async with conn.begin_nested():
                await conn.execute(
                    text("UPDATE cases SET replacement_carrier = NULL WHERE id = :id"), {"id": done}
                )
        assert {"ck_cases_state", "ck_cases_replacement_all_or_none"} <= await _checks(conn)
        await conn.commit()

        await conn.run_sync(_migrate, "as0001", down=True)
        await conn.commit()
        states = await conn.execute(text("SELECT id, state FROM cases ORDER BY id"))
        # v1 called "returned, replacement requested" completed
        assert {r.id: r.state for r in states} == {waiting: "completed", done: "completed"}
        columns = await conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'cases'")
        )
        assert not [c for (c,) in columns if c.startswith("replacement_")]
        assert "ck_cases_ck_cases_state" in await _checks(conn)
        with pytest.raises(IntegrityError, match="ck_cases_ck_cases_state"):
            async with conn.begin_nested():
                await conn.execute(
                    text("UPDATE cases SET state = 'awaiting_replacement' WHERE id = :id"),
                    {"id": waiting},
                )
        await conn.commit()

        await conn.run_sync(_migrate, "head")
        await conn.commit()
        await conn.execute(
            text("UPDATE cases SET state = 'awaiting_replacement' WHERE id = :id"), {"id": waiting}
        )
        checks = await _checks(conn)
        assert {"ck_cases_state", "ck_cases_replacement_all_or_none"} <= checks
        assert "ck_cases_ck_cases_state" not in checks
        assert await conn.run_sync(schema_diff, metadata) == []
