"""Request context middleware (request ids, latency by route template) and the health router."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from lvyue.common.app import health
from lvyue.common.http import RequestContextMiddleware

METRIC = "lvyue_http_request_duration_seconds"


def build_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(build_app(), raise_server_exceptions=False) as c:
        yield c


def requests_seen(route: str, status: int, method: str = "GET") -> float:
    """How many requests the latency histogram has counted for these labels (the registry is
    process-wide, so tests compare before and after)."""
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value(f"{METRIC}_count", labels) or 0.0


def routes_labelled() -> set[str]:
    return {
        sample.labels["route"]
        for metric in REGISTRY.collect()
        if metric.name == METRIC
        for sample in metric.samples
        if "route" in sample.labels
    }


# --- request ids -----------------------------------------------------------------------------


def test_a_request_gets_a_fresh_request_id(client: TestClient) -> None:
    first = client.get("/items/1").headers["x-request-id"]
    second = client.get("/items/1").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("header", ["X-Request-ID", "x-request-id"])
def test_a_given_request_id_is_echoed_back(client: TestClient, header: str) -> None:
    request_id = f"req-{uuid.uuid4()}"
    response = client.get("/items/1", headers={header: request_id})
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("given", ["小林".encode(), b"caf\xe9", b"a\x7fb", b""])
def test_a_request_id_that_is_not_printable_ascii_is_replaced(
    client: TestClient, given: bytes
) -> None:
    response = client.get("/items/1", headers=[(b"X-Request-ID", given)])
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_an_overlong_request_id_is_cut_to_128_characters(client: TestClient) -> None:
    response = client.get("/items/1", headers={"X-Request-ID": "r" * 500})
    assert response.headers["x-request-id"] == "r" * 128


@pytest.mark.parametrize("path", ["/items/not-a-number", "/nowhere"])
def test_error_responses_carry_a_request_id_too(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"X-Request-ID": "err-1"})
    assert response.status_code in {404, 422}
    assert response.headers["x-request-id"] == "err-1"


# --- latency metric --------------------------------------------------------------------------


def test_latency_is_labelled_with_the_route_template_not_the_raw_path(client: TestClient) -> None:
    before = requests_seen("/items/{item_id}", 200)
    item_id = 900_000_000 + uuid.uuid4().int % 1_000_000
    assert client.get(f"/items/{item_id}").status_code == 200
    assert requests_seen("/items/{item_id}", 200) == before + 1
    assert requests_seen(f"/items/{item_id}", 200) == 0
    assert not any(str(item_id) in route for route in routes_labelled())


def test_latency_is_labelled_with_the_response_status(client: TestClient) -> None:
    before = requests_seen("/items/{item_id}", 422)
    assert client.get("/items/not-a-number").status_code == 422
    assert requests_seen("/items/{item_id}", 422) == before + 1


def test_an_unmatched_path_is_labelled_unmatched(client: TestClient) -> None:
    path = f"/no/such/{uuid.uuid4().hex}"
    before = requests_seen("unmatched", 404)
    assert client.get(path).status_code == 404
    assert requests_seen("unmatched", 404) == before + 1
    assert path not in routes_labelled()


def test_a_failing_route_is_counted_as_500(client: TestClient) -> None:
    before = requests_seen("/boom", 500)
    assert client.get("/boom").status_code == 500
    assert requests_seen("/boom", 500) == before + 1


def test_the_histogram_observes_a_duration(client: TestClient) -> None:
    labels = {"method": "GET", "route": "/items/{item_id}", "status": "200"}
    before = REGISTRY.get_sample_value(f"{METRIC}_sum", labels) or 0.0
    client.get("/items/3")
    after = REGISTRY.get_sample_value(f"{METRIC}_sum", labels)
    assert after is not None
    assert after > before


# --- health router ---------------------------------------------------------------------------


def test_livez_returns_200_ok(client: TestClient) -> None:
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_returns_prometheus_text(client: TestClient) -> None:
    client.get("/items/1")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert f"# TYPE {METRIC} histogram" in response.text
    assert f'{METRIC}_count{{method="GET",route="/items/{{item_id}}",status="200"}}' in (
        response.text
    )


def test_metrics_answers_only_the_samples_named(client: TestClient) -> None:
    client.get("/items/1")
    count = f"{METRIC}_count"
    response = client.get("/metrics", params=[("name[]", count), ("name[]", "no_such_metric")])
    assert response.status_code == 200
    sample_names = {
        line.split("{")[0].split(" ")[0]
        for line in response.text.splitlines()
        if line and not line.startswith("#")
    }
    assert sample_names == {count}  # not its buckets or sum, nor any other metric
    assert client.get("/metrics", params={"name[]": "no_such_metric"}).text == ""


def test_metrics_names_are_bounded(client: TestClient) -> None:
    response = client.get("/metrics", params=[("name[]", f"m{n}") for n in range(65)])
    assert response.status_code == 422
    assert "name[]" in response.text
