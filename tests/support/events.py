"""A test-only event type, so kernel tests do not depend on any service's events."""

from pydantic import BaseModel, ConfigDict

from lvyue.common.events import register


class Ping(BaseModel):
    model_config = ConfigDict(frozen=True)
    n: int
    poison: bool = False
    note: str = ""  # free text, for hostile content


PING = register("test.ping", Ping, description="kernel tests only")


class Pong(BaseModel):
    model_config = ConfigDict(frozen=True)
    n: int


# No lvyue consumer reads it: stands for a topic only an outside system (a warehouse) consumes.
PONG = register("test.pong", Pong, description="kernel tests only: a topic nobody here consumes")
