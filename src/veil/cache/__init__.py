"""HTTP caching: RFC 9111 policy (pure), keys, Vary, stores, eviction, collapsing, purge."""
