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


def test_a_body_that_is_not_json_names_the_offset_and_the_reason() -> None:
    error = RequestValidationError(
        [
            {
                "type": "json_invalid",
                "loc": ("body", 7),
                "msg": "JSON decode error",
                "ctx": {"error": "Expecting property name enclosed in double quotes"},
            }
        ]
    )
    assert validation_reason(error) == (
        "body: not JSON at offset 7 (Expecting property name enclosed in double quotes)"
    )


def test_a_json_field_that_is_not_json_reads_like_any_other_error() -> None:
    error = RequestValidationError(
        [{"type": "json_invalid", "loc": ("body", "payload"), "msg": "Invalid JSON"}]
    )
    assert validation_reason(error) == "body.payload: Invalid JSON"
