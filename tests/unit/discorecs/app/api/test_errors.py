"""Error details are one line."""

from fastapi.exceptions import RequestValidationError

from discorecs.app.api.errors import MAX_DETAIL, one_line, validation_reason


def test_one_line_keeps_the_first_line_and_bounds_it() -> None:
    assert one_line("first\nsecond") == "first"
    assert one_line("") == ""
    long = one_line("x" * 1000)
    assert len(long) == MAX_DETAIL and long.endswith("…")


def test_validation_errors_read_as_where_and_what() -> None:
    error = RequestValidationError(
        [
            {"loc": ("path", "user_id"), "msg": "Input should be a valid integer"},
            {"loc": ("body", "kind"), "msg": "Input should be 'add'"},
        ]
    )
    assert validation_reason(error) == (
        "path.user_id: Input should be a valid integer; body.kind: Input should be 'add'"
    )
