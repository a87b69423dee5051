"""Pydantic models: API input/output, domain values and directory entries."""
