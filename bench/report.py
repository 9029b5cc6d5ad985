"""Turn the per-backend results (bench/results/<label>.tmp, written by bench.run) into bench/results/latest.json
and bench/results/latest.md: every figure with its baseline and ratio per backend, the scale and the machine,
the page query counts at both sizes, and for each missed goal the profile that says where the time went.

    python -m bench.report [--findings bench/findings.md] sqlite postgresql"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
FINDINGS = Path(__file__).resolve().parent / "findings.md"


def _num(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value >= 100:
        value = round(value)
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.3g}" if abs(value) < 100 else f"{value:,.1f}"
    return f"{text} {unit}".strip()


def _verdict(met) -> str:
    return {True: "met", False: "**missed**", None: "not judged"}[met]


def _profile_lines(profile: dict | None) -> list[str]:
    if not profile:
        return []
    lines = [f"  - profile of one call ({profile['total_s']} s): project code by cumulative time: "
             + "; ".join(f"`{p['where']}` {p['s']} s" for p in profile["project_cumulative"][:5])]
    lines.append("  - heaviest functions by own time: "
                 + "; ".join(f"`{p['where']}` {p['s']} s ×{p['calls']}" for p in profile["own_time"][:5]))
    return lines


def _progress(run: dict) -> list[str]:
    """How far a run got: whether it finished, and each benchmark that was cut (budget or hard limit)."""
    lines = []
    if run.get("started_at") and not run.get("finished_at"):
        lines.append("**This run did not finish**: the figures below are those measured before it stopped.")
    elif not run.get("started_at"):
        lines.append("**The benchmarks did not start** (only what was measured before them is below).")
    for name, b in run.get("benchmarks", {}).items():
        if b.get("status") != "finished":
            lines.append(f"- {name}: {b.get('status')} after {b.get('seconds')} s (budget {b.get('budget_s')} s)")
    return [*lines, ""] if lines else []


def markdown(runs: list[dict]) -> str:
    out = ["# Benchmark results", "",
           f"Written by `make bench` (bench/report.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Every figure is "
           "a median over repeated runs and comes with a baseline measured in the same run on the same machine; "
           "the ratio is figure / baseline in the figure's unit.", ""]
    if runs and runs[0].get("machine"):
        m = runs[0]["machine"]
        out += [f"**Machine**: {m.get('cpu') or 'unknown CPU'}, {m.get('cores')} cores, {m.get('memory')}, "
                f"{m.get('os')}, Python {m.get('python')} (shared with other work while measuring).", ""]
    for run in runs:
        s, db = run.get("scale", {}), run.get("database", {})
        out += [f"## {run.get('label', '?')} ({db.get('vendor')} {db.get('version')})", "",
                f"Scale: {s.get('patents', 0):,} patents, {s.get('listings', 0):,} live listings, "
                f"{s.get('declarations', 0):,} declarations, {s.get('licences', 0):,} licences, "
                f"{s.get('payments', 0):,} payments, {s.get('royalty_reports', 0):,} royalty reports, "
                f"{s.get('needs', 0):,} needs.", "",
                *_progress(run),
                "| figure | value | baseline | ratio | goal | verdict | runs |", "|---|---|---|---|---|---|---|"]
        for f in run.get("figures", []):
            unit = f.get("unit", "")
            baseline = f"{_num(f.get('baseline'), unit)} ({f['baseline_label']})" if f.get("baseline_label") else \
                _num(f.get("baseline"), unit)
            out.append(f"| {f.get('name', '?')} | {_num(f.get('value'), unit)} | {baseline} | {_num(f.get('ratio'))} "
                       f"| {f.get('goal', '')} | {_verdict(f.get('met'))} | {f.get('samples', 0)} |")
        out.append("")
        notes = []
        for f in run.get("figures", []):
            d = f.get("details", {})
            extra = []
            if f.get("note"):
                extra.append(f["note"])
            if "cold_p95_ms" in d:
                extra.append(f"cold (first pass) p95 {d['cold_p95_ms']} ms over {d['cold_samples']}, warm p95 "
                             f"{d['warm_p95_ms']} ms over {d['warm_samples']}")
            if "p50_ms" in d:
                extra.append(f"p50 {d['p50_ms']} ms (baseline p50 {d['baseline_p50_ms']} ms); slowest: "
                             + "; ".join(f"{w['ms']} ms {json.dumps(w['query'], ensure_ascii=False)}"
                                         for w in d.get("slowest", [])[:3]))
            if "seconds_per_need" in d and "listings" in d:
                extra.append(f"seconds per need {d['seconds_per_need']} over {d['listings']:,} listings; baseline "
                             f"vectorising {d['vectorise_s']} s + product {d['product_s']} s")
            if "steps_s" in d:
                extra.append("steps: " + ", ".join(f"{k} {v} s" for k, v in d["steps_s"].items()))
            if "service_s" in d:
                extra.append(f"{d['rows']:,} rows ({d['file_mb']} MB): service {d['service_s']} s, baseline "
                             f"{d['baseline_s']} s")
            if "rounds_rps" in d:
                extra.append(f"{d['tool']}, {d['connections']} connections, {d['workers']} workers, "
                             f"{d['seconds_per_round']} s rounds: {d['rounds_rps']} vs bare {d['bare_rounds_rps']}; "
                             f"errors {d['errors']}")
            if "deal_rate_page" in d:
                extra.append(f"{d['licences']:,} licences; 12-month deal rate {d['deal_rate_page']}")
            profile = d.get("profile") or d.get("profile_of_slowest") or d.get("profile_of_one_need") or \
                d.get("profile_in_process")
            if extra or profile:
                notes.append(f"- **{f.get('name', '?')}**: " + " · ".join(extra))
                notes += _profile_lines(profile)
        out += notes + [""]
        counts = run.get("query_counts", {})
        sizes = [k for k in ("small", "full") if isinstance(counts.get(k), dict) and counts[k].get("pages")]
        if sizes:
            out += ["Database queries per page (second visit, same user, rendered: stored pages and counts forgotten "
                    "first; in brackets the visit after it, served from the cache):", "",
                    "| page | " + " | ".join(f"{counts[k].get('scale', {}).get('patents', 0):,} patents" for k in sizes)
                    + " | constant |", "|---|" + "---|" * (len(sizes) + 1)]
            for page in counts[sizes[0]]["pages"]:
                values = [counts[k]["pages"].get(page, {}).get("queries") for k in sizes]
                cached = [counts[k]["pages"].get(page, {}).get("queries_from_cache") for k in sizes]
                out.append(f"| {page} | " + " | ".join(str(v) + (f" ({c})" if c is not None else "")
                                                        for v, c in zip(values, cached, strict=True))
                           + f" | {'yes' if len(set(values)) == 1 else '**no**'} |")
            out.append("")
    if FINDINGS.exists():
        out += [FINDINGS.read_text().strip(), ""]
    return "\n".join(out)


def readme_rows(runs: list[dict]) -> str:
    """The README's Performance table rows: one per figure, one column per backend."""
    names = []
    for run in runs:
        names += [f["name"] for f in run.get("figures", []) if f["name"] not in names]
    rows = []
    for name in names:
        cells, goal = [], ""
        for run in runs:
            f = next((f for f in run.get("figures", []) if f["name"] == name), None)
            if f is None:
                cells.append("—")
                continue
            goal = f["goal"] or goal
            if f["value"] is None:
                cells.append(f.get("note") or "not measured")
            else:
                cells.append(f"{_num(f['value'], f['unit'])} · {_num(f['baseline'], f['unit'])} · "
                             f"{_num(f['ratio'])} ({_verdict(f['met'])})")
        rows.append(f"| {name} ({goal}) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("labels", nargs="+")
    parser.add_argument("--readme-rows", action="store_true", help="print the README table rows only")
    args = parser.parse_args(argv)
    runs = []
    for label in args.labels:
        path = RESULTS / f"{label}.tmp"
        try:
            run = json.loads(path.read_text())
        except FileNotFoundError:
            print(f"no results for {label} ({path})", file=sys.stderr)
            continue
        except ValueError as exc:  # only files written before saves were atomic could be cut mid-way
            print(f"unreadable results for {label} ({path}): {exc}", file=sys.stderr)
            continue
        run.setdefault("label", label)
        runs.append(run)
    if args.readme_rows:
        print(readme_rows(runs))
        return 0
    (RESULTS / "latest.json").write_text(json.dumps({"written_at": datetime.now(UTC).isoformat(), "runs": runs},
                                                    ensure_ascii=False, indent=1, default=str))
    (RESULTS / "latest.md").write_text(markdown(runs))
    print(f"wrote {RESULTS / 'latest.json'} and {RESULTS / 'latest.md'}")
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main())
