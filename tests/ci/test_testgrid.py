"""TestGrid's flip flakiness (its vectors) and consecutive-failure alert."""

from __future__ import annotations

from typing import Any

import pytest

from kubesift.ci.junit import ABSENT, FAIL, FLAKY, PASS
from kubesift.ci.testgrid import alert_row, flip_flakiness, naive_flakiness, parse_seq
from tests.conftest import vector_cases


def test_flip_flakiness_vectors(vectors: dict[str, Any]) -> None:
    for seq, expected in vector_cases(vectors, "testgrid_flip_flakiness", "cases", at_least=6):
        assert flip_flakiness(parse_seq(seq)) == pytest.approx(expected), seq


def _cells(seq: str) -> list[tuple[int, int]]:
    return list(enumerate(parse_seq(seq)))


def test_alert_after_three_failures_newest_first() -> None:
    alert = alert_row(_cells("f,f,f,p,p"))
    assert alert is not None
    assert (alert.fail_count, alert.latest_fail, alert.first_fail, alert.last_pass) == (3, 0, 2, 3)


@pytest.mark.parametrize("seq", ["f,f,p", "p,f,f,f", "f,f,fl,f,f", ""])
def test_no_alert(seq: str) -> None:
    assert alert_row(_cells(seq)) is None


def test_absent_cells_do_not_break_a_streak() -> None:
    cells = [(0, FAIL), (1, ABSENT), (2, FAIL), (3, FAIL), (4, PASS)]
    alert = alert_row(cells)
    assert alert is not None and alert.fail_count == 3 and alert.first_fail == 3


def test_flaky_after_a_streak_ends_it_and_keeps_the_alert() -> None:
    alert = alert_row([(0, FAIL), (1, FAIL), (2, FAIL), (3, FLAKY), (4, FAIL)])
    assert alert is not None and alert.fail_count == 3 and alert.last_pass is None


def test_naive_flakiness() -> None:
    assert naive_flakiness(parse_seq("p,f,p,fl")) == 25.0
    assert naive_flakiness([]) == 0.0
