"""The runner and the report without a database: figures saved as they come, a benchmark killed at its hard
limit, a report from a run cut short, the generator's own time recorded."""

import json

from bench import report


def test_every_figure_is_saved_the_moment_it_is_measured_and_the_report_reads_a_cut_short_file(tmp_path,
                                                                                              monkeypatch):
    from bench import run
    from bench.common import Figure

    monkeypatch.setattr(report, "RESULTS", tmp_path)
    results = run.Results(tmp_path / "cut.tmp")
    results.figure(Figure(name="faceted + full-text search (50 queries, p95)", unit="ms", value=120.0,
                          baseline=4.0, baseline_label="one statement", ratio=30.0, goal="p95 <= 100 ms", met=False,
                          samples=50, note="provisional: 1 of 3 passes",
                          details={"cold_p95_ms": 130.0, "cold_samples": 50, "warm_p95_ms": None,
                                   "warm_samples": 0}), benchmark="search", started=0)
    saved = json.loads((tmp_path / "cut.tmp").read_text())
    assert [f["name"] for f in saved["figures"]] == ["faceted + full-text search (50 queries, p95)"]
    saved.update(label="cut", started_at="2026-01-01T00:00:00+00:00")  # no machine, scale, end: cut short
    (tmp_path / "cut.tmp").write_text(json.dumps(saved))
    assert report.main(["cut"]) == 0
    text = (tmp_path / "latest.md").read_text()
    assert "**This run did not finish**" in text and "| faceted + full-text search (50 queries, p95) | 120 ms" in text
    assert "cold (first pass) p95 130.0 ms over 50" in text
    assert json.loads((tmp_path / "latest.json").read_text())["runs"][0]["label"] == "cut"


def test_a_benchmark_past_its_hard_limit_is_killed_and_its_figures_stay(tmp_path, monkeypatch):
    import argparse
    import sys

    from bench import run
    from bench.common import Figure

    results = run.Results(tmp_path / "killed.tmp")
    figure = Figure(name="deal-rate dashboard (all indicators, breakdown, trend)", unit="ms", value=900.0,
                    baseline=10.0, baseline_label="", ratio=90.0, goal="<= 300 ms", met=False, samples=1,
                    note="provisional: 1 of 3 repeats")
    results.figure(figure, benchmark="dashboard", started=0)
    monkeypatch.setattr(run, "hard_limit", lambda name: 1)
    monkeypatch.setattr(run, "_command", lambda *a: [sys.executable, "-c", "import time; time.sleep(60)"])
    args = argparse.Namespace(label="killed", phase="full")
    assert run._spawn("dashboard", args, results) == 0  # cut, not failed: the run goes on and succeeds
    assert run._spawn("search", args, results) == 0
    data = json.loads((tmp_path / "killed.tmp").read_text())
    assert data["benchmarks"]["dashboard"]["status"] == "killed at its hard limit (1 s)"
    dashboard, search = data["figures"]
    assert dashboard["value"] == 900.0 and dashboard["note"].endswith("then killed at its hard limit (1 s)")
    assert search["name"] == "search" and search["value"] is None and search["note"].startswith("cut: no figure")


def test_the_generator_records_its_time_per_million_patents(tmp_path, monkeypatch):
    from bench import generate as generating
    from bench import run

    monkeypatch.setattr(run, "RESULTS", tmp_path)
    generating.record(label="gen", patents_asked=10_000, counts={}, timings={"patents": 20.0}, seconds=30)
    generating.record(label="gen", patents_asked=90_000, counts={}, timings={"patents": 20.5}, seconds=30)
    (figure,) = json.loads((tmp_path / "gen.tmp").read_text())["figures"]
    assert figure["value"] == 60 and figure["samples"] == 2 and figure["met"] is True
    assert figure["details"]["per_million_s"] == 600 and figure["details"]["steps_s"] == {"patents": 40.5}
    generating.record(label="gen", patents_asked=100_000, counts={}, timings={}, seconds=200)
    (figure,) = json.loads((tmp_path / "gen.tmp").read_text())["figures"]
    assert figure["met"] is False and figure["details"]["per_million_s"] == 1300  # 260 s for 200k patents
