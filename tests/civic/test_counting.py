"""Counting a round: split, greedy and equal shares agree with pabutools and with reasoning by hand."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from pabutools.election import Additive_Cardinal_Sat, Cost_Sat
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import method_of_equal_shares

from civic.counting import (
    Election,
    Project,
    count_file,
    equal_shares,
    format_count,
    greedy,
    parse_pabulib,
    read_pabulib,
    split,
    write_pabulib,
)
from civic.counting.add1 import count_together
from civic.counting.election import GroupedBallots
from civic.counting.equal_shares import FREE_UNDER_COST, SHARES_RAN_OUT
from civic.counting.greedy import NO_BACKERS, NOT_ENOUGH_LEFT, OVER_BUDGET
from civic.counting.mes import EqualShares

PABULIB = Path(__file__).resolve().parents[1] / "data" / "pabulib"
REFERENCE = json.loads((PABULIB / "reference.json").read_text())["instances"]


def approval(budget: int, costs: dict[str, int], ballots: list[str]) -> Election:
    """An approval election; each ballot is a string of one-letter project ids, e.g. "AB"."""
    return Election(
        projects=[Project(pid, cost) for pid, cost in costs.items()],
        ballots=[{pid: 1 for pid in ballot} for ballot in ballots],
        budget=budget,
        vote_type="approval",
    )


def cumulative(budget: int | None, costs: dict[str, int | None], ballots: list[dict[str, int]]) -> Election:
    return Election(
        projects=[Project(pid, cost) for pid, cost in costs.items()],
        ballots=ballots,
        budget=budget,
        vote_type="cumulative",
    )


# -- every Pabulib file, every method ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("method", ["greedy", "mes", "mes_add1"])
def test_pabulib_elections_give_pabutools_selections(name, method):
    election = read_pabulib(PABULIB / name)
    if method == "greedy":
        result = greedy(election)
    else:
        result = equal_shares(election, completion="add1" if method == "mes_add1" else None)
    assert sorted(result.selected) == sorted(REFERENCE[name][method])
    assert result.spent <= election.budget


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_count_file_reports_the_selection_and_the_counting_time(name):
    result = count_file(PABULIB / name, "equal_shares", "add1")
    assert sorted(result["selected"]) == sorted(REFERENCE[name]["mes_add1"])
    assert result["voters"] == REFERENCE[name]["voters"]
    assert isinstance(result["seconds"], float) and result["seconds"] > 0
    assert json.loads(format_count(result, as_json=True))["selected"] == result["selected"]


def test_count_file_split_selects_every_funded_project_by_shares():
    result = count_file(PABULIB / "synthetic_cumulative.pb", "split", None)
    lines = {line["id"]: line for line in result["results"]}
    assert [lines[pid]["shares"] for pid in result["selected"]] == sorted(
        (lines[pid]["shares"] for pid in result["selected"]), reverse=True
    )
    assert sum(line["money"] for line in result["results"]) == 400
    text = format_count(result, as_json=False)
    assert "method: split" in text
    assert f"selected {len(result['selected'])}: {', '.join(result['selected'])}" in text


def test_count_file_refuses_an_unknown_method():
    with pytest.raises(ValueError, match="unknown method"):
        count_file(PABULIB / "synthetic_cumulative.pb", "borda", None)


# -- split ------------------------------------------------------------------------------------


def test_split_pennies_add_up_to_the_budget_and_the_odd_penny_goes_by_id():
    election = cumulative(100, {"b": None, "a": None, "c": None}, [{"a": 1, "b": 1, "c": 1}])
    result = split(election)
    # 100 / 3 = 33.33 each: one penny is left over and every remainder is equal, so it goes to "a".
    assert [(p.id, p.money) for p in result.projects] == [("b", 33), ("a", 34), ("c", 33)]
    assert result.spent == 100 and result.left == 0
    assert all(p.share_of_total == Fraction(1, 3) for p in result.projects)


def test_split_gives_the_largest_remainder_the_spare_pennies():
    election = cumulative(1000, {"a": 10, "b": 10, "c": 10}, [{"a": 4}, {"a": 2, "b": 3}, {"c": 2}])
    # Shares 6 : 3 : 2 of 1000 are 545.45, 272.73 and 181.82; floors 545 + 272 + 181 = 998, and the
    # two spare units go to the largest remainders, b (0.73) and c (0.82).
    result = split(election)
    assert [p.money for p in result.projects] == [545, 273, 182]
    assert result.selected == ("a", "b", "c")
    assert [p.backers for p in result.projects] == [2, 1, 1]


def test_split_of_a_decimal_budget_pays_whole_pennies():
    election = cumulative(Decimal("10.01"), {"a": None, "b": None}, [{"a": 1}, {"b": 1}])
    result = split(election)
    assert [p.money for p in result.projects] == [Fraction("5.01"), 5]
    assert result.spent == Fraction("10.01")


def test_split_without_a_budget_gives_shares_only():
    election = cumulative(None, {"a": None, "b": None, "c": None}, [{"a": 3, "b": 1}, {"a": 1}])
    result = split(election)
    assert [(p.shares, p.share_of_total, p.money) for p in result.projects] == [
        (4, Fraction(4, 5), None),
        (1, Fraction(1, 5), None),
        (0, Fraction(0), None),
    ]
    assert result.selected == ("a", "b")
    assert result.project("c").reason == "nobody gave it any shares"
    assert result.spent is None


def test_split_with_no_shares_at_all_pays_nothing():
    result = split(cumulative(100, {"a": None}, [{}, {}]))
    assert result.projects[0].money == 0 and result.selected == () and result.left == 100


# -- greedy -----------------------------------------------------------------------------------


def test_greedy_breaks_ties_by_id_as_text_and_skips_what_no_longer_fits():
    # "10" and "9" have 2 shares each; as text "10" comes first and takes 60 of the 100.
    # "9" (60) no longer fits; "8" (40, 1 share) still does.
    election = cumulative(
        100, {"9": 60, "10": 60, "8": 40, "7": 150, "6": 5}, [{"9": 1, "10": 1, "7": 3}, {"9": 1, "10": 1, "8": 1}]
    )
    result = greedy(election)
    assert result.selected == ("10", "8")
    assert result.project("9").reason == NOT_ENOUGH_LEFT
    assert result.project("7").reason == OVER_BUDGET
    assert result.project("6").reason == NO_BACKERS


def test_greedy_needs_every_project_costed():
    with pytest.raises(ValueError, match="no cost for b"):
        greedy(cumulative(100, {"a": 10, "b": None}, [{"a": 1}]))


def test_greedy_selects_a_backed_project_that_costs_nothing():
    result = greedy(cumulative(10, {"free": 0, "a": 10}, [{"free": 1, "a": 2}]))
    assert result.selected == ("a", "free")


# -- equal shares -----------------------------------------------------------------------------


def test_equal_shares_breaks_a_tie_by_id_and_funds_the_minority():
    # Budget 300, six voters with 50 each. A (200) and B (100) are backed by the same four voters,
    # C (100) by the other two. With cost satisfaction A and B both cost their backers 1/4 per unit
    # of satisfaction: a tie, which "A" wins as text. Its four backers pay 50 each and have nothing
    # left for B; C's two backers pay 50 each. Greedy would spend everything on A and B.
    election = approval(300, {"A": 200, "B": 100, "C": 100}, ["AB", "AB", "AB", "AB", "C", "C"])
    result = equal_shares(election, completion=None)
    assert result.selected == ("A", "C")
    assert result.project("B").reason == SHARES_RAN_OUT
    assert greedy(election).selected == ("A", "B")
    # The budget is spent to the last penny, so Add1 has nothing to add.
    assert equal_shares(election).selected == ("A", "C")


def test_add1_raises_shares_until_another_project_can_be_bought():
    # Budget 100, two voters with 50 each. C (10) is backed by v1; A (70) needs 70 from v1 and
    # B (60) needs 60 from v2, so plain equal shares buys C alone and leaves 90.
    # Add1 raises both shares by 1 until, at 60 each, v2 can pay for B: {B, C} costs 70, and A no
    # longer fits, so that outcome is final.
    election = approval(100, {"A": 70, "B": 60, "C": 10}, ["AC", "B"])
    assert equal_shares(election, completion=None).selected == ("C",)
    result = equal_shares(election, completion="add1")
    assert sorted(result.selected) == ["B", "C"]
    assert result.spent == 70


def test_add1_steps_in_the_budgets_own_units():
    # The same round as above in pence: stepping by a penny or by a pound reaches B at 60 pounds.
    election = approval(10000, {"A": 7000, "B": 6000, "C": 1000}, ["AC", "B"])
    assert sorted(equal_shares(election, increment=100).selected) == ["B", "C"]
    assert sorted(equal_shares(election, increment=1).selected) == ["B", "C"]
    with pytest.raises(ValueError, match="increment"):
        equal_shares(election, increment=0)


def test_add1_keeps_the_last_outcome_within_the_budget():
    # A (60) is backed by v1 only and B (60) by v2 only; with 50 each neither is affordable, and
    # at 60 each both are, costing 120 of a 100 budget. So Add1 keeps the outcome at 59: nothing.
    election = approval(100, {"A": 60, "B": 60}, ["A", "B"])
    assert equal_shares(election, completion="add1").selected == ()
    assert greedy(election).selected == ("A",)


def test_identical_projects_tie_even_after_some_backers_run_short():
    # Budget 100, three voters with 33.33 each. D costs 30 for 5 points: 6 a point, bought first,
    # leaving v1 3.33. A and B are twins (45 each, the same three backers, a point each); v1 can
    # give only 3.33, so each costs (45 - 3.33) / 2 = 20.83 a point: a tie, which "A" wins. Then
    # B's backers have 25 of its 45. Spending 75, with B needing 45 more, the outcome is final.
    election = cumulative(
        100, {"D": 30, "A": 45, "B": 45}, [{"D": 5, "A": 1, "B": 1}, {"A": 1, "B": 1}, {"A": 1, "B": 1}]
    )
    assert equal_shares(election, completion=None).selected == ("D", "A")
    assert equal_shares(election).selected == ("D", "A")
    assert pabutools_selection(election, add1=True) == ["A", "D"]


def test_equal_shares_never_buys_a_project_costing_more_than_the_budget():
    election = Election(
        projects=[Project("big", 150), Project("small", 50)],
        ballots=[{"big": 1, "small": 1}, {"big": 1, "small": 1}],
        budget=100,
        vote_type="approval",
    )
    result = equal_shares(election)
    assert result.selected == ("small",)
    assert result.project("big").reason == OVER_BUDGET


def test_equal_shares_counts_empty_ballots_in_everyones_share():
    # Four ballots, two empty: each voter holds 100 / 4 = 25, so A's two backers have 50 of its 60.
    # Add1 raises shares to 30, when they can pay: A is bought and the outcome is exhaustive.
    election = cumulative(100, {"A": 60}, [{"A": 1}, {"A": 1}, {}, {}])
    assert equal_shares(election, completion=None).selected == ()
    assert equal_shares(election, completion="add1").selected == ("A",)


def test_equal_shares_with_points_buys_backed_free_projects_first():
    # As pabutools does, a backed project that costs nothing is bought before counting starts.
    election = cumulative(10, {"a": 10, "free": 0, "unbacked": 0}, [{"a": 1, "free": 1}])
    result = equal_shares(election)
    assert result.selected == ("free", "a")
    assert result.project("unbacked").reason == NO_BACKERS


def test_equal_shares_with_cost_satisfaction_counts_a_free_project_for_nobody():
    # With cost satisfaction a free project satisfies nobody, so pabutools never buys it.
    election = Election(
        projects=[Project("a", 10), Project("free", 0)],
        ballots=[{"a": 1, "free": 1}],
        budget=10,
        vote_type="approval",
    )
    result = equal_shares(election)
    assert result.selected == ("a",)
    assert result.project("free").reason == FREE_UNDER_COST


def test_equal_shares_with_no_ballots_selects_nothing():
    assert equal_shares(approval(100, {"A": 10}, [])).selected == ()


def test_equal_shares_needs_a_budget():
    with pytest.raises(ValueError, match="needs a budget"):
        equal_shares(cumulative(None, {"a": 10}, [{"a": 1}]))


def test_equal_shares_weighs_points():
    # Budget 100, two voters with 50 each. v1 puts 3 points on A (60) and 1 on B (40); v2 puts 1 on
    # A. With points as satisfaction A costs 60 / 4 = 15 a point: v1 pays 45, v2 pays 15. B costs
    # 40 a point and v1 has 5 left: not bought. Add1 raises shares to 85, when v1 still has 40
    # after paying 45 for A; A and B then cost exactly the budget, so the outcome is exhaustive.
    election = cumulative(100, {"A": 60, "B": 40}, [{"A": 3, "B": 1}, {"A": 1}])
    assert equal_shares(election, completion=None).selected == ("A",)
    assert equal_shares(election, completion="add1").selected == ("A", "B")


# -- randomized cross-check against pabutools ---------------------------------------------------


def pabutools_selection(election: Election, add1: bool) -> list[str]:
    instance, profile = parse_pabulib_from_string(write_pabulib(election))
    sat = Cost_Sat if election.vote_type == "approval" else Additive_Cardinal_Sat
    chosen = method_of_equal_shares(instance, profile, sat_class=sat, voter_budget_increment=1 if add1 else None)
    return sorted(p.name for p in chosen)


def random_election(rng: random.Random) -> Election:
    vote_type = rng.choice(["approval", "cumulative"])
    costs = [0, 1, 2, 3, 5, 8, 10, 12, 20, 30, 45, 60]
    projects = [Project(f"p{i}", rng.choice(costs)) for i in range(rng.randint(2, 7))]
    voters = rng.randint(1, 12)
    ballots = []
    for _ in range(voters):
        backed = rng.sample([p.id for p in projects], rng.randint(0, len(projects)))
        if vote_type == "approval":
            ballots.append({pid: 1 for pid in backed})
        else:
            ballots.append({pid: rng.randint(1, 3) for pid in backed})
    return Election(projects=projects, ballots=ballots, budget=rng.choice([10, 30, 50, 60, 100]), vote_type=vote_type)


@pytest.mark.parametrize("seed", range(30))
def test_random_small_elections_match_pabutools(seed):
    # Small costs and budgets make exact ties common, which is what the exact fallback is for.
    election = random_election(random.Random(seed))
    for add1 in (False, True):
        ours = sorted(equal_shares(election, completion="add1" if add1 else None).selected)
        assert ours == pabutools_selection(election, add1), (seed, add1)


def assert_side_by_side_matches_alone(election: Election, steps: range) -> None:
    grouped = GroupedBallots.of(election)
    satisfaction = "cost" if election.vote_type == "approval" else "points"
    counter = EqualShares([p.cost for p in election.projects], grouped, satisfaction, [p.id for p in election.projects])
    shares = [Fraction(election.budget, max(grouped.voters, 1)) + k for k in steps]
    for share, together in zip(shares, count_together(counter, shares)):
        # None means "too close for floats: count this one alone", which is always allowed.
        assert together is None or together.order == counter.count(share).order, share


@pytest.mark.parametrize("name", ["netherlands_amsterdam_2022_west.pb", "France_Toulouse_2019.pb"])
def test_counting_shares_side_by_side_matches_counting_each_alone(name):
    assert_side_by_side_matches_alone(read_pabulib(PABULIB / name), range(0, 120, 3))


def test_counting_side_by_side_matches_counting_alone_in_random_elections():
    rng = random.Random(7)
    for _ in range(40):
        assert_side_by_side_matches_alone(random_election(rng), range(12))


# -- Pabulib files ----------------------------------------------------------------------------


def test_a_written_election_reads_back_the_same_in_pabutools_and_in_civic():
    election = Election(
        projects=[
            Project("1", 100, 'Play area; "new" swings'),
            Project("2", Fraction(51, 2), "Bins"),
            Project("3", None),
        ],
        ballots=[{"1": 3, "2": 2}, {}, {"2": Fraction(1, 2)}, {"1": 5}],
        budget=Decimal("250.50"),
        vote_type="cumulative",
        meta={"description": "Ward 3 priorities", "currency": "GBP"},
    )
    text = write_pabulib(election)
    instance, profile = parse_pabulib_from_string(text)
    assert instance.budget_limit == Fraction(501, 2)
    assert {p.name: p.cost for p in instance} == {"1": 100, "2": Fraction(51, 2), "3": 0}
    assert [{p.name: v for p, v in ballot.items()} for ballot in profile] == [
        {"1": 3, "2": 2},
        {},
        {"2": Fraction(1, 2)},
        {"1": 5},
    ]
    back = parse_pabulib(text)
    assert back.ballots == [{"1": 3, "2": 2}, {}, {"2": Fraction(1, 2)}, {"1": 5}]
    assert back.project("1").name == 'Play area; "new" swings'
    assert back.meta["currency"] == "GBP"
    votes = text.split("VOTES\n")[1].splitlines()
    assert votes[0] == "voter_id;vote;points"
    assert [row.split(";")[0] for row in votes[1:]] == ["1", "2", "3", "4"]


def test_an_approval_election_is_written_as_approval_ballots():
    election = approval(100, {"A": 60, "B": 40}, ["AB", "B", ""])
    instance, profile = parse_pabulib_from_string(write_pabulib(election))
    assert [sorted(p.name for p in ballot) for ballot in profile] == [["A", "B"], ["B"], []]
    assert parse_pabulib(write_pabulib(election)).ballots == election.ballots


def test_a_project_id_with_a_comma_cannot_be_written():
    with pytest.raises(ValueError, match="cannot contain one"):
        write_pabulib(approval(10, {"A,B": 5}, []))


def test_a_file_without_pabulib_sections_is_refused():
    with pytest.raises(ValueError, match="not a Pabulib file"):
        parse_pabulib("# Just a README\nNothing to count here.\n")


def test_an_ordinal_pabulib_file_is_refused():
    text = "META\nkey;value\nbudget;10\nvote_type;ordinal\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\n1;1\n"
    with pytest.raises(ValueError, match="cannot count 'ordinal'"):
        parse_pabulib(text)


def test_reading_a_pabulib_file_keeps_every_ballot():
    election = read_pabulib(PABULIB / "France_Toulouse_2019.pb")
    assert len(election.ballots) == 1494 and len(election.projects) == 30
    assert election.budget == 1000000 and election.vote_type == "cumulative"
    assert election.ballots[0] == {"15": 2, "22": 2, "25": 2, "10": 1}
