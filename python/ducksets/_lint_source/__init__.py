"""Old home of ``Diagnostic``, kept until ``ducksets.integrity`` imports it from ``ducksets.lint``.

The pack linter is the package ``ducksets.lint`` now; delete this module then.
"""

from ducksets.lint.diagnostic import Diagnostic

__all__ = ["Diagnostic"]
