"""The response model of a paged read: limits, responses, and the messages that explain them."""

from __future__ import annotations

import pytest

from ducksets import ArgumentTypeError, ConfigError
from ducksets.responses import (
    MAX_OFFSET,
    BackendLimits,
    DatasetRowsResponse,
    Message,
    ResponseMeta,
    clamped,
    empty_page_message,
    offset_cursor_message,
)


def test_limits_must_allow_a_row() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        BackendLimits(max_rows_per_call=0)
    with pytest.raises(ConfigError, match="at most"):
        BackendLimits(max_rows_per_call=MAX_OFFSET + 1)
    with pytest.raises(ArgumentTypeError):
        BackendLimits(max_rows_per_call=True)


def test_a_value_within_bounds_is_kept_without_a_message() -> None:
    messages: list[Message] = []
    assert clamped("limit", 5, 10, messages) == 5
    assert clamped("limit", 0, 10, messages) == 0
    assert messages == []


def test_a_clamped_value_says_what_was_asked_and_what_was_used() -> None:
    messages: list[Message] = []
    assert clamped("limit", 50, 10, messages) == 10
    assert clamped("offset", -3, MAX_OFFSET, messages) == 0
    assert [(m.code, m.severity) for m in messages] == [
        ("limit_clamped", "warning"),
        ("offset_clamped", "warning"),
    ]
    assert messages[0].detail == "limit 50 is above the maximum 10; using 10"
    assert messages[1].detail == "offset -3 is negative; using 0"
    assert dict(messages[0].context) == {"requested": 50, "applied": 10, "maximum": 10}


@pytest.mark.parametrize(
    ("limit", "offset", "more_rows", "detail"),
    [
        (10, 0, False, "dataset 'd' has no rows"),
        (10, 7, False, "dataset 'd' has no rows at offset 7 (it ends before)"),
        (0, 7, True, "limit 0 asks for no rows; dataset 'd' has rows at offset 7"),
    ],
)
def test_an_empty_page_says_why_it_is_empty(
    limit: int, offset: int, more_rows: bool, detail: str
) -> None:
    message = empty_page_message("d", limit, offset, more_rows)
    assert (message.code, message.severity, message.detail) == ("dataset_empty", "info", detail)
    assert message.context["more_rows"] is more_rows


def test_the_offset_cursor_message_names_at_most_three_columns() -> None:
    message = offset_cursor_message("d", ("a", "b", "c", "e"))
    assert message.code == "cursor_by_offset"
    assert "(a, b, c, ...)" in message.detail
    assert message.context["columns"] == ("a", "b", "c", "e")


def test_a_response_reprs_its_span_and_next_offset() -> None:
    meta = ResponseMeta(2, 2, 4, 4, truncated=True)
    page = DatasetRowsResponse("d", 2, 4, ({"n": 4}, {"n": 5}), meta, ("n",))
    assert repr(page) == "<DatasetRowsResponse 'd': rows 4-5 (limit 2), more follow>"
    assert page.next_offset == 6
    assert "<th>n</th>" in page._repr_html_()
    last = DatasetRowsResponse("d", 2, 6, (), ResponseMeta(2, 2, 6, 6, truncated=False), ("n",))
    assert last.next_offset is None
    assert repr(last) == "<DatasetRowsResponse 'd': no rows at offset 6 (limit 2)>"
