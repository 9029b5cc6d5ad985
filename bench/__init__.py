"""Performance at scale, measured as ratios against baselines taken in the same run (issue 8).

`python -m bench.generate` fills the real schema with realistic bench-only data; `python -m bench.run` times every
figure against its baseline; `make bench` does both on SQLite and on a throwaway PostgreSQL cluster and writes
bench/results/latest.json and latest.md. Nothing here is imported by the applications."""
