"""The bench harness (bench/, run by `make bench`): quick checks that need no server."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

from bench import report
from bench.cluster import production_settings
from bench.forms import forms_of


def test_the_baseline_view_is_not_reachable_with_the_production_urls():
    assert settings.ROOT_URLCONF == "samverkan.urls"
    with pytest.raises(Resolver404):
        resolve("/bench/insert/")


def test_no_project_module_imports_the_bench_settings():
    root = Path(settings.BASE_DIR)
    offenders = [
        str(path.relative_to(root))
        for folder in ("samverkan", "accounts", "directory", "families", "screening", "audit")
        for path in (root / folder).rglob("*.py")
        if "bench.settings" in path.read_text(encoding="utf-8")
        or "bench.urls" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_bench_server_has_the_documented_production_settings_none_of_which_risks_a_commit():
    """`make bench` measures the configuration docs/postgresql.conf recommends for a region's
    server. A setting that bought speed with durability would make every figure (and the
    crash test's "nothing acknowledged is lost") a claim about a server nobody should run."""
    configured = production_settings()
    assert configured["shared_buffers"] == "4GB"
    assert configured["jit"] == "off"
    for durable in ("fsync", "synchronous_commit", "full_page_writes", "autovacuum"):
        assert configured.get(durable, "on") == "on", durable


def test_a_postgresql_conf_is_read_without_its_comments_and_quotes(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text("# a comment\n\nshared_buffers = 4GB   # a quarter\nlog_line_prefix = '%m '\n")
    assert production_settings(conf) == {"shared_buffers": "4GB", "log_line_prefix": "%m "}


def test_the_report_shows_each_result_with_its_goal_and_whether_it_was_met(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    samples = {
        "kiosk-submission": {"figure": "Kiosk", "goal": ">= 0.7", "ratio": 0.82, "pass": True},
        "audit-overhead": {
            "figure": "Audit",
            "goal": "<= 1 ms",
            "ratio": 1.7,
            "unit": "ms",
            "pass": False,
            "summary": "1.7 ms",
        },
        "regional-statistics": {
            "figure": "Statistics",
            "goal": "<= 1.5",
            "ratio": None,
            "pass": None,
            "summary": "not measured yet",
        },
        "population": {"children": 20000, "seconds": 95.5},
        "crash-postgres": {"figure": "Crash", "goal": "0 lost", "value": 0, "pass": True},
    }
    for name, data in samples.items():
        (results / f"{name}.json").write_text(json.dumps(data))

    text = report.render(report.load(results), tmp_path / "img", with_plots=False)

    assert "| Kiosk | >= 0.7 | 0.82 | met |" in text
    assert "| Audit | <= 1 ms | 1.70 ms | **missed** |" in text
    assert "| Statistics | <= 1.5 | not measured yet | not measured |" in text
    assert "children: 20000" in text
    assert "| Crash | 0 lost | 0 | met |" in text
    assert "## Method" in text


def test_a_page_form_is_read_as_a_browser_would_submit_it():
    html = """
    <form method="post" action="/x/"><input type="hidden" name="version" value="3">
      <textarea name="discussion">
Said so.</textarea>
      <input type="checkbox" name="themes" value="1" checked>
      <input type="checkbox" name="themes" value="2">
      <select name="contact"><option value="7">A</option><option value="9" selected>B</option>
      </select><select name="first"><option value="4">C</option></select>
      <button type="submit" name="go">Save</button></form>"""

    (form,) = forms_of(html)

    assert form["action"] == "/x/"
    assert form["fields"] == [
        ["version", "3"],
        ["discussion", "Said so."],
        ["themes", "1"],
        ["contact", "9"],
        ["first", "4"],
    ]
    assert form["choices"] == [["themes", "2"]]


@pytest.mark.django_db
def test_pages_at_two_sizes_are_those_of_units_of_the_same_size():
    """The median unit, or with a size the units closest to it: a nurse's pages grow with her
    unit, so the 2M world takes a unit as large as the 20k world's median one."""
    from bench.prepare import typical_bvc_units
    from tests import factories

    sizes = [3, 5, 8, 13]
    units = [factories.unit() for _ in sizes]
    for unit, size in zip(units, sizes, strict=True):
        for _ in range(size):
            factories.child(bvc=unit)
    assert typical_bvc_units(1) == [(units[2], 8)]  # the median of four, rounded up
    assert typical_bvc_units(2, size=6) == [(units[1], 5), (units[2], 8)]
    assert typical_bvc_units(1, size=12) == [(units[3], 13)]
