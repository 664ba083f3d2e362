"""Typed dependencies of the shipment routes: the fulfilment context and the roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lvyue.common.security import GrantedRoles, Role, require_role
from lvyue.fulfilment.context import FulfilmentContext


async def get_context(request: Request) -> FulfilmentContext:
    context: FulfilmentContext = request.app.state.fulfilment
    return context


ContextDep = Annotated[FulfilmentContext, Depends(get_context)]
Reader = Annotated[GrantedRoles, Depends(require_role(Role.WAREHOUSE, Role.OPS, Role.SRE))]
WarehouseStaff = Annotated[GrantedRoles, Depends(require_role(Role.WAREHOUSE))]
Operator = Annotated[GrantedRoles, Depends(require_role(Role.OPS))]
