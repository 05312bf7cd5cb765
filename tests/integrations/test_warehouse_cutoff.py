"""The warehouse's next daily carrier cut-off: the deadline a too-late change gives."""

from __future__ import annotations

from datetime import UTC, datetime, time

from integrations.models import WMSConnection


def cutoff(zone: str, at: time | None = time(16, 0)) -> WMSConnection:
    return WMSConnection(time_zone=zone, daily_cutoff=at)


def test_before_the_cut_off_it_is_today_in_the_warehouse_s_zone():
    found = cutoff("America/New_York").next_cutoff(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))  # 10:00 there

    assert found == datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


def test_at_or_after_the_cut_off_it_is_tomorrow():
    warehouse = cutoff("America/New_York")

    assert warehouse.next_cutoff(datetime(2026, 12, 7, 21, 0, tzinfo=UTC)) == datetime(2026, 12, 8, 21, 0, tzinfo=UTC)
    assert warehouse.next_cutoff(datetime(2026, 12, 8, 3, 0, tzinfo=UTC)) == datetime(2026, 12, 8, 21, 0, tzinfo=UTC)


def test_the_local_time_is_kept_across_a_daylight_saving_change():
    # 2027-03-14: New York moves to UTC-4 overnight; 16:00 there is 20:00 UTC from then on.
    found = cutoff("America/New_York").next_cutoff(datetime(2027, 3, 13, 22, 0, tzinfo=UTC))

    assert found == datetime(2027, 3, 14, 20, 0, tzinfo=UTC)


def test_no_cut_off_set_gives_none_and_an_unknown_zone_counts_in_utc():
    assert cutoff("America/New_York", None).next_cutoff(datetime(2026, 12, 7, tzinfo=UTC)) is None
    assert cutoff("").next_cutoff(datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
