"""Test helpers shared by unit, integration and API tests (fixtures live in tests/conftest.py)."""
