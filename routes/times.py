"""Template filters for dates and times in London, as people in the UK read them (importing registers them)."""

from __future__ import annotations

from civic.schemes import when
from routes.web import templates

templates.env.filters.update(
    {
        "day_name": when.day_name,  # Tuesday 4 March 2025
        "clock": when.clock,  # 10am, 2:30pm, midday
        "on_day": when.on_day,  # 4 March 2025
        "moment": when.moment,  # 4 March 2025 at 2:30pm
        "short_moment": when.short_moment,  # 4 Mar, 2:30pm
        "exact": when.exact,  # 4 March 2025 at 2:30:05pm
        "london": when.local,  # for strftime in London time
    }
)
