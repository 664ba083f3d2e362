"""The operators' console in a real browser (Debian's Chromium, headless, driven by Playwright)
on the whole system as processes (`lvyue run`): an operator works a remark-flagged order out of
the abnormal queue with the keyboard alone, a warehouse lead confirms a dispatch, a token
without the role is refused, personal data stays masked until revealed (and the reveal is
logged), both languages read, and every control has a label. A screenshot of each page is kept
under test-artifacts/console/."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.polling import eventually
from tests.support.processes import (
    http,
    post_order,
    start_lvyue_run,
    stock_over_api,
    stop,
    wait_http,
)
from tests.support.webhooks import canonical_sample

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(
    os.environ.get("LVYUE_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
WAREHOUSE = "WH-SH-01"
SKUS = ("TEA-LJ-250G", "CUP-GLASS-01")  # the sample order's lines
OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}
WAREHOUSE_STAFF = {"Authorization": f"Bearer {DEV_TOKENS['warehouse'][0]}"}
PHONE = "13912345678"


@dataclass(frozen=True)
class Stack:
    review: str
    fulfilment: str
    aftersales: str
    console: str
    console_log: Path  # the console's own log, in lvyue run's state folder


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("console")
    port, broker_port = free_port_block(PORT_BLOCK), free_port()
    log = tmp / "run.log"
    run = start_lvyue_run(tmp / "state", broker_port, port, log)
    try:
        for n in range(4):
            wait_http(f"http://127.0.0.1:{port + n}/readyz", process=run)
        console = f"http://127.0.0.1:{port + PORT_BLOCK - 1}"
        wait_http(f"{console}/livez", process=run)
        await stock_over_api(f"http://127.0.0.1:{port + 1}", OPS, WAREHOUSE, SKUS)
        yield Stack(
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{port + 2}",
            f"http://127.0.0.1:{port + 3}",
            console,
            tmp / "state" / "console.log",
        )
    finally:
        stop(run)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert shutil.which(CHROMIUM), "chromium is missing: `make tools` installs it (Debian)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        await launched.close()


async def _post_order(stack: Stack, **changes: Any) -> str:
    order = canonical_sample()
    order.update(
        remarks="", platform_order_id=uuid.uuid4().hex, paid_at=datetime.now(UTC).isoformat()
    )
    order["receiver"]["phone"] = PHONE
    order.update(changes)
    return await post_order(stack.review, order, DEV_WEBHOOK_SECRET)


async def _status(stack: Stack, order_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (
        await http("GET", f"{stack.review}/orders/{order_id}", headers=OPS)
    ).json()
    return data


async def _sign_in(browser: Browser, stack: Stack, role: str, name: str, locale: str) -> Page:
    context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{stack.console}/")
    await page.get_by_label("Your name" if locale.startswith("en") else "您的姓名").fill(name)
    await page.locator("#token").fill(DEV_TOKENS[role][0])
    await page.locator("#token").press("Enter")
    await page.wait_for_load_state()
    return page


async def _shot(page: Page, name: str) -> None:
    folder = ARTIFACTS / "console"
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def _unlabelled_controls(page: Page) -> list[str]:
    """Visible inputs, selects, textareas and buttons with no accessible name."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(el => el.type !== 'hidden')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML.slice(0, 120))"""
    )
    return found


