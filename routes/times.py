"""Template filters for dates and times in London, as people in the UK read them (importing registers them)."""

from __future__ import annotations

from civic.schemes import when
from routes.web import templates

templates.env.filters.update(
    {
        "day_name": when.day_name,  # Tuesday 4 March 2025
        "clock": when.clock,  # 10am, 2:30pm, midday
        "london": when.local,  # for strftime in London time
    }
)
