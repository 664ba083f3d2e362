"""Where `lvyue run` puts each process, with one replica and with several."""

from __future__ import annotations

import pytest

from lvyue.cli.services import PORT_BLOCK, api_url, placements, ports_used, process_urls


def test_one_replica_keeps_the_usual_ports_and_names() -> None:
    assert {p.name: (p.port, p.shared_port) for p in placements(None)} == {
        "order-review": (8101, None),
        "order-review consumers": (8105, None),
        "inventory": (8102, None),
        "fulfilment": (8103, None),
        "aftersales": (8104, None),
    }
    assert ports_used(1) == PORT_BLOCK


def test_replicas_share_the_api_port_and_each_has_its_own() -> None:
    found = placements(9000, replicas=2)
    assert len(found) == 10
    own = [p.port for p in found]
    assert len(set(own)) == len(own)  # no two processes on one own port
    assert all(9000 <= port < 9000 + ports_used(2) for port in own)
    apis = {p.name: p.shared_port for p in found if not p.consumers}
    assert apis["order-review"] == apis["order-review #2"] == 9000
    assert apis["inventory"] == apis["inventory #2"] == 9001
    # the shared ports are nobody's own port: the replicas bind them with SO_REUSEPORT
    assert not set(apis.values()) & set(own)
    consumers = [p for p in found if p.consumers]
    assert [p.name for p in consumers] == ["order-review consumers", "order-review consumers #2"]
    assert all(p.shared_port is None for p in consumers)
    assert api_url("127.0.0.1", 9000, "order-review") == "http://127.0.0.1:9000"
    assert set(process_urls("127.0.0.1", 9000, 2)) == {p.name for p in found}


def test_replicas_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="replicas"):
        placements(None, replicas=0)
