"""The operator as the audit records them: their AWS identity, acting for the national service."""

from __future__ import annotations

from signpost.authz import Caller
from signpost.dal.stack import operator_arn
from signpost.models.common import OrgType, Role

OPERATOR_ORG = "NATIONAL"


def operator_caller(role: Role) -> Caller:
    """`admin` for directory changes, `auditor` for reports and reviews."""
    return Caller(
        sub=operator_arn(),
        org=OPERATOR_ORG,
        role=role,
        org_type=OrgType.NATIONAL,
        org_name="Signpost national service",
        area=None,
        sensitive_service=False,
    )
