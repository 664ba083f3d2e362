"""Stock for every SKU the bench orders, through the inventory API (as a warehouse would)."""

from __future__ import annotations

import asyncio

import httpx

from lvyue.cli.bench.orders import Sku

WAREHOUSE = "WH-SH-01"  # LVYUE_DEFAULT_WAREHOUSE_ID's default: where orders reserve
RECEIPT_MAX = 1_000_000  # the API's largest single receipt


async def stock_skus(
    inventory_url: str, ops_token: str, skus: list[Sku], *, units: int, concurrency: int = 8
) -> None:
    """Creates each SKU and receives `units` of it (in receipts of at most RECEIPT_MAX)."""
    headers = {"Authorization": f"Bearer {ops_token}"}
    gate = asyncio.Semaphore(concurrency)

    async def stock(client: httpx.AsyncClient, sku: Sku) -> None:
        async with gate:
            created = await client.put(
                f"/skus/{WAREHOUSE}/{sku.code}", json={"name": sku.name}, headers=headers
            )
            if created.status_code not in {200, 201}:
                raise RuntimeError(f"creating {sku.code}: {created.status_code} {created.text}")
            left, part = units, 0
            while left > 0:
                quantity = min(left, RECEIPT_MAX)
                receipt = await client.post(
                    "/stock/receipts",
                    json={"warehouse_id": WAREHOUSE, "sku": sku.code, "quantity": quantity,
                          "reference": f"BENCH-PO-{sku.code}-{part}"},
                    headers=headers,
                )  # fmt: skip
                if receipt.status_code not in {200, 201}:
                    raise RuntimeError(f"stocking {sku.code}: {receipt.status_code} {receipt.text}")
                left, part = left - quantity, part + 1

    async with httpx.AsyncClient(base_url=inventory_url, timeout=30.0) as client:
        await asyncio.gather(*(stock(client, sku) for sku in skus))
