"""Typed dependencies of the aftersales routes: context, ledger policy, roles, the actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lvyue.aftersales.commands import CaseContext
from lvyue.aftersales.ledger.publish import LedgerPolicy
from lvyue.common.security import GrantedRoles, Role, require_role


async def get_context(request: Request) -> CaseContext:
    ctx: CaseContext = request.app.state.cases
    return ctx


async def get_ledger_policy(request: Request) -> LedgerPolicy:
    policy: LedgerPolicy = request.app.state.ledger
    return policy


CtxDep = Annotated[CaseContext, Depends(get_context)]
LedgerPolicyDep = Annotated[LedgerPolicy, Depends(get_ledger_policy)]
Ops = Annotated[GrantedRoles, Depends(require_role(Role.OPS))]
Warehouse = Annotated[GrantedRoles, Depends(require_role(Role.WAREHOUSE))]
Reader = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.WAREHOUSE, Role.SRE))]
Reporter = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.SRE))]


def actor(roles: GrantedRoles, operator: str | None) -> str:
    """The audit trail's actor: the named operator, else the caller's roles."""
    return operator or "api:" + ",".join(sorted(roles))
