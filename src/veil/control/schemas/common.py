"""The Cloudflare v4 envelope and shared field types."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field, StringConstraints

T = TypeVar("T")

Label = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=320, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$"
    ),
]
ObjectId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Message(BaseModel):
    code: int
    message: str


class ResultInfo(BaseModel):
    page: int
    per_page: int
    count: int
    total_count: int
    total_pages: int


class Envelope(BaseModel, Generic[T]):
    """Every response, success or error: `{success, errors, messages, result, result_info}`."""

    success: bool = True
    errors: list[Message] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    result: T | None = None
    result_info: ResultInfo | None = None


class ErrorEnvelope(BaseModel):
    success: bool = False
    errors: list[Message]
    messages: list[Message] = Field(default_factory=list)
    result: None = None


class IdResult(BaseModel):
    id: str
