"""Repositories: keyword-only functions over a `Session` (the caller commits)."""
