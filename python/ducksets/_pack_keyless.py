"""The pack for a DuckLake catalog: derived from the pack's own text, never written twice.

DuckLake (measured with DuckDB 1.5.5 and its ducklake extension) refuses
``PRIMARY KEY`` and ``UNIQUE`` ("not supported in DuckLake"), ``CHECK``,
``COLLATE`` and foreign keys; ``INSERT ... ON CONFLICT`` needs a key, so it
fails there too, and so does ``INSERT ... RETURNING``. The pack's files keep
their keys (the backstop of the catalog's uniqueness where a database has
them); for a DuckLake target the installer and ``pack_script(ducklake=True)``
run this keyless variant instead:

- every ``CREATE TABLE IF NOT EXISTS`` (tables and migrations) loses its keys:
  a column ``PRIMARY KEY`` becomes ``NOT NULL`` (a key column is one), a
  table's ``PRIMARY KEY (a, b)`` line goes and makes ``a`` and ``b`` NOT NULL,
  ``UNIQUE`` goes; so the columns, with their nullability, stay the pack's;
- the install record (``90_record_install.sql``, ``INSERT ... ON CONFLICT (k)
  DO UPDATE SET ... WHERE ...``) becomes an ``UPDATE`` of the row under the same
  conditions, then the ``INSERT`` guarded by ``WHERE NOT EXISTS`` that key.

What this cannot derive (``CHECK``, ``COLLATE``, ``REFERENCES``, another
``ON CONFLICT`` form, ``RETURNING``) raises ``ValueError``: the linter reports
it (DS014), so the pack cannot grow a statement DuckLake refuses unnoticed.

Standard library only, like ``_pack_source``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ducksets._pack_source import InstallStep

DUCKLAKE_REFUSES = {
    "CHECK": re.compile(r"\bCHECK\b", re.IGNORECASE),
    "COLLATE": re.compile(r"\bCOLLATE\b", re.IGNORECASE),
    "REFERENCES": re.compile(r"\bREFERENCES\b", re.IGNORECASE),
    "FOREIGN KEY": re.compile(r"\bFOREIGN\s+KEY\b", re.IGNORECASE),
}
"""What no pack table may use, since DuckLake tables have no such thing."""
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_KEYS_LEFT = re.compile(r"\b(ON\s+CONFLICT|PRIMARY\s+KEY|UNIQUE)\b", re.IGNORECASE)

_TABLE = re.compile(
    r"(?P<head>CREATE TABLE IF NOT EXISTS [^(]+\()(?P<body>.*?)(?P<tail>\n\);)", re.DOTALL
)
_PRIMARY_KEY = re.compile(r"\s+PRIMARY\s+KEY\b", re.IGNORECASE)
_UNIQUE = re.compile(r"\s+UNIQUE\b", re.IGNORECASE)
_NOT_NULL = re.compile(r"\bNOT\s+NULL\b", re.IGNORECASE)
_KEY_LINE = re.compile(r"^(PRIMARY\s+KEY|UNIQUE)\s*\((?P<columns>[^)]*)\)", re.IGNORECASE)
_RECORD = re.compile(
    r"INSERT INTO (?P<table>\S+) \((?P<columns>[^)]*)\)\s*"
    r"SELECT\s+(?P<values>.*?)\s+"
    r"WHERE (?P<condition>.*?)\s+"
    r"ON CONFLICT \((?P<key>\w+)\) DO UPDATE SET\s+(?P<sets>.*?)\s+"
    r"WHERE (?P<changed>.*?);",
    re.DOTALL,
)
_SET = re.compile(r"^(?P<column>\w+)\s*=\s*excluded\.(?P<source>\w+)$")
_EXCLUDED = re.compile(r"\bexcluded\.(?P<column>\w+)\b")


def keyless_steps(steps: Sequence[InstallStep]) -> tuple[InstallStep, ...]:
    """The install steps for a database without keys (DuckLake); see the module docstring.

    Raises
    ------
    ValueError
        A step uses what DuckLake lacks and this module cannot derive away.
    """
    return tuple(
        InstallStep(
            step.name, keyless_sql(step.name, step.sql, step.phase), step.phase, step.number
        )
        for step in steps
    )


def keyless_sql(name: str, sql: str, phase: str) -> str:
    """One step's keyless text: tables lose their keys, the install record its ON CONFLICT.

    ``phase`` (``table``, ``migration``, ``record``, ...) scopes the refusals:
    ``CHECK``, ``COLLATE`` and foreign keys only matter in a table's definition.

    Raises
    ------
    ValueError
        ``sql`` uses ``CHECK``, ``COLLATE``, foreign keys or ``RETURNING``, or an
        ``ON CONFLICT`` other than the install record's ``DO UPDATE`` form.
    """
    code = _code(sql)
    refused = {
        word: pattern
        for word, pattern in DUCKLAKE_REFUSES.items()
        if phase in ("table", "migration") and pattern.search(code)
    }
    if _RETURNING.search(code):
        refused["INSERT ... RETURNING"] = _RETURNING
    if refused:
        msg = f"{name}: DuckLake has no {', '.join(refused)}, so the pack cannot use it"
        raise ValueError(msg)
    sql = _TABLE.sub(lambda m: m["head"] + _strip_keys(name, m["body"]) + m["tail"], sql)
    if re.search(r"\bON\s+CONFLICT\b", code, re.IGNORECASE):
        sql = keyless_record(name, sql)
    if _KEYS_LEFT.search(_code(sql)):
        msg = (
            f"{name}: keys or ON CONFLICT outside a CREATE TABLE IF NOT EXISTS or the install "
            "record's INSERT ... ON CONFLICT (key) DO UPDATE: no keyless variant for DuckLake"
        )
        raise ValueError(msg)
    return sql


def _code(sql: str) -> str:
    """``sql`` without its ``--`` comments and string literals (what the checks read)."""
    return re.sub(r"--[^\n]*|'(?:[^']|'')*'", " ", sql)


def _strip_keys(name: str, body: str) -> str:
    """A CREATE TABLE's column list without its keys; key columns stay NOT NULL."""
    lines = body.split("\n")
    key_columns: set[str] = set()
    kept: list[str] = []
    for line in lines:
        code, dashes, comment = line.partition("--")
        match = _KEY_LINE.match(code.strip())
        if match:
            if match.group(1).upper().startswith("PRIMARY"):
                key_columns |= {c.strip().lower() for c in match["columns"].split(",")}
            continue
        if _PRIMARY_KEY.search(code):
            replacement = "" if _NOT_NULL.search(code) else " NOT NULL"
            code = _PRIMARY_KEY.sub(replacement, code, count=1)
        code = _UNIQUE.sub("", code)
        kept.append(code + dashes + comment)
    out = []
    for line in kept:
        words = line.strip().split()
        column = words[0].lower() if words else ""
        if column in key_columns and not _NOT_NULL.search(line):
            body_part = line.rstrip()
            comma = body_part.endswith(",")
            line = body_part.rstrip(",") + " NOT NULL" + ("," if comma else "")
        out.append(line)
    # The last column line may have been followed by a key line: no trailing comma.
    for index in range(len(out) - 1, -1, -1):
        if out[index].strip():
            out[index] = re.sub(r",(\s*)$", r"\1", out[index])
            break
    if not any(line.strip() for line in out):
        msg = f"{name}: a CREATE TABLE without columns"
        raise ValueError(msg)
    return "\n".join(out)


