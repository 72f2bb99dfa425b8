"""The one exception type for bad user input: it names the field and what is allowed."""

from __future__ import annotations


class InputError(ValueError):
    """Invalid user input. ``str(err)`` is a one-line message naming the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def choice_error(field: str, value: object, allowed: list[str] | tuple[str, ...]) -> InputError:
    """Error for a value outside a closed set, listing the allowed values."""
    return InputError(field, f"unknown value {value!r}; allowed: {', '.join(allowed)}")
