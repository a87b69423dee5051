"""The API's bodies as typed dictionaries, named as in the OpenAPI document's components.

A test keeps each one's keys equal to its schema's properties (and `NotRequired` equal to the
schema's optional ones), so these cannot drift from `openapi.json`.
"""

from typing import Literal, NotRequired, TypedDict

Category = Literal["looked_after", "child_protection_plan", "child_in_need", "domestic_abuse"]
Sex = Literal["female", "male", "indeterminate", "not_known"]
RecordStatus = Literal["active", "closed"]
Outcome = Literal["match", "possible_match", "no_match"]
SearchReason = Literal[
    "safeguarding_concern", "new_to_service", "referral", "emergency_care", "police_enquiry"
]
CloseReason = Literal["plan_ended", "moved_abroad", "reached_adulthood", "died", "registered_in_error"]
ShieldingReason = Literal["adoption", "witness_protection", "refuge", "court_order"]
TransferReason = Literal["family_moved", "placed_out_of_area", "returned_home", "other"]
DeclineReason = Literal["not_resident", "known_elsewhere", "insufficient_information", "other"]
TransferStatus = Literal["requested", "acknowledged", "accepted", "declined", "withdrawn"]
Direction = Literal["incoming", "outgoing"]
OrgType = Literal["local_authority", "police", "health", "education", "national"]
Role = Literal["la_practitioner", "la_manager", "health", "education", "police", "auditor", "admin"]
NotificationType = Literal[
    "transfer_requested",
    "transfer_acknowledged",
    "transfer_accepted",
    "transfer_declined",
    "transfer_withdrawn",
    "transfer_overdue",
    "record_viewed",
    "seen_in_other_area",
    "review_due",
    "break_glass_used",
]


class Contact(TypedDict):
    team: str
    phone: str
    email: str
    out_of_hours_phone: NotRequired[str | None]


class OrganisationRef(TypedDict):
    code: str
    name: str


class OtherName(TypedDict):
    given_names: NotRequired[str | None]
    family_name: NotRequired[str | None]


class Shielding(TypedDict):
    reason: ShieldingReason


class RegisterRequest(TypedDict):
    given_names: str
    family_name: str
    date_of_birth: str
    categories: list[Category]
    review_by: str
    sex: NotRequired[Sex | None]
    nhs_number: NotRequired[str | None]
    postcode: NotRequired[str | None]
    other_names: NotRequired[list[OtherName]]
    contact: NotRequired[Contact | None]
    shielding: NotRequired[Shielding | None]


class UpdateRequest(TypedDict, total=False):
    categories: list[Category] | None
    contact: Contact | None
    review_by: str | None
    shielding: Shielding | None
    given_names: str | None
    family_name: str | None
    date_of_birth: str | None
    sex: Sex | None
    nhs_number: str | None
    postcode: str | None
    other_names: list[OtherName] | None


class ChildCreated(TypedDict):
    child_id: str
    status: RecordStatus
    organisation: OrganisationRef
    categories: list[Category]
    review_by: str
    created_at: str


class ChildView(TypedDict):
    child_id: str
    status: RecordStatus
    organisation: OrganisationRef
    given_names: str
    family_name: str
    date_of_birth: str
    categories: list[Category]
    contact: Contact
    review_by: str
    created_at: str
    updated_at: str
    since: str
    sex: NotRequired[Sex | None]
    nhs_number: NotRequired[str | None]
    postcode: NotRequired[str | None]
    other_names: NotRequired[list[OtherName]]
    shielding: NotRequired[Shielding | None]
    closed_at: NotRequired[str | None]
    close_reason: NotRequired[CloseReason | None]


class SearchRequest(TypedDict):
    given_names: str
    family_name: str
    date_of_birth: str
    reason: SearchReason
    sex: NotRequired[Sex | None]
    nhs_number: NotRequired[str | None]
    postcode: NotRequired[str | None]
    case_reference: NotRequired[str | None]


class SignpostOut(TypedDict):
    status: RecordStatus
    organisation: OrganisationRef
    contact: Contact
    since: str
    child_id: NotRequired[str | None]
    categories: NotRequired[list[Category] | None]


class SearchResult(TypedDict):
    search_id: str
    outcome: Outcome
    signposts: list[SignpostOut]


class TransferView(TypedDict):
    transfer_id: str
    child_id: str
    status: TransferStatus
    from_org: str
    to_org: str
    reason: TransferReason
    move_date: str
    requested_at: str
    acknowledge_by: str
    decide_by: str
    overdue: bool
    acknowledged_at: NotRequired[str | None]
    decided_at: NotRequired[str | None]
    decline_reason: NotRequired[DeclineReason | None]
    withdrawn_at: NotRequired[str | None]


class TransferPage(TypedDict):
    items: list[TransferView]
    next: NotRequired[str | None]


class Notification(TypedDict):
    id: str
    type: NotificationType
    created_at: str
    read: bool
    child_id: NotRequired[str | None]
    transfer_id: NotRequired[str | None]
    search_id: NotRequired[str | None]
    from_org: NotRequired[str | None]


class NotificationPage(TypedDict):
    items: list[Notification]
    next: NotRequired[str | None]


class AccessLogEntry(TypedDict):
    at: str
    org: str
    role: Role
    action: str
    reason: NotRequired[str | None]
    outcome: NotRequired[Outcome | None]


class AccessLog(TypedDict):
    items: list[AccessLogEntry]
    next: NotRequired[str | None]


class Organisation(TypedDict):
    code: str
    name: str
    type: OrgType
    contact: Contact
    manager_contact: Contact
    area: NotRequired[str | None]
    sensitive_service: NotRequired[bool]
    active: NotRequired[bool]


class OrganisationIn(Organisation):
    pass


class Health(TypedDict):
    status: NotRequired[Literal["ok"]]


class FieldError(TypedDict):
    field: str
    message: str
