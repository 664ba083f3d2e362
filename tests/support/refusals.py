"""What hostile-input tests of the intake jobs need around them: a real database refusing chosen
rows (the sandbox is served on loopback by tests.support.apps.on_loopback)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

REFUSAL = "refused by the test"


async def refuse_rows(engine: AsyncEngine, table: str, when: str) -> None:
    """From now on the database itself refuses to insert or update the rows of `table` that
    `when` (SQL on NEW) holds for, raising REFUSAL: a failure the code did not foresee, as a
    constraint, a lock timeout or a bug would be. The test's database is its own."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION refused_by_the_test() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
            )
        )
        await conn.execute(
            text(
                f"CREATE TRIGGER refused_by_the_test_{table} BEFORE INSERT OR UPDATE ON {table} "
                f"FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION refused_by_the_test()"
            )
        )


async def accept_rows(engine: AsyncEngine, table: str) -> None:
    """refuse_rows undone for `table`."""
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TRIGGER refused_by_the_test_{table} ON {table}"))
