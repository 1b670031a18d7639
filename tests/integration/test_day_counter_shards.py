"""A busy retailer's day counters are spread over shards (issue 16.8) and read back as one day, nothing lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.store import stats
from chalicelib.store.models import DayCounters
from chalicelib.store.table import rows
from tests.integration.test_concurrency import moto_server  # noqa: F401 - the fixture


@pytest.mark.usefixtures("moto_server")  # in-process moto's UpdateItem is not atomic under threads; its server is
def test_increments_spread_over_the_shards_add_up_to_one_day_per_date() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent writers, as webhooks are
        list(pool.map(lambda n: stats.add("rt_busy", "2026-11-20", {"delivered": 1, "late": n % 2}), range(200)))
    stats.add("rt_busy", "2026-11-21", {"delivered": 3}, labels={"name:d1": "Sam"})
    stats.add("rt_other", "2026-11-20", {"delivered": 5})

    used = [shard for shard in range(stats.COUNTER_SHARDS) if list(rows(stats.shard_key("rt_busy", shard)))]
    assert len(used) > 1  # the increments did not all land on one item

    days = stats.read("rt_busy", "2026-11-19", "2026-11-21")
    assert [day["sk"] for day in days] == ["DAY#2026-11-20", "DAY#2026-11-21"]
    assert days[0]["delivered"] == 200 and days[0]["late"] == 100
    assert days[1]["delivered"] == 3 and days[1]["name:d1"] == "Sam"


def test_counters_written_before_the_shards_are_still_counted(aws) -> None:
    from pynamodb.expressions.operand import Path

    from chalicelib.store.table import to_attribute

    DayCounters("STATS#rt_old", "DAY#2026-11-20").update([Path("delivered").add(to_attribute(7))])
    stats.add("rt_old", "2026-11-20", {"delivered": 1})
    [day] = stats.read("rt_old", "2026-11-20", "2026-11-20")
    assert day["delivered"] == 8 and day["pk"] == "STATS#rt_old"
