"""Typed dependencies of the inventory routes: the stock policy, roles, the actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lvyue.common.security import GrantedRoles, Role, require_role
from lvyue.inventory.domain import StockPolicy


async def get_policy(request: Request) -> StockPolicy:
    policy: StockPolicy = request.app.state.policy
    return policy


PolicyDep = Annotated[StockPolicy, Depends(get_policy)]
Writer = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.WAREHOUSE))]
Reader = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.WAREHOUSE, Role.SRE))]


def actor(roles: GrantedRoles) -> str:
    """The audit trail's actor: the caller's roles."""
    return "api:" + ",".join(sorted(roles))
