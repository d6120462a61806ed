"""docs/performance.md from bench/results/*.json and the hand-written texts beside this file.

    .venv/bin/python bench/report.py [--results bench/results] [--out docs/performance.md]

The method (bench/performance_intro.md) and the analysis (bench/performance_notes.md) are
written by hand; the table and the plots (docs/img/bench-*.svg, matplotlib) come from the JSON
files. Results written by other benchmarks (population.json, crash-*.json,
concurrent-edits-*.json) are shown in the table as they come.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
ORDER = [
    "kiosk-submission",
    "pages-at-scale",
    "regional-statistics",
    "regional-statistics-2m",
    "audit-overhead",
    "worker-memory",
    "load-test",
]


def load(results: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(results.glob("*.json")):
        try:
            found[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return found


def _number(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def outcome(data: dict[str, Any]) -> str:
    passed = data.get("pass", data.get("passed", data.get("ok")))
    if passed is True:
        return "met"
    if passed is False:
        return "**missed**"
    return "not measured"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


KEY_NUMBERS = [
    "cycles",
    "acknowledged",
    "lost",
    "duplicated",
    "partial_responses",
    "partial_consents",
    "audit_chain_intact",
    "lost_updates",
]


def _population_rows(data: dict[str, Any]) -> list[str]:
    rows = []
    for run in data["runs"]:
        seconds = run.get("wall_seconds")
        shown = f"{seconds:.0f} s wall clock" if seconds else "–"
        status = run.get("status", "")
        result = "built" if status == "complete" else _cell(status or "–")
        rows.append(
            f"| Population build, {run.get('children', 0):,} children | practical | "
            f"{shown} ({_cell(status)}) | {result} | – |"
        )
    return rows


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [
        "| figure | goal | measured | result | measured at |",
        "|---|---|---|---|---|",
    ]
    names = [n for n in ORDER if n in results] + sorted(
        n
        for n in results
        if n not in ORDER and (n == "population" or n.startswith(("crash-", "concurrent-edits-")))
    )
    for name in names:
        data = results[name]
        if name == "population" and isinstance(data.get("runs"), list):
            rows.extend(_population_rows(data))
            continue
        figure = data.get("figure") or data.get("title") or name
        if data.get("sizes"):
            figure = f"{figure} (measured at {data['sizes']})"
        if "bench" in data and "figure" not in data:
            figure = f"{data['bench'].replace('_', ' ')} ({data.get('database', '')})"
        measured = data.get("ratio", data.get("value"))
        shown = _number(measured, data.get("unit", "") if measured is not None else "")
        if measured is None and data.get("summary"):
            shown = data["summary"]
        elif measured is None:
            keys = [k for k in KEY_NUMBERS if k in data] or [
                k for k, v in data.items() if isinstance(v, int | float)
            ]
            shown = ", ".join(f"{k}: {_number(data[k])}" for k in keys)[:200] or "–"
        rows.append(
            f"| {_cell(figure)} | {_cell(data.get('goal', '–'))} | {_cell(shown)} | "
            f"{outcome(data)} | {_cell(str(data.get('measured_at', '–'))[:16])} |"
        )
    return "\n".join(rows)


# --- Plots ------------------------------------------------------------------------------------


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "samverkan-bench"  # stable ids: small diffs
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})


def plots(results: dict[str, dict[str, Any]], img: Path) -> list[tuple[str, str]]:
    """The SVG files written, as (file name, caption)."""
    plt = _pyplot()
    made: list[tuple[str, str]] = []

    kiosk = results.get("kiosk-submission", {}).get("raw")
    if kiosk:
        fig, ax = plt.subplots(figsize=(6, 2.4))
        names = ["bare INSERT view", "kiosk submission"]
        values = [kiosk["baseline_insert"]["per_second"], kiosk["kiosk"]["per_second"]]
        ax.barh(names, values, color=["#999999", "#1f6f8b"])
        ax.set_xlabel("requests per second (same server, same load generator)")
        _save(fig, img / "bench-kiosk.svg")
        plt.close(fig)
        made.append(("bench-kiosk.svg", "Kiosk submissions vs the bare INSERT view"))

    scale = results.get("pages-at-scale", {}).get("raw")
    if scale:
        small = scale["small"]["pages"]
        large = (scale.get("large") or {}).get("pages", {})
        names = sorted(small)
        fig, ax = plt.subplots(figsize=(6, 2.8))
        ys = range(len(names))
        small_label = f"{scale['small'].get('children', 0):,} children"
        ax.barh([y + 0.2 for y in ys], [small[n]["p95_ms"] for n in names], 0.4, label=small_label)
        if large:
            ax.barh(
                [y - 0.2 for y in ys],
                [large.get(n, {}).get("p95_ms", 0) for n in names],
                0.4,
                label=f"{scale['large'].get('children', 0):,} children",
            )
        ax.set_yticks(list(ys), names)
        ax.set_xlabel("p95 ms")
        ax.legend()
        _save(fig, img / "bench-pages-at-scale.svg")
        plt.close(fig)
        made.append(("bench-pages-at-scale.svg", "Page p95 by population size"))

    load_test = results.get("load-test", {}).get("raw")
    if load_test and load_test.get("per_page"):
        pages = load_test["per_page"]
        names = sorted(pages, key=lambda n: pages[n]["p95_ms"])
        fig, ax = plt.subplots(figsize=(6.5, 0.28 * len(names) + 1.2))
        ax.barh(names, [pages[n]["p95_ms"] for n in names], color="#1f6f8b", label="p95")
        ax.barh(names, [pages[n]["p50_ms"] for n in names], color="#8fc1d4", label="p50")
        ax.axvline(200, color="#b00020", linestyle="--", linewidth=1, label="goal 200 ms")
        ax.set_xscale("log")
        ax.set_xlabel("ms (log scale)")
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(fontsize=7)
        _save(fig, img / "bench-load-test.svg")
        plt.close(fig)
        made.append(("bench-load-test.svg", "Load test: p50 and p95 per request kind"))

    audit = results.get("audit-overhead", {}).get("raw")
    if audit:
        p50 = audit["p50_ms"]
        names = list(p50)
        fig, ax = plt.subplots(figsize=(6, 2.4))
        ax.barh(names, [p50[n] for n in names], color="#1f6f8b")
        ax.set_xlabel("p50 ms per transaction")
        _save(fig, img / "bench-audit.svg")
        plt.close(fig)
        made.append(("bench-audit.svg", "One transaction with and without its access event"))
    return made


# --- The document -----------------------------------------------------------------------------


def details(results: dict[str, dict[str, Any]]) -> str:
    """The raw numbers of each figure, compact."""
    out = []
    for name in [n for n in ORDER if n in results]:
        data = results[name]
        out.append(f"### {data.get('figure', name)}\n")
        out.append(f"Goal {data.get('goal', '–')}; result: {outcome(data)}.")
        if data.get("summary"):
            out.append(f" Measured: {data['summary']}.")
        if data.get("why"):
            out.append(f" {data['why']}.")
        raw = dict(data.get("raw") or {})
        raw.pop("raw_ms", None)
        if name == "load-test":
            raw.pop("per_page", None)
        if name == "pages-at-scale":
            raw = {
                size: {
                    "children": part.get("children"),
                    "nurse_unit_children": part.get("nurse_unit_children"),
                    "p95_ms": {k: v["p95_ms"] for k, v in part.get("pages", {}).items()},
                    "queries": {k: v["queries"] for k, v in part.get("queries", {}).items()},
                }
                for size, part in raw.items()
                if isinstance(part, dict)
            }
        out.append(f"\n\n```json\n{json.dumps(raw, indent=1, default=str)[:3000]}\n```\n")
    return "\n".join(out)


def render(results: dict[str, dict[str, Any]], img: Path, with_plots: bool = True) -> str:
    intro = (HERE / "performance_intro.md").read_text(encoding="utf-8")
    notes_file = HERE / "performance_notes.md"
    notes = notes_file.read_text(encoding="utf-8") if notes_file.exists() else ""
    parts = [
        "<!-- Generated by bench/report.py from bench/results/*.json, "
        "bench/performance_intro.md and bench/performance_notes.md: edit those. -->\n",
        intro.rstrip(),
        "\n\n## Figures\n\n",
        table(results),
        "\n",
    ]
    if with_plots:
        made = plots(results, img)
        if made:
            parts.append("\n## Plots\n")
            parts.extend(f"\n![{caption}](img/{name})\n" for name, caption in made)
    if notes:
        parts.append("\n" + notes.rstrip() + "\n")
    parts.append("\n## Raw numbers\n\n")
    parts.append(details(results))
    return "".join(parts).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    out = Path(args.out)
    text = render(load(Path(args.results)), out.parent / "img")
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
