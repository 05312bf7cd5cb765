"""The CSV cell rule: what the export writes never starts a formula, and the import gives back what was written."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from integrations.csv_cells import FORMULA_STARTS, QUOTE, csv_cell_in, csv_cell_out

# Text with the starts that matter made likely: formula starts, quotes, and both in a row.
cells = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from(["", QUOTE, QUOTE * 2, *FORMULA_STARTS, *(QUOTE + s for s in FORMULA_STARTS)]),
    st.text(max_size=12),
)


@settings(derandomize=True, database=None)
@given(value=cells)
@example(value="-ABC")
@example(value="'-ABC")
@example(value="''")
@example(value="'")
@example(value="")
def test_a_written_cell_reads_back_as_the_value(value):
    assert csv_cell_in(csv_cell_out(value)) == value


@settings(derandomize=True, database=None)
@given(value=cells)
def test_a_written_cell_never_starts_a_formula(value):
    assert not csv_cell_out(value).startswith(FORMULA_STARTS)


@settings(derandomize=True, database=None)
@given(cell=cells.filter(lambda cell: not cell.startswith(QUOTE)))
def test_a_cell_without_a_leading_quote_is_read_as_it_is(cell):
    assert csv_cell_in(cell) == cell


@settings(derandomize=True, database=None)
@given(rest=st.text(max_size=12).filter(lambda rest: not rest.startswith((*FORMULA_STARTS, QUOTE))))
@example(rest="quoted by hand")
def test_a_quote_the_export_would_not_add_is_kept(rest):
    assert csv_cell_in(QUOTE + rest) == QUOTE + rest


def test_the_owasp_starts_are_neutralized_and_others_not():
    assert [csv_cell_out(v) for v in ["=1+2", "+1", "-ABC", "@SUM(A1)", "\tx", "\rx", "'x", "ABC", "1-2"]] == [
        "'=1+2",
        "'+1",
        "'-ABC",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "''x",
        "ABC",
        "1-2",
    ]
