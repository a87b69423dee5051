"""Directory entries (organisations)."""

from __future__ import annotations

from pydantic import Field

from signpost.models.common import Contact, OrganisationRef, OrgType, OutModel, StrictModel


class Organisation(OutModel):
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
