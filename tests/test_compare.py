"""Agreement at dtype-aware tolerances: the worst gap, where it is, in chunks and broadcasts."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lab.check import _compare as compare


def test_tolerances_are_assert_closes_defaults():
    assert compare.tolerance("float64") == (1e-7, 1e-7)
    assert compare.tolerance("float32") == (1.3e-6, 1e-5)
    assert compare.looser("float64", "float32") == "float32"


def test_the_worst_element_is_found_past_the_first_chunk():
    a = np.linspace(-3, 3, 3 * compare.CHUNK + 5).reshape(1, -1)
    b = a.copy()
    b[0, 2 * compare.CHUNK + 7] += 1e-3
    g = compare.gap(a, b, 1e-7, 1e-7)
    assert not g.ok and g.index == (0, 2 * compare.CHUNK + 7)
    assert g.diff == pytest.approx(1e-3) and g.a == a[0, 2 * compare.CHUNK + 7]


def test_many_points_are_chunked_by_point():
    a = np.zeros((2 * compare.CHUNK, 1))
    b = a.copy()
    b[compare.CHUNK + 3, 0] = 2.0
    g = compare.gap(a, b, 1e-7, 1e-7)
    assert g.index == (compare.CHUNK + 3, 0) and g.diff == 2.0 and (g.a, g.b) == (0.0, 2.0)


def test_a_broadcast_value_is_compared_once_and_located_at_its_first_element():
    a = np.broadcast_to(1e-6, (1, 10**6))
    g = compare.gap(a, np.broadcast_to(1.2e-6, (1, 10**6)), 1e-7, 1e-7)
    assert g.index == (0, 0) and g.diff == pytest.approx(2e-7) and not g.ok
    assert compare.gap(a, a, 1e-7, 1e-7).ratio == 0.0


def test_nan_on_one_side_only_is_an_infinite_gap_and_on_both_none():
    g = compare.gap(np.array([[1.0, np.nan]]), np.array([[1.0, 2.0]]), 1e-7, 1e-7)
    assert g.ratio == np.inf and g.index == (0, 1)
    assert compare.gap(np.array([np.nan]), np.array([np.nan]), 1e-7, 1e-7).ok


def test_scalars_have_an_empty_index():
    g = compare.gap(np.float64(1.0), np.float64(1.1), 1e-7, 1e-7)
    assert g.index == () and g.diff == pytest.approx(0.1)


@pytest.mark.parametrize("a, b", [
    (np.inf, np.nan), (np.nan, np.inf), (np.inf, -np.inf), (-np.inf, 1.0), (np.nan, 0.0)])
def test_a_non_finite_value_agrees_only_with_itself(a, b):
    """sqrt's slope at 0: the hand-written method and autograd say inf, SymPy nan. That had
    counted as agreement (both sides not finite); only nan with nan, or one infinity with
    itself, is."""
    g = compare.gap(np.array([[1.0, a]]), np.array([[1.0, b]]), 1e-7, 1e-7)
    assert not g.ok and g.ratio == np.inf and g.index == (0, 1)


@pytest.mark.parametrize("v", [np.nan, np.inf, -np.inf])
def test_the_same_non_finite_value_on_both_sides_agrees(v):
    assert compare.gap(np.array([[v]]), np.array([[v]]), 1e-7, 1e-7).ok


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.sampled_from([0.0, -0.0, 1e308, -1e308, 1e-320]))
tolerances = st.sampled_from([(1e-7, 1e-7), (1.3e-6, 1e-5), (0.0, 0.0), (1e-3, 0.0)])


@given(numbers, numbers, tolerances)
def test_one_element_compared_in_floats_as_in_arrays(x, y, tol):
    """The one-element path gives what the array path gives for the same numbers."""
    one = compare.gap(np.array([x]), np.array([y]), *tol)
    many = compare.gap(np.array([x, x]), np.array([y, y]), *tol)   # the array path
    assert one.index == many.index
    for got, want in ((one.diff, many.diff), (one.a, many.a), (one.b, many.b),
                      (one.ratio, many.ratio)):
        assert got == want or (math.isnan(got) and math.isnan(want))
    assert one.ok == many.ok


# --- the comparison rule: scale-aware, and a wrong sign never near ------------------------

@pytest.mark.parametrize("a, b, guard", [
    (-5e-9, 5e-9, "the opposite sign"),
    (0.0, 0.002, "a zero where the reference is not"),
    (0.002, 0.0, "a non-zero where the reference is zero"),
    (0.004, 0.002, "a factor of 2"),
    (0.001, 0.002, "a factor of 2"),
])
def test_within_atol_a_gross_difference_is_never_near(a, b, guard):
    """atol 0.01 on the scale 1 lets each through by the tolerance alone; the guard does not."""
    g = compare.gap(np.array([a]), np.array([b]), 1e-3, 1e-2, scale=1.0)
    assert not g.ok and g.guard == guard
    assert g.never == f"; {guard}, which is never within tolerance"
    many = compare.gap(np.array([[1.0, a]]), np.array([[1.0, b]]), 1e-3, 1e-2, scale=1.0)
    assert not many.ok and many.index == (0, 1) and many.guard == guard


def test_rounding_noise_agrees_with_an_exact_zero():
    """SymPy's 0 against autograd's noise on the scale of what flows in: near, and said to be
    at rounding level; the same number with nothing flowing in of that size is not noise."""
    g = compare.gap(np.array([3e-17]), np.array([0.0]), 1e-7, 1e-7, scale=2.0)
    assert g.ok and g.rounding and g.guard == ""
    assert not compare.gap(np.array([3e-17]), np.array([0.0]), 1e-7, 1e-7, scale=1e-16).ok


def test_atol_shrinks_with_a_small_scale_and_says_so():
    g = compare.gap(np.array([1.1e-3]), np.array([1e-3]), 1e-3, 1e-2, scale=1e-3)
    assert not g.ok and g.guard == ""   # 1e-4 off: past atol at the scale 1e-3
    assert g.tolerance(1e-3, 1e-2) == "rtol 0.001, atol 0.01 at the scale 0.001"
    assert compare.gap(np.array([1.1e-3]), np.array([1e-3]), 1e-3, 1e-2).ok   # order one


def test_a_scale_a_point_is_read_along_the_first_axis():
    a = np.array([[1e-9, 1.0], [1e-9, 1.0]])
    b = np.array([[2e-9, 1.0], [2e-9, 1.0]])
    # 1e-9 off at both points: within atol at the scale 1 (the guard fails it), far past it
    # at the scale 2e-9 of the second point, which is the worse
    g = compare.gap(a, b, 1e-7, 1e-7, scale=np.array([1.0, 1e-9]))
    assert not g.ok and g.index == (1, 0) and g.guard == "" and g.scale == 2e-9
    first = compare.gap(a[:1], b[:1], 1e-7, 1e-7, scale=np.array([1.0]))
    assert not first.ok and first.guard == "a factor of 2"


def test_a_printed_number_keeps_half_a_unit_in_its_last_digit_but_not_a_wrong_sign():
    assert compare.as_written(np.array(0.0), 0.002, 0.005, 1e-3, 1e-2)   # "0.00"
    assert not compare.as_written(np.array(-0.0001), 0.0001, 5e-5, 1e-3, 1e-2)
    assert compare.as_written(np.array(6.7012), 6.70123, 5e-5, 1e-7, 1e-7)


def test_scales_are_each_points_largest_finite_magnitude():
    got = compare.scales(np.array([[1.0, -3.0], [0.5, np.inf]]), np.array([2.0, 0.1]))
    assert got.tolist() == [3.0, 0.5]


def test_below_a_factor_of_2_the_tolerance_decides():
    """A case that asks for rtol 0.6 (or atol 0.01 on the scale 1) accepts 0.003 for 0.002;
    from a factor of 2 on, nothing does."""
    assert compare.gap(np.array([0.003]), np.array([0.002]), 1e-3, 1e-2, scale=1.0).ok
    assert compare.gap(np.array([9.0]), np.array([6.0]), 0.6, 0.0).ok
    assert not compare.gap(np.array([12.0]), np.array([6.0]), 1.0, 0.0).ok


@pytest.mark.parametrize("scale", [None, 2.0, np.array([0.5, 3.0])])
def test_an_array_compared_with_itself_gives_the_gap_of_an_equal_copy(scale):
    """One array seen twice (autograd in float64 as its own reference) is not compared
    element by element: the same Gap as a copy of it gives, nan and inf included."""
    a = np.arange(-3.0, 9.0).reshape(2, 6) / 7
    a[0, 3], a[1, 2] = np.nan, np.inf
    assert compare.gap(a, a[...], 1e-7, 1e-7, scale) == compare.gap(a, a.copy(), 1e-7, 1e-7,
                                                                      scale)
