"""rescale: unit table, factors, histograms, int -> double, and the round-trip property."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from collector import testing
from common.actions.rescale import Scaler
from common.actions.units import conversion
from processors.rescale import RescaleConfig, factory


def rescale(config, *metrics):
    processor = testing.create(factory, config)
    return processor.process(testing.metrics_data(*metrics))


def test_ms_to_s_divides_by_1000_and_sets_the_unit():
    out = rescale(
        {"rules": [{"include": "lag", "from_unit": "ms", "to_unit": "s"}]},
        testing.gauge("lag", 2500, 1, unit="ms"),
        testing.gauge("other", 2500, unit="ms"),
    )
    metrics = testing.metrics_by_name(out)
    assert metrics["lag"].unit == "s"
    assert [p.value for p in metrics["lag"].data.data_points] == [2.5, 0.001]
    assert metrics["other"].unit == "ms" and metrics["other"].data.data_points[0].value == 2500


def test_whole_factors_keep_integers_and_fractional_ones_make_doubles():
    out = rescale(
        {"rules": [{"include": "s", "from_unit": "s", "to_unit": "ms"}, {"include": "half", "factor": 0.5}]},
        testing.sum_metric("s", 3, unit="s"),
        testing.gauge("half", 4, 3),
    )
    metrics = testing.metrics_by_name(out)
    (ms,) = metrics["s"].data.data_points
    assert ms.value == 3000 and isinstance(ms.value, int)
    assert metrics["s"].data.is_monotonic and metrics["s"].unit == "ms"
    halves = [p.value for p in metrics["half"].data.data_points]
    assert halves == [2.0, 1.5] and all(isinstance(v, float) for v in halves)
    assert metrics["half"].unit == ""  # factor alone keeps the unit


def test_histogram_sums_bounds_and_extremes_are_scaled():
    out = rescale(
        {"rules": [{"include": "latency", "from_unit": "ms", "to_unit": "s"}]},
        testing.histogram(
            "latency", testing.histogram_point([1, 2, 3], [100.0, 500.0], 1234.0, min=0.0, max=10.0), unit="ms"
        ),
    )
    (p,) = testing.data_points(out)
    assert p.sum == pytest.approx(1.234) and list(p.explicit_bounds) == [0.1, 0.5]
    assert (p.min, p.max) == (0.0, 0.01) and list(p.bucket_counts) == [1, 2, 3]


def test_a_metric_in_another_unit_is_left_alone():
    out = rescale(
        {"rules": [{"include": "lag", "from_unit": "ms", "to_unit": "s"}]}, testing.gauge("lag", 7, unit="min")
    )
    assert testing.metrics_by_name(out)["lag"].unit == "min" and testing.data_points(out)[0].value == 7


def test_unit_table():
    assert conversion("ms", "s") == Fraction(1, 1000)
    assert conversion("h", "min") == 60
    assert conversion("GiBy", "MiBy") == 1024
    assert conversion("By", "bit") == 8
    assert conversion("1", "%") == 100
    with pytest.raises(ValueError, match="cannot convert 'ms' \\(time\\) to 'By' \\(size\\)"):
        conversion("ms", "By")
    with pytest.raises(ValueError, match="unknown unit 'parsec'"):
        conversion("parsec", "s")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"include": "x", "factor": 2, "from_unit": "s", "to_unit": "ms"}, "not both"),
        ({"include": "x", "from_unit": "s"}, "give factor, or both from_unit and to_unit"),
        ({"include": "x", "factor": 0}, "greater than 0"),
        ({"include": "x", "from_unit": "s", "to_unit": "By"}, "cannot convert"),
    ],
)
def test_bad_rules_are_refused(rule, message):
    with pytest.raises(ValidationError, match=message):
        RescaleConfig.model_validate({"rules": [rule]})


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
factors = st.one_of(
    st.sampled_from([1000.0, 0.001, 1024.0, 3600.0, 0.5, 7.0]),
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False),
)


@given(values=st.lists(st.one_of(finite, st.integers(-(10**12), 10**12)), min_size=1, max_size=5), factor=factors)
def test_rescaling_by_f_then_1_over_f_returns_the_input(values, factor):
    there = Scaler(factor)
    back = Scaler(1 / Fraction(repr(factor)))
    metric = testing.gauge("m", *[v for v in values])
    result = back.apply(there.apply(metric)).data.data_points
    for original, returned in zip(metric.data.data_points, result, strict=True):
        assert math.isclose(returned.value, original.value, rel_tol=1e-9, abs_tol=1e-9)
