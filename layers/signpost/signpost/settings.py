"""Settings: one pydantic model read from the environment once, lazily.

Every function reads its configuration through :func:`get_settings`. Names are the
environment variables set by template.yaml (and by the local stack).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # Tables
    records_table: str = Field(default="signpost-records", alias="RECORDS_TABLE")
    audit_table: str = Field(default="signpost-audit", alias="AUDIT_TABLE")
    idempotency_table: str = Field(default="signpost-idempotency", alias="IDEMPOTENCY_TABLE")
    directory_table: str = Field(default="signpost-directory", alias="DIRECTORY_TABLE")
    key_store_table: str = Field(default="signpost-keystore", alias="KEY_STORE_TABLE")
    # The audit sealer's: seals and sealed heads (only the sealer writes it; verify-audit reads it)
    audit_heads_table: str = Field(default="signpost-audit-heads", alias="AUDIT_HEADS_TABLE")

    # KMS: the data-key CMK (wraps branch keys) and the HMAC key (blind indexes)
    data_key_id: str = Field(default="alias/signpost-data", alias="DATA_KEY_ID")
    hmac_key_id: str = Field(default="alias/signpost-blind-index", alias="HMAC_KEY_ID")
    # Branch keys (crypto/keyring.py): how long an instance keeps an unwrapped version, and
    # how often the clock function makes a new active version.
    branch_key_cache_seconds: int = Field(default=900, ge=1, le=3600, alias="BRANCH_KEY_CACHE_SECONDS")
    branch_key_rotation_days: int = Field(default=365, ge=1, alias="BRANCH_KEY_ROTATION_DAYS")
    # The audit MAC key (sealer: GenerateMac; verify-audit: VerifyMac) and the Object Lock bucket
    audit_mac_key_id: str = Field(default="alias/signpost-audit-mac", alias="AUDIT_MAC_KEY_ID")
    audit_anchor_bucket: str = Field(default="", alias="AUDIT_ANCHOR_BUCKET")

    # Token verification (authorizer)
    jwt_issuer: str = Field(default="https://login.example.gov.uk/", alias="JWT_ISSUER")
    jwt_audience: str = Field(default="signpost", alias="JWT_AUDIENCE")
    jwks_url: str = Field(default="", alias="JWKS_URL")
    # Inline JWKS (JSON). Used by the local stack, which has no HTTPS endpoint to fetch from.
    jwks_json: str = Field(default="", alias="JWKS_JSON")
    jwt_algorithms: str = Field(default="RS256", alias="JWT_ALGORITHMS")
    # API Gateway's authorizer result cache (ReauthorizeEvery): a token with less life left is refused.
    authorizer_cache_seconds: int = Field(default=60, ge=0, le=3600, alias="AUTHORIZER_CACHE_SECONDS")

    # Policy
    # At most POLICE_SEARCHES_PER_HOUR police searches per practitioner in any sliding window of
    # POLICE_SEARCH_WINDOW_MINUTES (API.md: "20 an hour").
    police_searches_per_hour: int = Field(default=20, alias="POLICE_SEARCHES_PER_HOUR")
    police_search_window_minutes: int = Field(default=60, ge=1, le=1440, alias="POLICE_SEARCH_WINDOW_MINUTES")
    closed_findable_days: int = Field(default=365, alias="CLOSED_FINDABLE_DAYS")
    # Break-glass opens only a search this recent (and only what that search matched).
    break_glass_window_hours: int = Field(default=24, ge=1, le=168, alias="BREAK_GLASS_WINDOW_HOURS")
    retention_days: int = Field(default=2555, alias="RETENTION_DAYS")
    idempotency_ttl_seconds: int = Field(default=86_400, alias="IDEMPOTENCY_TTL_SECONDS")
    max_candidates: int = Field(default=50, alias="MAX_CANDIDATES")

    # Blind-index key scheme versions (matching/key_scheme.py): the one new keys are written with
    # (0: the code's KEY_SCHEME_VERSION) and those searches read, comma-separated ("": every
    # version the code registers). Before dropping an old version, READ names the new one alone.
    blind_index_write_version: int = Field(default=0, ge=0, alias="BLIND_INDEX_WRITE_VERSION")
    blind_index_read_versions: str = Field(default="", alias="BLIND_INDEX_READ_VERSIONS")

    # SNS topic for "you have N new notifications" (notifier)
    notifications_topic_arn: str = Field(default="", alias="NOTIFICATIONS_TOPIC_ARN")
    # The notifier's failure queue (signpost-admin redrive-notifications reads it)
    notifier_failure_queue_url: str = Field(default="", alias="NOTIFIER_FAILURE_QUEUE_URL")

    # Bulk import: the upload bucket and its KMS key, the batch queue, rows per batch (one queue
    # message), the queue's maxReceiveCount (the last attempt marks the batch failed) and how long
    # an import's report (progress, rejects, duplicates) is kept.
    imports_bucket: str = Field(default="", alias="IMPORTS_BUCKET")
    imports_key_id: str = Field(default="", alias="IMPORTS_KEY_ID")
    imports_queue_url: str = Field(default="", alias="IMPORTS_QUEUE_URL")
    import_batch_rows: int = Field(default=100, ge=1, le=1000, alias="IMPORT_BATCH_ROWS")
    import_max_receives: int = Field(default=5, ge=1, alias="IMPORT_MAX_RECEIVES")
    import_report_days: int = Field(default=30, ge=1, alias="IMPORT_REPORT_DAYS")

    environment: str = Field(default="local", alias="SIGNPOST_ENV")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
