"""python -m benchmarks [--quick] [--json FILE] [--only NAME]

Runs every `benchmarks/bench_*.py` module's `run(quick) -> list[Figure]` and prints one table.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import traceback

import benchmarks
from benchmarks.figures import Figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="CI-sized runs: fewer repetitions")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        help="run only figures whose name or module contains NAME (repeatable)",
    )
    args = parser.parse_args(argv)

    figures: list[Figure] = []
    failures = 0
    modules = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    for name in modules:
        module = importlib.import_module(f"benchmarks.{name}")
        wanted = getattr(module, "FIGURES", ())
        if args.only and not any(o in name or any(o in f for f in wanted) for o in args.only):
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            produced = module.run(quick=args.quick)
        except Exception:
            failures += 1
            print(f"{name} failed:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        figures.extend(f for f in produced if not args.only or any(o in f.name or o in name for o in args.only))

    print_table(figures)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump([f.as_dict() for f in figures], out, indent=2)
    return 1 if failures else 0


def print_table(figures: list[Figure]) -> None:
    rows = [("figure", "value", "unit", "peer", "ratio", "target")]
    for f in figures:
        rows.append(
            (
                f.name,
                f"{f.value:.4g}",
                f.unit,
                f.peer or "-",
                "-" if f.ratio is None else f"{f.ratio:.3g}",
                f.target or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
