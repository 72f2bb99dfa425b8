"""The one exception type for bad user input: it names the field and what is allowed."""

from __future__ import annotations


class InputError(ValueError):
    """Invalid user input. ``str(err)`` is a one-line message naming the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


#: an error line stays within a terminal's 100 columns: a long list of allowed values is cut, the closest first
ERROR_WIDTH = 100


#: a list of allowed values this short is shown whole (a longer one is cut to fit the error line)
SHOW_ALL = 6


def choice_error(field: str, value: object, allowed: list[str] | tuple[str, ...]) -> InputError:
    """Error for a value outside a closed set, listing the allowed values (the closest first, cut to fit
    :data:`ERROR_WIDTH` columns, with how many more there are)."""
    import difflib

    allowed = [str(a) for a in allowed]
    head = f"error: {field}: unknown value {value!r}; allowed: "
    close = difflib.get_close_matches(str(value), allowed, n=3, cutoff=0.5)
    ordered = close + [a for a in allowed if a not in close]
    shown: list[str] = []
    if len(ordered) <= SHOW_ALL:  # a short list in full, however long the field's name
        return InputError(field, f"unknown value {value!r}; allowed: {', '.join(ordered)}")
    for a in ordered:
        rest = len(ordered) - len(shown) - 1
        tail = f", … ({rest} more)" if rest else ""
        if shown and len(head) + len(", ".join([*shown, a])) + len(tail) > ERROR_WIDTH:
            break
        shown.append(a)
    more = len(ordered) - len(shown)
    listed = ", ".join(shown) + (f", … ({more} more)" if more else "")
    return InputError(field, f"unknown value {value!r}; allowed: {listed}")


def os_error_text(err: OSError) -> str:
    """One line for an operating-system error: the path(s) and the system's reason."""
    reason = err.strerror or type(err).__name__
    if err.filename is not None and err.filename2 is not None:
        return f"{err.filename} → {err.filename2}: {reason}"
    if err.filename is not None:
        return f"{err.filename}: {reason}"
    return str(err).splitlines()[0] if str(err) else reason
