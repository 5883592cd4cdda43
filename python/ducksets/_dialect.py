"""sqlglot's DuckDB dialect, taught the macro parameter defaults DuckDB accepts.

sqlglot 30.30 parses ``CREATE MACRO`` but stops at ``name := default`` in the
parameter list ("Expecting )"). The pack uses such defaults, and a linter that
skipped those files would check nothing, so the parser learns them here: the
default becomes a ``DEFAULT`` column constraint on the parameter's ``ColumnDef``.
It also reads ``COMMENT ON MACRO TABLE name``, which DuckDB accepts for table macros.
"""

from __future__ import annotations

from sqlglot import TokenType, exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.parsers.duckdb import DuckDBParser


class _PackParser(DuckDBParser):
    def _parse_user_defined_function(self, kind: TokenType | None = None) -> exp.Expr | None:
        # COMMENT ON MACRO TABLE name: DuckDB's spelling for a table macro (sqlglot
        # 30.30 reads TABLE as the name); skip the keyword when a name follows it.
        followed_by_name = self._next is not None and self._next.token_type not in (
            TokenType.DOT,
            TokenType.L_PAREN,
            TokenType.IS,
        )
        if kind == TokenType.FUNCTION and self._curr is not None and followed_by_name:
            self._match(TokenType.TABLE)
        return super()._parse_user_defined_function(kind)

    def _parse_function_parameter(self) -> exp.Expr | None:
        parameter = super()._parse_function_parameter()
        if parameter is None or not self._match(TokenType.COLON_EQ):
            return parameter
        default = self._parse_disjunction()
        if default is None:
            self.raise_error("Expecting a default value after :=")
        if not isinstance(parameter, exp.ColumnDef):
            # An untyped parameter parses to a bare Identifier, which has no constraints slot.
            parameter = exp.ColumnDef(this=parameter)
        constraint = exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=default))
        parameter.append("constraints", constraint)
        return parameter


class PackDuckDB(DuckDB):
    """DuckDB as sqlglot knows it, plus ``name [TYPE] := default`` macro parameters."""

    Parser = _PackParser


DIALECT = PackDuckDB()
"""The one dialect instance the linter and the key parser use."""
