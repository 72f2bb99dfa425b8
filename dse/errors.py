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


def os_error_text(err: OSError) -> str:
    """One line for an operating-system error: the path(s) and the system's reason."""
    reason = err.strerror or type(err).__name__
    if err.filename is not None and err.filename2 is not None:
        return f"{err.filename} → {err.filename2}: {reason}"
    if err.filename is not None:
        return f"{err.filename}: {reason}"
    return str(err).splitlines()[0] if str(err) else reason
