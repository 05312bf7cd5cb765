"""Cells of the CSV files people open in a spreadsheet: neutralized on export, restored on import.

A spreadsheet reads a cell that begins with `=`, `+`, `-` or `@` (some also a tab or a carriage
return) as a formula, so a crafted value could compute, fetch or run something when the file is
opened (OWASP "CSV injection"). Every CSV we write goes through `csv_cell_out`, which puts a single
quote before such a cell: spreadsheets then show it as text. A value that itself begins with a
quote gets one too, so that `csv_cell_in` (every CSV import) takes off exactly the quote the export
added and nothing else: `-ABC` is written `'-ABC` and read back `-ABC`, `'x` is written `''x` and
read back `'x`, and a `'x` typed by hand stays `'x`.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_QUOTED_STARTS = (*FORMULA_STARTS, QUOTE)


def csv_cell_out(value: str) -> str:
    """`value` as a cell a spreadsheet shows as text (a quote before a formula start or a quote)."""
    return QUOTE + value if value.startswith(_QUOTED_STARTS) else value


def csv_cell_in(cell: str) -> str:
    """The value `csv_cell_out` wrote as `cell`: its added quote taken off, any other cell as it is."""
    if cell.startswith(QUOTE) and cell[1:].startswith(_QUOTED_STARTS):
        return cell[1:]
    return cell


def csv_row_out(values: Iterable[str]) -> list[str]:
    return [csv_cell_out(value) for value in values]
