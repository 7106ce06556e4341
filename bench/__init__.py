"""Speed and memory benchmarks of the box (`make bench`, or `python -m bench`).

Each bench/bench_*.py module has `run() -> dict`; the harness in
bench/__main__.py runs them, keeps the numbers in bench/results/latest.json
and writes docs/benchmarks.md.
"""
