"""Tests for calc.py; test_average fails until the off-by-one in average() is fixed."""

import pytest

from calc import add, average


def test_add() -> None:
    assert add(2, 3) == 5


def test_average() -> None:
    assert average([2, 4, 6]) == 4


def test_average_empty() -> None:
    with pytest.raises(ValueError):
        average([])
