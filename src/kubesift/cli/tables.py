"""Tables for the terminal: no value is ever cut. Rich's default ellipsis turns job names
into ``periodic-ci-opens…``; here a long value folds onto the next line instead, and
numbers keep their column right-aligned."""

from __future__ import annotations

from rich.table import Table


def table(*titles: str, numeric: tuple[str, ...] = (), **options: object) -> Table:
    """A Rich table whose columns fold long values rather than cutting them."""
    out = Table(**options)  # type: ignore[arg-type]
    for title in titles:
        out.add_column(title, overflow="fold", justify="right" if title in numeric else "left")
    return out
