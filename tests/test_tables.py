"""The markdown tables every printed table of the package is written in."""

import pytest

from infoae.tables import markdown_table


def test_a_table_has_a_head_a_rule_and_a_line_per_row():
    lines = markdown_table(["map", "leak MLP"], [["gaussian", 0.1234], ["none", "0.2"]])
    assert lines == ["| map | leak MLP |", "|---|---|", "| gaussian | 0.1234 |", "| none | 0.2 |"]


def test_a_row_of_the_wrong_width_is_refused_not_skewed():
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        markdown_table(["a", "b", "c"], [["1", "2", "3"], ["1", "2"]])
