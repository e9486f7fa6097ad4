"""Single sign-on: the providers the login page offers."""

from __future__ import annotations

from pydantic import Field

from .common import Output


class SsoProviderPublic(Output):
    name: str = Field(description="Names the provider in /login/sso/{name}/authorize")
    title: str = Field(description="Shown on the button: Sign in with <title>")


class SsoProviders(Output):
    data: list[SsoProviderPublic]
