"""What order-review holds for a platform's order, looked up by its platform ids (order sync
tests: after a notification, a pull or a platform-side change)."""

from __future__ import annotations

from lvyue.common.bootstrap import Kernel
from lvyue.order_review import repository
from lvyue.order_review.repository import OrderRecord


async def held_order(
    kernel: Kernel, platform: str, shop_id: str, platform_order_id: str
) -> OrderRecord:
    """The order, which must be held."""
    async with kernel.uow() as uow:
        order_id = await repository.order_id_for(
            uow.session, platform=platform, shop_id=shop_id, platform_order_id=platform_order_id
        )
        assert order_id is not None, f"{platform} order {platform_order_id} is not held"
        record = await repository.get_order(uow.session, order_id)
    assert record is not None
    return record