def keyless_record(name: str, sql: str) -> str:
    """``INSERT ... ON CONFLICT (k) DO UPDATE SET c = excluded.c WHERE w`` as UPDATE, then INSERT.

    The ``UPDATE`` changes the row with that key where ``w`` (and the INSERT's
    own condition) holds; the ``INSERT`` adds it only when no row has that key.
    Both keep the INSERT's condition (``metadata.check_no_downgrade()``), which
    raises rather than let either run over a newer pack.

    Raises
    ------
    ValueError
        The statement is not of that form.
    """
    match = _RECORD.search(sql)
    if match is None:
        msg = (
            f"{name}: the install record must be 'INSERT INTO t (cols) SELECT values WHERE cond "
            "ON CONFLICT (key) DO UPDATE SET col = excluded.col, ... WHERE cond;' to have a "
            "keyless variant for DuckLake"
        )
        raise ValueError(msg)
    columns = [c.strip() for c in match["columns"].split(",")]
    values = _split_top_level(match["values"])
    if len(columns) != len(values) or match["key"] not in columns:
        msg = f"{name}: the install record's columns and SELECT values do not pair up"
        raise ValueError(msg)
    value_of = dict(zip(columns, values, strict=True))
    sets = []
    for assignment in _split_top_level(match["sets"]):
        set_match = _SET.match(assignment)
        if set_match is None or set_match["source"] not in value_of:
            msg = f"{name}: ON CONFLICT DO UPDATE SET {assignment!r} is not 'col = excluded.col'"
            raise ValueError(msg)
        sets.append(f"{set_match['column']} = {value_of[set_match['source']]}")

    def unexcluded(text: str) -> str:
        return _EXCLUDED.sub(lambda m: value_of.get(m["column"], m[0]), text)

    table, key, condition = match["table"], match["key"], match["condition"].strip()
    changed = unexcluded(match["changed"].strip())
    keyless = (
        f"UPDATE {table} SET\n    " + ",\n    ".join(sets) + "\n"
        f"WHERE {key} = {value_of[key]}\n    AND ({changed})\n    AND ({condition});\n"
        f"INSERT INTO {table} ({match['columns']})\n"
        f"SELECT\n    " + ",\n    ".join(values) + "\n"
        f"WHERE {condition}\n"
        f"    AND NOT EXISTS (SELECT 1 FROM {table} WHERE {key} = {value_of[key]});"
    )
    return sql[: match.start()] + keyless + sql[match.end() :]


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses and strings, each part stripped."""
    parts, depth, start, quoted = [], 0, 0, False
    for position, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:position].strip())
            start = position + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]
