"""The staff the handler tests act as: one caller per organisation and role of the seeded
directory (infrastructure/seed/organisations.json), as the authorizer would build them."""

from __future__ import annotations

from tests.support.lambda_events import caller

CAMDEN = caller("E09000007", "la_practitioner", "camden-sw-1")
CAMDEN_MANAGER = caller("E09000007", "la_manager", "camden-mgr-1")
HACKNEY = caller("E09000012", "la_practitioner", "hackney-sw-1")
HACKNEY_MANAGER = caller("E09000012", "la_manager", "hackney-mgr-1")
BIRMINGHAM = caller("E08000025", "la_practitioner", "brum-sw-1")
ROYAL_FREE = caller("RAL", "health", "rf-nurse-1")
CLINIC = caller("RAL-SH1", "health", "clinic-nurse-1")
POLICE = caller("E23000001", "police", "mps-officer-1")
AUDITOR = caller("NATIONAL", "auditor", "auditor-1")
ADMIN = caller("NATIONAL", "admin", "admin-1")
