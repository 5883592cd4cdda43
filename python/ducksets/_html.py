"""Compact HTML tables for notebooks (``_repr_html_``), every cell escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence


def html_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, caption: str | None = None
) -> str:
    """An HTML ``<table>`` of ``rows`` under ``columns``; ``None`` shows as NULL.

    >>> html_table(["name"], [["<b>"]])
    '<table><thead><tr><th>name</th></tr></thead><tbody><tr><td>&lt;b&gt;</td></tr></tbody></table>'
    """
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    """A cell's HTML: escaped, with line breaks kept (a dbt description often has several lines).

    >>> _cell("a <b>\\nc"), _cell(None)
    ('a &lt;b&gt;<br>c', '<i>NULL</i>')
    """
    if value is None:
        return "<i>NULL</i>"
    return "<br>".join(html.escape(line) for line in str(value).splitlines() or [""])
