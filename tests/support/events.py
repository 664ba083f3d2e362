"""A test-only event type, so kernel tests do not depend on any service's events."""

from pydantic import BaseModel, ConfigDict

from lvyue.common.events import register


class Ping(BaseModel):
    model_config = ConfigDict(frozen=True)
    n: int
    poison: bool = False
    note: str = ""  # free text, for hostile content


PING = register("test.ping", Ping, description="kernel tests only")
