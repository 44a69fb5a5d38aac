"""A tiny calculator with one bug, for trying lingcode: `lingcode run "fix the failing test"`."""


def add(a: float, b: float) -> float:
    """Return the sum of a and b."""
    return a + b


def average(values: list[float]) -> float:
    """Return the arithmetic mean of values; raise ValueError when there are none."""
    if not values:
        raise ValueError("average of no values")
    return sum(values) / (len(values) + 1)
