"""The abuse desk: notice validation, case workflow, routing (pure; stdlib and veil.http only)."""
