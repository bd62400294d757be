"""Tests for course_lib.validation: one rule per kind of argument, with messages that teach."""

import math

import numpy as np
import pytest

from course_lib import validation as v


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(2)])
def test_positive_int_accepts_integers_and_returns_int(value):
    out = v.positive_int("n", value)
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [0, -2, True, False, 3.0, "3", None, np.array([3])])
def test_positive_int_refuses_the_rest_and_names_the_argument(value):
    with pytest.raises(ValueError, match=r"^n_hidden must be a positive integer, got .*\. It is a width\.$"):
        v.positive_int("n_hidden", value, hint="It is a width.")


def test_integer_bounds_in_the_message():
    assert v.non_negative_int("t", 0) == 0
    with pytest.raises(ValueError, match="t must be a non-negative integer, got -1"):
        v.non_negative_int("t", -1)
    with pytest.raises(ValueError, match=r"n_samples must be an integer >= 10, got 5"):
        v.integer("n_samples", 5, minimum=10)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 9\], got 10"):
        v.integer("seed", 10, minimum=0, maximum=9)
    assert v.integer("k", -3) == -3


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.float64(2.0), np.int32(4)])
def test_positive_float_accepts_real_numbers_and_returns_float(value):
    out = v.positive_float("lr", value)
    assert out == pytest.approx(float(value)) and type(out) is float


@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf, True, "0.1", None, [0.1]])
def test_positive_float_refuses_zero_negative_nan_inf_bool_and_non_numbers(value):
    with pytest.raises(ValueError, match="lr must be a positive number, got"):
        v.positive_float("lr", value)


def test_non_negative_float_accepts_zero():
    assert v.non_negative_float("weight_decay", 0) == 0.0
    with pytest.raises(ValueError, match="weight_decay must be a non-negative number, got -0.1"):
        v.non_negative_float("weight_decay", -0.1)


@pytest.mark.parametrize("value, ok", [(0.0, True), (0.999, True), (1.0, False), (-0.01, False)])
def test_real_half_open_interval(value, ok):
    if ok:
        assert v.real("beta", value, low=0.0, high=1.0, high_open=True) == value
    else:
        with pytest.raises(ValueError, match=r"beta must be a finite number >= 0 and < 1"):
            v.real("beta", value, low=0.0, high=1.0, high_open=True)


def test_real_unbounded_still_refuses_nan():
    assert v.real("margin", -2) == -2.0
    with pytest.raises(ValueError, match="margin must be a finite number, got nan"):
        v.real("margin", float("nan"))


def test_one_of_lists_the_choices():
    assert v.one_of("mode", "fan_in", ("fan_in", "fan_out")) == "fan_in"
    with pytest.raises(ValueError, match=r"mode must be one of \('fan_in', 'fan_out'\), got 'fan'"):
        v.one_of("mode", "fan", ("fan_in", "fan_out"))
    with pytest.raises(ValueError, match="one of"):
        v.one_of("mode", ["unhashable"], frozenset({"a"}))
