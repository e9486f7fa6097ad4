"""The list of common passwords nobody may choose."""

from __future__ import annotations

import pytest

from app.core import passwords


def test_common_passwords_holds_only_lowercase_entries_a_password_may_be() -> None:
    entries = passwords.common_passwords()
    assert len(entries) > 8000
    assert all(entry == entry.lower() for entry in entries)
    assert all(passwords.MIN_LENGTH <= len(entry) <= passwords.MAX_LENGTH for entry in entries)


@pytest.mark.parametrize(
    "password", ["12345678", "password1", "Password1", "QWERTYUIOP", "iloveyou"]
)
def test_is_common_finds_listed_password_in_any_case(password: str) -> None:
    assert passwords.is_common(password)


@pytest.mark.parametrize(
    "password",
    [
        "correct-horse-battery",
        " password1",  # spaces are part of a password: this is another one
        "password1 ",
        # The example superuser password of .env.example: `make dev` must keep working.
        "changethis",
    ],
)
def test_is_common_passes_password_not_on_the_list(password: str) -> None:
    assert not passwords.is_common(password)


def test_common_passwords_are_read_once() -> None:
    assert passwords.common_passwords() is passwords.common_passwords()
