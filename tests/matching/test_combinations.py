"""Bounded subset-sum: checked against brute force on random small inputs."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconbot.core.matching.combinations import subsets_summing_to


def brute_force(amounts: list[int], target: int) -> set[tuple[int, ...]]:
    return {
        chosen
        for size in range(1, len(amounts) + 1)
        for chosen in combinations(range(len(amounts)), size)
        if sum(amounts[i] for i in chosen) == target
    }


@settings(max_examples=400)
@given(st.lists(st.integers(1, 60), min_size=0, max_size=10), st.integers(1, 200))
def test_solutions_are_real_and_uniqueness_is_exact(amounts: list[int], target: int) -> None:
    expected = brute_force(amounts, target)
    search = subsets_summing_to(amounts, target, limit=3)
    assert search.exhaustive
    assert set(search.solutions) <= expected
    assert len(search.solutions) == min(3, len(expected))
    assert (search.unique is not None) == (len(expected) == 1)


@settings(max_examples=100)
@given(st.lists(st.integers(1, 10**7), min_size=5, max_size=9), st.integers(1, 3 * 10**7))
def test_large_amounts_fall_back_to_the_bounded_search(amounts: list[int], target: int) -> None:
    expected = brute_force(amounts, target)
    search = subsets_summing_to(amounts, target, limit=2)
    assert set(search.solutions) <= expected
    if search.exhaustive:
        assert len(search.solutions) == min(2, len(expected))


def test_cents_with_a_common_factor() -> None:
    # 127 000 Ft invoices in fillér: the common factor keeps the search small.
    search = subsets_summing_to([12_700_000, 5_000_000, 7_700_000], 12_700_000)
    assert set(search.solutions) == {(0,), (1, 2)}
    assert search.unique is None


def test_too_many_items_is_not_exhaustive() -> None:
    search = subsets_summing_to([1] * 30, 2, max_items=24)
    assert not search.exhaustive and search.unique is None
