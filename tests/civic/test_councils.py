"""Councils: the address of each council's own site, used in every e-mailed link and calendar feed, and which postcodes are theirs."""

from __future__ import annotations

from civic.councils import Council, PostcodeSector, host_name, known_outside, site_url
from tests.factories import create_council_ok, outward, postcode_in, use_settings


def test_a_council_with_a_host_of_its_own_is_linked_at_that_host_with_the_base_addresss_scheme():
    with use_settings(base_url="https://participate.region.example/", default_council=""):
        assert site_url(Council(slug="eastbrook", hostnames="civic.eastbrook.example, www.eastbrook.example")) == "https://civic.eastbrook.example"


def test_the_base_address_serves_a_council_whose_hosts_include_it_or_that_has_none_or_is_the_default():
    with use_settings(base_url="http://127.0.0.1:8000/", default_council="northmere"):
        # The port of the base address is kept: development and single-council sites.
        assert site_url(Council(slug="a", hostnames="localhost,127.0.0.1")) == "http://127.0.0.1:8000"
        assert site_url(Council(slug="b", hostnames="")) == "http://127.0.0.1:8000"
        assert site_url(Council(slug="northmere", hostnames="civic.northmere.example")) == "http://127.0.0.1:8000"
        assert site_url(None) == "http://127.0.0.1:8000"


def test_a_host_header_is_read_without_its_port_whatever_its_capitals_and_an_ipv6_address_survives():
    assert host_name("Civic.Example:443") == "civic.example"
    assert host_name("civic.example") == "civic.example"
    assert host_name("[::1]:8000") == "[::1]"  # split at the first colon it was "["
    assert host_name("[2001:DB8::1]") == "[2001:db8::1]"


async def test_a_postcode_is_known_to_be_outside_only_in_a_district_the_council_has_none_of_or_a_sector_another_council_has(council):
    neighbour = await create_council_ok()
    # A district no council here lists, when this council has a list.
    assert await known_outside(council, "SW1A 1AA")
    # A sector missing from the council's own district may be a gap in its list: not known.
    assert not await known_outside(council, f"{outward(council)} 9ZZ")
    # Another council of this deployment has the sector: it is theirs, even in a district both share.
    assert await known_outside(council, postcode_in(neighbour, "Abbey"))
    abbey = await PostcodeSector.get(council=council, sector=f"{outward(council)} 1")
    await PostcodeSector.create(council=council, sector=f"{outward(neighbour)} 9", ward_id=abbey.ward_id)
    assert await known_outside(council, postcode_in(neighbour, "Abbey"))
    assert not await known_outside(council, f"{outward(neighbour)} 8ZZ")  # a gap in the shared district
    # A council with no list knows nothing about any postcode, except one another council has.
    await PostcodeSector.filter(council=council).delete()
    assert not await known_outside(council, "SW1A 1AA")
    assert await known_outside(council, postcode_in(neighbour, "Castlefields"))


def test_times_are_written_on_londons_clock_whatever_the_season():
    from datetime import datetime, timezone

    from civic.schemes import when

    winter, summer = datetime(2026, 1, 5, 14, 30, tzinfo=timezone.utc), datetime(2026, 7, 5, 14, 30, 5, tzinfo=timezone.utc)
    assert when.moment(winter) == "5 January 2026 at 2:30pm"
    assert when.moment(summer) == "5 July 2026 at 3:30pm"
    assert when.short_moment(summer) == "5 Jul, 3:30pm"
    assert when.exact(summer) == "5 July 2026 at 3:30:05pm"
    assert when.exact(datetime(2026, 1, 5, 0, 0, 9, tzinfo=timezone.utc)) == "5 January 2026 at 12:00:09am"
    # Half past eleven at night in UTC is already the next day in a London summer.
    assert when.on_day(datetime(2026, 7, 5, 23, 30, tzinfo=timezone.utc)) == "6 July 2026"