async def test_an_operator_accepts_a_remark_finding_by_keyboard_and_it_leaves_the_queue(
    stack: Stack, browser: Browser
) -> None:
    order_id = await _post_order(stack, remarks="买家备注：请开增值税发票")
    await eventually(lambda: _status(stack, order_id), lambda o: o["status"] == "abnormal")

    page = await _sign_in(browser, stack, "ops", "小林", "zh-CN")  # a name in Chinese, too
    assert page.url.endswith("/queue")
    row = page.locator(f'tr[data-order-id="{order_id}"]')
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("备注需人工处理")  # remark_needs_human, in Chinese
    await expect(page.locator("h1")).to_have_text("异常订单")
    await _shot(page, "queue")
    assert await _unlabelled_controls(page) == []

    # Keyboard only: Tab to this row's reason select (the suggested reason is chosen), on to
    # its note, type, Tab to its button, Enter.
    reason = row.locator("select[name=reason]")
    await expect(reason).to_have_value("remark_handled")
    for _ in range(400):
        if await reason.evaluate("el => el === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    else:
        pytest.fail("Tab never reached the row's reason")
    await page.keyboard.press("Tab")
    await page.keyboard.type("已开发票")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/queue?done=accepted")
    await expect(page.locator('[role="status"]')).to_contain_text("已确认异常")
    await expect(page.locator(f'tr[data-order-id="{order_id}"]')).to_have_count(0)

    order = await _status(stack, order_id)
    assert order["status"] == "reviewed", order["status"]
    (acceptance,) = order["acceptances"]
    assert acceptance["accepted_by"] == "小林"
    assert acceptance["reason"] == "remark_handled"
    assert acceptance["note"] == "已开发票"
    await page.context.close()


async def test_personal_data_is_masked_until_revealed_and_the_reveal_is_logged(
    stack: Stack, browser: Browser
) -> None:
    order_id = await _post_order(stack, remarks="请改地址")
    await eventually(lambda: _status(stack, order_id), lambda o: o["status"] == "abnormal")
    page = await _sign_in(browser, stack, "ops", "cs-aming", "en-US")
    await page.goto(f"{stack.console}/orders/{order_id}")
    receiver = page.locator("#receiver")
    await expect(receiver).to_contain_text("139****5678")
    assert PHONE not in await page.content()
    await _shot(page, "order")
    assert await _unlabelled_controls(page) == []

    await page.get_by_role("button", name="Show personal data").click()
    await expect(page.locator("#receiver")).to_contain_text(PHONE)
    await expect(page.get_by_text("this was logged")).to_be_visible()
    await _shot(page, "order-revealed")

    def revealed() -> bool:
        for line in stack.console_log.read_text(errors="replace").splitlines():
            if "personal_data_revealed" in line and order_id in line and "cs-aming" in line:
                return True
        return False

    async def check() -> bool:
        return revealed()

    await eventually(check, bool, timeout_s=10)
    await page.context.close()


async def _shipments(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    found = await http(
        "GET", f"{stack.fulfilment}/shipments", params={"order_id": order_id},
        headers=WAREHOUSE_STAFF,
    )  # fmt: skip
    items: list[dict[str, Any]] = found.json()["items"]
    return items


async def test_a_warehouse_lead_confirms_a_dispatch_from_the_pick_list(
    stack: Stack, browser: Browser
) -> None:
    order_id = await _post_order(stack)

    async def shipment() -> list[dict[str, Any]]:
        return await _shipments(stack, order_id)

    (pending,) = await eventually(shipment, lambda s: len(s) == 1, timeout_s=30)
    page = await _sign_in(browser, stack, "warehouse", "wh-laowang", "zh-CN")
    assert page.url.endswith("/pick-list")
    row = page.locator(f'tr[data-shipment-id="{pending["id"]}"]')
    await expect(row).to_be_visible()
    await expect(row.locator("time[data-due]")).to_have_attribute("datetime", pending["due_at"])
    await _shot(page, "pick-list")
    assert await _unlabelled_controls(page) == []

    await row.get_by_label("快递公司").fill("SF")
    await row.get_by_label("运单号").fill("SF1234567890")
    await row.get_by_role("button", name="确认发货").click()
    await page.wait_for_url("**/pick-list?done=dispatched")
    await expect(page.locator(f'tr[data-shipment-id="{pending["id"]}"]')).to_have_count(0)
    (dispatched,) = await shipment()
    assert dispatched["status"] == "dispatched"
    assert dispatched["tracking_number"] == "SF1234567890"
    await page.context.close()


async def test_a_token_without_the_role_is_refused_and_the_sla_board_reads_for_all(
    stack: Stack, browser: Browser
) -> None:
    page = await _sign_in(browser, stack, "sre", "sre-on-call", "en-US")
    assert page.url.endswith("/board")
    await expect(page.locator("h1")).to_have_text("SLA board")
    await expect(page.locator('tr[data-sla="review_by_0900"]')).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^Figures as of \d\d:\d\d:\d\d;"))).to_be_visible()
    nav = page.locator("header nav")
    # only what sre may open
    await expect(nav.get_by_role("link")).to_have_text(["SLA board", "Dead letters"])
    await _shot(page, "sla-board")

    await nav.get_by_role("link", name="Dead letters").click()
    await expect(page.locator("h1")).to_have_text("Dead letters")
    await expect(page.get_by_text("Nothing here.")).to_be_visible()  # every service answered
    await expect(page.locator('[role="alert"]')).to_have_count(0)
    await _shot(page, "dead-letters")

    response = await page.goto(f"{stack.console}/queue")
    assert response is not None
    assert response.status == 403
    await expect(page.locator("h1")).to_contain_text("ops")
    await _shot(page, "forbidden")

    cases = await page.goto(f"{stack.console}/cases")
    assert cases is not None
    assert cases.status == 403

    await page.get_by_role("link", name="中文").click()
    await page.goto(f"{stack.console}/board")
    await expect(page.locator("h1")).to_have_text("时效看板")
    await page.context.close()


async def test_after_sale_cases_page_lists_and_a_signed_out_visitor_signs_in_first(
    stack: Stack, browser: Browser
) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(f"{stack.console}/cases")
    assert "/sign-in?next=/cases" in page.url
    await expect(page.locator("h1")).to_have_text("Sign in")
    await _shot(page, "sign-in")
    assert await _unlabelled_controls(page) == []
    await page.get_by_label("Your name").fill("cs-xiaolin")
    await page.locator("#token").fill(DEV_TOKENS["ops"][0])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/cases")
    await expect(page.locator("h1")).to_have_text("After-sale cases")
    await _shot(page, "cases")
    await context.close()


async def _shipped_order(stack: Stack) -> str:
    """An order dispatched (through the API) and known to aftersales as shipped."""
    order_id = await _post_order(stack)

    async def shipment() -> list[dict[str, Any]]:
        return await _shipments(stack, order_id)

    (pending,) = await eventually(shipment, lambda s: len(s) == 1, timeout_s=30)
    dispatched = await http(
        "POST", f"{stack.fulfilment}/shipments/{pending['id']}/dispatch",
        json={"carrier_code": "SF", "tracking_number": "SF" + order_id[:10],
              "dispatched_at": datetime.now(UTC).isoformat()},
        headers=WAREHOUSE_STAFF,
    )  # fmt: skip
    assert dispatched.status_code == 200, dispatched.text

    async def known() -> dict[str, Any]:
        answer = await http("GET", f"{stack.aftersales}/orders/{order_id}", headers=OPS)
        return answer.json() if answer.status_code == 200 else {}

    await eventually(known, lambda o: o.get("shipped") is True, timeout_s=30)
    return order_id


async def test_a_return_is_approved_received_and_refunded_from_the_cases_page(
    stack: Stack, browser: Browser
) -> None:
    order_id = await _shipped_order(stack)
    opened = await http(
        "POST", f"{stack.aftersales}/aftersales",
        json={"order_id": order_id, "type": "return_and_refund", "reason": "quality",
              "description": "茶叶受潮结块", "lines": [{"sku": SKUS[0], "quantity": 1}],
              "refund_amount": "168.00"},
        headers=OPS | {"Idempotency-Key": f"case-{order_id}"},
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]

    agent = await _sign_in(browser, stack, "ops", "cs-xiaolin", "en-US")
    await agent.goto(f"{stack.console}/cases?state=requested")
    row = agent.locator(f'tr[data-case-id="{case_id}"]')
    await expect(row).to_contain_text("after-sale answer within 24 h")
    assert await _unlabelled_controls(agent) == []
    await row.get_by_label("Note").fill("同意退货退款")
    await row.get_by_role("button", name="Approve").click()
    await agent.wait_for_url("**/cases?done=1")

    lead = await _sign_in(browser, stack, "warehouse", "wh-laowang", "en-US")
    await lead.goto(f"{stack.console}/cases?state=awaiting_return")
    row = lead.locator(f'tr[data-case-id="{case_id}"]')
    await expect(row.get_by_label(SKUS[0])).to_have_value("1")
    assert await _unlabelled_controls(lead) == []
    await row.get_by_role("button", name="Return received").click()
    await lead.wait_for_url("**/cases?done=1")

    await agent.goto(f"{stack.console}/cases?state=awaiting_refund")
    row = agent.locator(f'tr[data-case-id="{case_id}"]')
    await expect(row).to_contain_text("refund within 48 h of the return")
    await row.get_by_label("Refund").fill("ALIPAY-RF-0001")
    await row.get_by_role("button", name="Refund").click()
    await agent.wait_for_url("**/cases?done=1")
    await _shot(agent, "cases-refunded")

    case = (await http("GET", f"{stack.aftersales}/aftersales/{case_id}", headers=OPS)).json()
    assert case["state"] == "refunded"
    assert case["refund"]["reference"] == "ALIPAY-RF-0001"
    assert "cs-xiaolin" in case["decided_by"]
    assert [
        (line["sku"], line["quantity"], line["sellable"]) for line in case["returned_lines"]
    ] == [(SKUS[0], 1, True)]
    await agent.context.close()
    await lead.context.close()
