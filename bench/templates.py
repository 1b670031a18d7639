"""11. Templates under limits: the slowest and hungriest hostile retailer templates, each stopped by the sandbox."""

from __future__ import annotations

import time

from .common import Report

NAME = "templates"


def run(report: Report) -> None:
    """templates under limits: the slowest and hungriest hostile retailer templates, each stopped by the sandbox
    (render only, compiled beforehand; tracemalloc's own overhead is in the times)."""
    import tracemalloc

    from chalicelib.web.sandbox import TemplateLimitError, compile_limited, render_limited

    hostile = {
        "range(10**9)": "{% for i in range(10**9) %}x{% endfor %}",
        "recursive macro": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(1) }}",
        "'a' * 10**9": "{{ 'a' * 10**9 }}",
        "1000 x 1000 empty loop": "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "3 nested loops over a value": "{% for a in s %}{% for b in s %}{% for c in s %}{% endfor %}{% endfor %}"
        "{% endfor %}",
        "doubling with ~": "{% set x = s %}" + "{% set x = x ~ x %}" * 30 + "{{ x }}",
        "output flood": "{% for i in range(1000) %}{{ s }}{% endfor %}",
    }
    results = []
    for name, source in hostile.items():
        compile_limited(source)  # compiled once per source and cached: the render is what is bounded
        tracemalloc.start()
        started = time.perf_counter()
        try:
            render_limited(source, {"s": "x" * 60})
            outcome = "rendered"
        except TemplateLimitError as error:
            outcome = str(error)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results.append((elapsed, peak, name, outcome))
    for elapsed, peak, name, outcome in sorted(results, reverse=True):
        print(f"  {name:28} {elapsed * 1000:7.1f} ms  peak {peak / 1024:8.1f} KiB  -> {outcome}")
    worst_time = max(results)
    worst_memory = max(results, key=lambda row: row[1])
    print(
        f"templates under limits: worst render {worst_time[0] * 1000:.1f} ms ({worst_time[2]}), "
        f"worst peak memory {worst_memory[1] / 1024:.0f} KiB ({worst_memory[2]})"
    )
    report.add(
        "templates.worst_render",
        "Hostile retailer template, slowest render before the sandbox stops it",
        worst_time[0] * 1000,
        "ms",
        detail=worst_time[2],
    )
    report.add(
        "templates.worst_memory",
        "Hostile retailer template, highest peak memory",
        worst_memory[1] / 1024,
        "KiB",
        detail=worst_memory[2],
    )
