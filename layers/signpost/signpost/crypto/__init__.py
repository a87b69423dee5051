"""Envelope encryption of identity fields and keyed blind indexes for lookup."""
