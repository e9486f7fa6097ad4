"""Logging in, and resetting a forgotten password."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import Input, Output, printable
from .users import Password


class Token(Output):
    access_token: str
    token_type: Literal["bearer"] = Field(examples=["bearer"])
    expires_in: int = Field(description="Seconds until it expires")


class NewPassword(Input):
    token: Annotated[str, printable(min_length=1, max_length=256)]
    new_password: Password
