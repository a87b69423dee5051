"""Use cases. Logic gets its store, cipher and indexer injected and knows nothing of events or AWS."""
