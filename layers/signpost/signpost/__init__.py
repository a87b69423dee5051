"""Signpost: which local authority is responsible for a vulnerable child, and whom to contact."""
