"""`lvyue demo`: the typer command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET


def demo(
    orders: Annotated[int, typer.Option(min=1, max=5000, help="Orders to post.")] = 60,
    duration: Annotated[
        float,
        typer.Option(min=5, help="Seconds the demo runs at most (it ends earlier when done)."),
    ] = 60.0,
    host: Annotated[str, typer.Option(help="Where the services listen.")] = "127.0.0.1",
    base_port: Annotated[
        int | None, typer.Option(help="First service port (default: 8101, 8102, ...).")
    ] = None,
    warehouse: Annotated[
        str, typer.Option(help="Warehouse to stock and pick from (inventory's default).")
    ] = "WH-SH-01",
    ops_token: Annotated[
        str, typer.Option(envvar="LVYUE_DEMO_OPS_TOKEN", help="Bearer token with role ops.")
    ] = DEV_TOKENS["ops"][0],
    warehouse_token: Annotated[
        str,
        typer.Option(envvar="LVYUE_DEMO_WAREHOUSE_TOKEN", help="Bearer token with role warehouse."),
    ] = DEV_TOKENS["warehouse"][0],
    webhook_secret: Annotated[
        str, typer.Option(envvar="LVYUE_DEMO_WEBHOOK_SECRET", help="Secret the webhooks sign with.")
    ] = DEV_WEBHOOK_SECRET,
    seed: Annotated[int | None, typer.Option(help="Random seed for receivers and SKUs.")] = None,
) -> None:
    """Drive the running system (`make run`) like its users: orders flow, `lvyue status` moves.

    Stocks a few SKUs (two below their safety threshold, so low-stock fires); posts signed
    orders from lvyue, Shopify, Taobao, JD, Pinduoduo and Douyin with receivers across China,
    about one in four abnormal on purpose (incomplete address, invalid phone, 请改地址, unpaid,
    unknown SKU, out of stock); acts as the warehouse (pick list, SF/YTO/ZTO dispatches); works
    the abnormal queue as an operator (contacts, one address correction, one remark and one
    unpaid order accepted after checking); opens after-sale cases
    and approves, receives returns and refunds them. Each run uses fresh platform order ids.
    """
    from lvyue.cli.demo.client import Services
    from lvyue.cli.demo.runner import run_demo

    svc = Services(host, base_port, ops_token, warehouse_token, webhook_secret)
    try:
        run_demo(svc, Console(), orders=orders, duration_s=duration, warehouse=warehouse, seed=seed)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        svc.close()
