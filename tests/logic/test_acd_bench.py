"""The routing benchmark still runs against the current API (its numbers are not judged here)."""

from __future__ import annotations

from bench import bench_acd


def test_bench_runs_and_reports_its_number(capsys):
    result = bench_acd.run()
    assert set(result) == {"acd_decision_p95_us"} and result["acd_decision_p95_us"] > 0
    assert "2000 routed a caller" in capsys.readouterr().out
