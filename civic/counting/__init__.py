"""Counting a shareholder round: split, greedy and the Method of Equal Shares, plus Pabulib files."""

from civic.counting.election import Election, Number, Project, exact
from civic.counting.equal_shares import equal_shares
from civic.counting.greedy import greedy
from civic.counting.pabulib import count, count_file, format_count, parse_pabulib, read_pabulib, write_pabulib
from civic.counting.results import ProjectResult, Result
from civic.counting.split import split

__all__ = [
    "Election",
    "Number",
    "Project",
    "ProjectResult",
    "Result",
    "count",
    "count_file",
    "equal_shares",
    "exact",
    "format_count",
    "greedy",
    "parse_pabulib",
    "read_pabulib",
    "split",
    "write_pabulib",
]
