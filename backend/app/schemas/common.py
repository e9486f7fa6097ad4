"""What every family builds on: the base classes, text without control characters,
pages of results, and the error bodies."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# C0 controls but tab, newline and carriage return, and DEL: no database stores some
# of them (PostgreSQL refuses NUL), and no one types them. In the documents too.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
MAX_PAGE = 100


# The documents' pattern for text that must not be blank: printable, with at least
# one character that is not whitespace. The check itself is the service's, whose
# answer says "Must not be blank" (a pattern's would name the wrong fault).
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
NOT_BLANK = rf"^[^{_CONTROL}]*[^{_CONTROL}\s][^{_CONTROL}]*$"


def printable(*, min_length: int = 0, max_length: int) -> StringConstraints:
    """Printable text between the two lengths (in characters), for
    `Annotated[str, printable(...)]`."""
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=PRINTABLE)


def not_blank(*, max_length: int) -> tuple[StringConstraints, Any]:
    """Printable text with something besides whitespace, for
    `Annotated[str, *not_blank(...)]`: the documents say so, so that a client (or a
    generator of valid requests) never sends what the service refuses."""
    return printable(min_length=1, max_length=max_length), Field(
        json_schema_extra={"pattern": NOT_BLANK}
    )


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer in a request: 3 or 3.0, which JSON Schema both calls integer (strict
# pydantic would refuse the second); still never "3" or 3.5.
Integer = Annotated[int, BeforeValidator(_integral)]


class Input(BaseModel):
    """A request body: exactly its fields (others refused), of exactly their types
    (no "5" for 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Output(BaseModel):
    """An answer, read from an ORM object's attributes."""

    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(Output, Generic[T]):
    """One page of a list, and how many there are in all."""

    data: list[T]
    count: int = Field(description="Total, not the page size")


class Message(Output):
    message: str


class Error(Output):
    """Every error: what went wrong, in a sentence."""

    message: str


class ValidationError(Error):
    """An invalid request: the message, and what is wrong with each field at fault."""

    errors: dict[str, str] = Field(default_factory=dict, description="Field name to message")
