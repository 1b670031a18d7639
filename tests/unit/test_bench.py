"""The bench's own machinery: budgets decide the exit status, `--only` and `--json` work, the README table is
generated between its markers, and the scale model charges writes to the keys DynamoDB would."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import readme_table, scale_model
from bench.common import Report
from bench.run import main


def test_a_budget_on_the_value_or_the_ratio_is_met_or_broken() -> None:
    report = Report()
    met = report.add("a.requests", "requests", 2.2, "requests", at_most=2.25)
    broken = report.add("a.cold", "cold", 500, "ms", baseline=370, ratio=1.35, at_most=1.25, on="ratio")
    floor = report.add("a.rate", "rate", 857, "webhooks/s", at_least=5000)
    plain = report.add("a.size", "size", 26.9, "MB")
    assert (met.budget, met.ok) == ("<= 2.25", True)
    assert (broken.budget, broken.ok) == ("ratio <= 1.25", False)
    assert (floor.budget, floor.ok) == (">= 5000", False)
    assert (plain.budget, plain.ok) == (None, None)
    assert [figure.name for figure in report.broken()] == ["a.cold", "a.rate"]
    assert report.to_json()["ok"] is False


def test_only_refuses_a_name_that_is_not_a_bench(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--only", "templates,nope"])
    assert exit_.value.code == 2
    assert "unknown bench nope" in capsys.readouterr().err


def test_only_runs_the_named_module_and_writes_its_figures_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the runner sets the bench's environment
    out = tmp_path / "bench.json"
    assert main(["--only", "templates", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [figure["name"] for figure in data["figures"]] == ["templates.worst_render", "templates.worst_memory"]
    assert set(data["figures"][0]) == {"name", "label", "value", "unit", "baseline", "ratio", "budget", "ok", "detail"}
    assert data["ok"] is True


def test_the_readme_table_is_rewritten_between_its_markers_only() -> None:
    data = {
        "figures": [
            {
                "name": "x.a",
                "label": "Requests",
                "value": 2.2,
                "unit": "requests",
                "baseline": 2,
                "ratio": 1.1,
                "budget": "<= 2.25",
                "ok": True,
                "detail": "1 GetItem",
            },
            {
                "name": "x.b",
                "label": "Rate",
                "value": 857.1,
                "unit": "webhooks/s",
                "baseline": None,
                "ratio": None,
                "budget": ">= 5000",
                "ok": False,
                "detail": "hottest STATS#<retailer>",
            },
        ]
    }
    readme = f"intro\n{readme_table.START}\nold table\n{readme_table.END}\nafter\n"
    rewritten = readme_table.rewrite(readme, data)
    assert rewritten.startswith("intro\n") and rewritten.endswith(f"{readme_table.END}\nafter\n")
    assert "old table" not in rewritten
    assert "| Requests (1 GetItem) | 2.20 requests | 2.00 requests (1.10x) | <= 2.25 met |" in rewritten
    assert "| Rate (hottest STATS#&lt;retailer&gt;) | 857 webhooks/s |  | >= 5000 **broken** |" in rewritten
    assert readme_table.rewrite(rewritten, data) == rewritten


def test_the_readme_carries_the_table_markers() -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert text.count(readme_table.START) == 1 and text.count(readme_table.END) == 1


def s(value: str) -> dict[str, str]:
    return {"S": value}


def test_the_scale_model_charges_a_moved_index_entry_to_its_old_and_new_key() -> None:
    load = scale_model.Load(webhook_of="ship1")
    old = {"pk": s("SHIP#ship1"), "sk": s("LISTING"), "retailer_index": s("SHIPMENTS#r#shipped")}
    new = {"pk": s("SHIP#ship1"), "sk": s("LISTING"), "retailer_index": s("SHIPMENTS#r#delivered")}
    scale_model._charge_write(load, old, new, transactional=True)
    assert load.write == {
        "table pk=SHIP#ship1": 2,  # a transactional write of an item under 1 KB
        "by_retailer retailer_index=SHIPMENTS#r#delivered": 1,  # index writes are standard writes
        "by_retailer retailer_index=SHIPMENTS#r#shipped": 1,  # the old entry removed
    }
    assert not load.shared("table pk=SHIP#ship1")


def test_the_scale_model_counts_a_key_many_shipments_write_as_shared() -> None:
    load = scale_model.Load()
    counters = {"pk": s("STATS#r"), "sk": s("DAY#2026-11-20"), "blob": s("x" * 1500)}
    for shipment in ("a", "b"):
        load.webhook_of = shipment
        scale_model._charge_write(load, counters, counters, transactional=False)
    assert load.write["table pk=STATS#r"] == 4  # 2 KB started, twice
    assert load.shared("table pk=STATS#r")


def test_the_scale_model_charges_each_shard_of_a_listing_the_mean_of_its_family() -> None:
    from chalicelib.store.listings import LISTING_SHARDS

    load = scale_model.Load()
    load.write.update(
        {
            "by_retailer retailer_index=SHIPMENTS#r#changes#0": 6.0,
            "by_retailer retailer_index=SHIPMENTS#r#changes#5": 2.0,
            "by_retailer retailer_index=SHIPMENTS#r#shipped#1": 4.0,
            "by_retailer retailer_index=SHIPMENTS#r#stalled": 3.0,  # not sharded: left as it is
        }
    )
    for pattern, shards in scale_model.shard_families("r"):
        scale_model.pool(load, pattern, shards)
    assert load.write == {
        f"by_retailer retailer_index=SHIPMENTS#r#changes#<each of {LISTING_SHARDS}>": 8.0 / LISTING_SHARDS,
        f"by_retailer retailer_index=SHIPMENTS#r#shipped#<each of {LISTING_SHARDS}>": 4.0 / LISTING_SHARDS,
        "by_retailer retailer_index=SHIPMENTS#r#stalled": 3.0,
    }
    assert load.shared(f"by_retailer retailer_index=SHIPMENTS#r#changes#<each of {LISTING_SHARDS}>")


def test_the_scale_model_charges_an_index_entry_whose_sort_key_moves_as_a_delete_and_a_put() -> None:
    load = scale_model.Load(webhook_of="ship1")
    old = {"pk": s("SHIP#ship1"), "sk": s("CHANGES"), "retailer_index": s("F#r"), "retailer_sort": s("09:00#ship1")}
    new = {**old, "retailer_sort": s("10:00#ship1")}
    scale_model._charge_write(load, old, new, transactional=False)
    assert load.write["by_retailer retailer_index=F#r"] == 2  # the entry moved within its partition
    scale_model._charge_write(load, new, {**new, "expires_at": {"N": "1"}}, transactional=False)
    assert load.write["by_retailer retailer_index=F#r"] == 3  # rewritten in place: one write
