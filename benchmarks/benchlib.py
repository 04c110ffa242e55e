"""Helpers shared by the benchmark scripts (run from the repository root; the scripts' own
folder is on sys.path, so `import benchlib` works)."""

from __future__ import annotations

import cProfile
import io
import pstats
import sys


def log(message: str = "") -> None:
    """Readable progress and tables go to stderr; stdout carries only the JSON result."""
    print(message, file=sys.stderr, flush=True)


def profile_call(run, title_of, top: int = 25):
    """Run `run()` under cProfile and print its profile, titled by `title_of(result)`, with the
    view restricted to OBMi's own functions. cProfile inflates pure-Python code: read relative
    costs from it, not seconds."""
    profiler = cProfile.Profile()
    profiler.enable()
    result = run()
    profiler.disable()
    print_profile(profiler, title_of(result), top, only=r"[/\\]obmi[/\\]")
    return result


def print_profile(profiler: cProfile.Profile, title: str, top: int = 25, only: str | None = None) -> None:
    """Cumulative top `top`, optionally also restricted to functions matching `only` (a path
    regex), then the top 15 by own time — the plain list is crowded by library frames."""
    views = [("cumulative", None, top, title)]
    if only:
        views.append(("cumulative", only, top, "the same, OBMi functions only"))
    views.append(("tottime", None, 15, "the same, top 15 by own time (tottime)"))
    for order, pattern, count, heading in views:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(order)
        stats.print_stats(*([pattern] if pattern else []), count)
        log(f"\n=== {heading} ===")
        log(out.getvalue())
