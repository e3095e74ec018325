"""Veil: a self-hostable CDN that protects and accelerates websites and APIs."""

__version__ = "0.1.0"
