"""Transaction-scoped advisory locks: serialize work on one key (an order) across replicas."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

# Taken in the order of the lock keys themselves, so two transactions locking several keys
# never wait on each other in a circle. Released when the transaction ends.
_LOCK = text(
    """
    SELECT pg_advisory_xact_lock(:namespace, key)
    FROM (SELECT DISTINCT hashtext(name) AS key FROM unnest(:names) AS name ORDER BY key) AS keys
    """
).bindparams(bindparam("names", type_=ARRAY(Text)))


async def lock_keys(session: AsyncSession, namespace: int, names: Iterable[str]) -> None:
    """Holds an advisory lock per name (in `namespace`) until the transaction ends."""
    wanted = sorted(set(names))
    if wanted:
        await session.execute(_LOCK, {"namespace": namespace, "names": wanted})
