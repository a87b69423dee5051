"""Directory entries (organisations)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from signpost.models.common import Contact, OrganisationRef, OrgType, OutModel, StrictModel


class Organisation(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "code": "E09000007",
            "name": "London Borough of Camden",
            "type": "local_authority",
            "area": "E09000007",
            "sensitive_service": False,
            "contact": {
                "team": "Camden MASH",
                "phone": "020 7974 3317",
                "email": "mash@camden.example.gov.uk",
            },
            "manager_contact": {
                "team": "Camden safeguarding duty manager",
                "phone": "020 7974 1000",
                "email": "duty.manager@camden.example.gov.uk",
                "out_of_hours_phone": "020 7974 4444",
            },
            "active": True,
        }
    ]

    code: str
    name: str
    type: OrgType
    area: str | None = None
    sensitive_service: bool = False
    contact: Contact
    manager_contact: Contact
    active: bool = True

    @property
    def ref(self) -> OrganisationRef:
        return OrganisationRef(code=self.code, name=self.name)


class OrganisationIn(StrictModel):
    """PUT /v1/organisations/{code} (admin)."""

    code: str = Field(min_length=2, max_length=20, pattern=r"^[A-Z0-9][A-Z0-9\-]*$")
    name: str = Field(min_length=2, max_length=200)
    type: OrgType
    area: str | None = Field(default=None, max_length=20)
    sensitive_service: bool = False
    contact: Contact
    manager_contact: Contact
    active: bool = True
