"""The matcher holds its accuracy targets on LFW: known faces named, strangers left Unknown, honest confidence.

Runs ``bench/accuracy.py``'s protocol (40 people enrolled with 3 photos each,
their other 173 photos to name, 1,136 photos of 840 other people as
strangers). The first run encodes ~1,450 photos (a few minutes on 2 cores);
the encodings are cached in the system temp folder (``FACESTREAM_BENCH_CACHE``
to move it), so later runs take seconds. Skips when ``../shared/data`` is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.accuracy import evaluate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(data_dir: Path) -> dict:
    if not (data_dir / "lfw_dev" / "identities.tsv").is_file():
        pytest.skip(f"lfw_dev not found in {data_dir}")
    return evaluate(data_dir)


def test_the_protocol_is_the_documented_one(report: dict) -> None:
    protocol = report["protocol"]
    assert protocol["people"] == 40 and protocol["enrolled_photos"] == 120
    assert protocol["known_probes"] >= 160 and protocol["strangers"] >= 1000
    assert protocol["background_faces"] >= 50


KNOWN_MARGIN = 3.0
"""The README's stated uncertainty of the known-face figure (173 photos of 40 people, a steep curve near 0.76)."""
STRANGERS_CEILING = 2.0
"""The README says to expect about 1 % of strangers named (1.14 % cross-validated): twice that fails."""


def test_known_faces_are_named_right_with_a_limit_fitted_on_other_people(report: dict) -> None:
    """Cross-validated: the limit is chosen on 4/5 of the identities and scored on the rest, so it was not tuned
    on what is measured; the README's 96.5 % holds within its stated margin."""
    crossed = report["cross_validated"]
    assert crossed["known_right"] >= 96.5 - KNOWN_MARGIN, crossed


def test_strangers_are_rarely_named_with_a_limit_fitted_on_other_people(report: dict) -> None:
    crossed = report["cross_validated"]
    assert crossed["strangers_named"] <= STRANGERS_CEILING, crossed


def test_nobody_known_is_named_as_someone_else(report: dict) -> None:
    assert report["cross_validated"]["known_wrong"] <= 0.6, report["cross_validated"]
    assert report["default"]["known_wrong"] <= 0.6, report["default"]


def test_regression_pin_of_the_in_sample_figures(report: dict) -> None:
    """Not a target: the figures NAME_RATIO was tuned on, pinned so that any change to detection, encoding or
    matching shows up here first (update the pin and the README together when a change is meant)."""
    default = report["default"]
    assert (round(float(default["known_right"]), 1), round(float(default["strangers_named"]), 2)) == (96.5, 0.97), (
        default
    )


def test_the_old_rule_really_was_worse(report: dict) -> None:
    """The protocol is hard enough to show the problem the new rule fixes."""
    old = next(row for row in report["rules"] if row["rule"] == "old: nearest photo <= 0.6")
    assert old["strangers_named"] > 20.0


def test_confidence_is_calibrated(report: dict) -> None:
    """Of faces shown at about X%, about X% are right: within 6 points where a bin has 25 faces or more."""
    assert report["calibration_error"] <= 2.0, report["calibration"]
    for row in report["calibration"]:
        if row["faces"] >= 25:
            assert abs(row["shown"] - row["right"]) <= 6.0, row
