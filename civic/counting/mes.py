"""The Method of Equal Shares counted at one share per voter, in floats with an exact fallback.

Every voter starts with an equal share of the budget. Each round the project that its backers
can pay for at the lowest price per unit of satisfaction (rho) is bought, each backer paying
rho times their satisfaction or all they have left; when no project can be paid for, counting
stops. Ties go to the project whose id comes first as text, as in pabutools.

Speed comes from identical ballots counted once with a weight, each project's backers kept as
numpy arrays, and prices that never fall within a count, so a project is only re-priced when its
old price could still win (a priority queue). Floats are checked against a bound on their error:
whenever two prices, or a project's money and its cost, are too close for floats to tell apart,
the count is replayed in exact fractions to decide.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from civic.counting.election import GroupedBallots, Number

# Error allowed for float sums of money, as a share of all the money, before a comparison is
# decided exactly. Floats are accurate to about 1e-16 a step; a sum of money takes at most a few
# thousand steps (rounds times terms, summed pairwise by numpy), so 1e-10 is a generous bound.
MONEY_ERROR = 1e-10
PRICE_ERROR = 1e-12
# More rounds than this re-pricing one project means float noise; price it by sorting instead.
MAX_REFINEMENTS = 60


class Price(NamedTuple):
    """A project's rho in one round: a float, how far it may be from the truth, and maybe exactly."""

    value: float
    error: float
    unsure: bool  # its backers' money and its cost are too close to tell whether it is affordable
    exact: Fraction | None  # rho exactly, when known without recounting
    project: int
    slope: float = 0.0  # how fast rho falls as every share rises, while nobody's position changes
    floor_only: bool = False  # value is only a lower bound: pricing stopped once it could not win


@dataclass
class Count:
    """One count at a given share per voter: projects bought in order and the price of each.

    `horizon` guesses how far the share can rise before the order could change, by following
    each price's slope; `certify` checks the guess.
    """

    share: Fraction
    order: list[int] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    horizon: float = math.inf


class EqualShares:
    """Counts of one election at different shares per voter (an Add1 completion needs many)."""

    def __init__(
        self,
        costs: list[Number],
        grouped: GroupedBallots,
        satisfaction: str,
        ids: list[str],
    ) -> None:
        self.costs = costs
        self.voters = grouped.voters
        self.groups = len(grouped.ballots)
        self.rank = {p: r for r, p in enumerate(sorted(range(len(ids)), key=lambda i: ids[i]))}
        # Every (ballot group, project) pair, with the group's satisfaction from the project.
        pair_group = [g for g, ballot in enumerate(grouped.ballots) for _ in ballot]
        pair_project = [p for ballot in grouped.ballots for p, _ in ballot]
        if satisfaction == "points":
            pair_sat = [points for ballot in grouped.ballots for _, points in ballot]
        else:
            pair_sat = [costs[p] for p in pair_project]
        self.group_weight = np.array(grouped.weights, dtype=np.float64)
        group = np.array(pair_group, dtype=np.intp)
        project = np.array(pair_project, dtype=np.intp)
        sat = np.array([float(x) for x in pair_sat])
        order = np.argsort(project, kind="stable")
        ends = np.cumsum(np.bincount(project, minlength=len(costs)))
        self._pairs = (order, ends, pair_group, pair_sat, grouped.weights)
        self.index: dict[int, np.ndarray] = {}
        self.weight: dict[int, np.ndarray] = {}
        self.weighted_sat: dict[int, np.ndarray] = {}
        self.max_sat: dict[int, float] = {}
        self.cost: dict[int, float] = {}
        self.total_sat: dict[int, float] = {}
        self.first_exact: dict[int, Fraction] = {}
        # pabutools buys backed projects that cost nothing before counting starts; with cost
        # satisfaction nobody gains anything from one, so it is never bought.
        self.free: list[int] = []
        self.projects: list[int] = []
        for p in range(len(costs)):
            rows = order[(ends[p - 1] if p else 0) : ends[p]]
            rows = rows[sat[rows] > 0]
            if not len(rows):
                continue
            if costs[p] == 0:
                self.free.append(p)
                continue
            self.projects.append(p)
            self.index[p] = group[rows]
            self.weight[p] = self.group_weight[group[rows]]
            self.weighted_sat[p] = sat[rows] * self.weight[p]
            self.max_sat[p] = float(sat[rows].max())
            exact_total = sum(pair_sat[i] * grouped.weights[pair_group[i]] for i in rows.tolist())
            self.total_sat[p] = float(exact_total)
            self.cost[p] = float(costs[p])
            # While none of its backers has run short, a project's rho is its cost over its total
            # satisfaction, exactly; it can only rise from there.
            self.first_exact[p] = Fraction(costs[p]) / exact_total
        self.pairs = sum(len(self.index[p]) for p in self.projects)
        self._backers: dict[int, list[tuple[int, Number, int]]] = {}
        # Projects with the same cost and the same backers, equally satisfied, always cost the
        # same: between such twins only the tie-break decides, with no need for exact arithmetic.
        self.twin: dict[int, int] = {}
        seen: dict[tuple[float, bytes, bytes], list[int]] = {}
        for p in self.projects:
            key = (self.cost[p], self.index[p].tobytes(), self.weighted_sat[p].tobytes())
            self.twin[p] = p
            for q in seen.setdefault(key, []):
                if costs[q] == costs[p] and self.backers(q) == self.backers(p):
                    self.twin[p] = self.twin[q]
                    break
            seen[key].append(p)
        self.first_price = {p: float(self.first_exact[p]) for p in self.projects}
        self.first_floor = {p: self.first_price[p] * (1 - PRICE_ERROR) for p in self.projects}
        self.first_floors = np.array([self.first_floor.get(p, np.inf) for p in range(len(costs))])
        self.first_heap = sorted((self.first_floor[p], self.rank[p], p, 0) for p in self.projects)
        # What pricing a project needs, in one lookup.
        self.arrays: list[tuple[float, np.ndarray, np.ndarray, float, np.ndarray]] = [
            (self.cost[p], self.index[p], self.weighted_sat[p], self.total_sat[p], np.ones(len(self.index[p])))
            if p in self.cost
            else (0.0, np.zeros(0, np.intp), np.zeros(0), 0.0, np.zeros(0))
            for p in range(len(costs))
        ]

    def backers(self, p: int) -> list[tuple[int, Number, int]]:
        """Project p's backers as exact (group, satisfaction, weight), for the exact fallback."""
        if p not in self._backers:
            order, ends, pair_group, pair_sat, weights = self._pairs
            rows = order[(ends[p - 1] if p else 0) : ends[p]].tolist()
            self._backers[p] = [
                (pair_group[i], pair_sat[i], weights[pair_group[i]]) for i in rows if pair_sat[i] > 0
            ]
        return self._backers[p]

    # -- one count -------------------------------------------------------------------------

    def count(self, share: Fraction, follow: Count | None = None, hint: Count | None = None) -> Count | None:
        """Count with every voter holding `share`; with `follow`, certify instead (see `certify`).

        `hint`, a count at a nearby share, only changes the order in which projects are priced:
        its winner is priced first each round, so its rivals can be dismissed quickly."""
        # Money left per group of identical ballots (weight times each voter's money left).
        budgets = self.group_weight * float(share)
        # d(money left)/d(share) per group, to guess how far the share can rise unchanged.
        slopes = self.group_weight.copy()
        error = MONEY_ERROR * self.voters * float(share)
        # Heap entries carry a version so a project can be re-queued without searching the heap.
        heap = list(self.first_heap)
        version = [0] * len(self.costs)
        floors = dict(self.first_floor)
        bought = Count(share)
        exact_at: tuple[int, list[Fraction]] | None = None

        def requeue(x: Price) -> None:
            version[x.project] += 1
            floors[x.project] = x.value - x.error
            heapq.heappush(heap, (x.value - x.error, self.rank[x.project], x.project, version[x.project]))

        while heap:
            if follow is not None:
                if not self._follow_round(follow, heap, version, budgets, slopes, error, bought):
                    return None
                continue
            # Price projects in order of their floors until no floor could beat the best price;
            # a project is only priced far enough to show it cannot beat the best so far.
            bound = math.inf
            priced: list[Price] = []
            beaten: list[Price] = []
            if hint is not None:
                round_ = len(bought.order)
                if round_ < len(hint.order) and hint.order[:round_] == bought.order:
                    p = hint.order[round_]
                    if version[p] >= 0:
                        version[p] += 1
                        price = self._price(p, budgets, slopes, floors[p], error, bought)
                        if price is None:
                            version[p] = -1
                        else:
                            priced.append(price)
                            bound = price.value + price.error
                else:
                    hint = None
            while heap and heap[0][0] <= bound:
                floor, _, p, v = heapq.heappop(heap)
                if v != version[p]:
                    continue
                price = self._price(p, budgets, slopes, floor, error, bought, bound)
                if price is None:
                    version[p] = -1
                    continue
                if price.floor_only:
                    beaten.append(price)
                    continue
                priced.append(price)
                bound = min(bound, price.value + price.error)
            if not priced:
                break
            close = [x for x in priced if x.value - x.error <= bound]
            dropped: set[int] = set()
            exact_budgets: list[Fraction] | None = None
            if len(close) == 1 and not close[0].unsure:
                winner = close[0]
            elif all(x.exact is not None and not x.unsure for x in close):
                winner = min(close, key=lambda x: (x.exact, self.rank[x.project]))
            elif self.twins(x.project for x in close) and not any(x.unsure for x in close):
                winner = min(close, key=lambda x: self.rank[x.project])
            else:
                exact_at, dropped, decided = self._decide_exactly(share, exact_at, bought, close)
                for p in dropped:
                    version[p] = -1
                if decided is None:
                    for x in priced + beaten:
                        if x.project not in dropped:
                            requeue(x)
                    continue
                slope = next(x.slope for x in close if x.project == decided.project)
                winner = decided._replace(slope=slope)
                exact_budgets = exact_at[1]
            version[winner.project] = -1
            for x in priced + beaten:
                if x.project != winner.project and x.project not in dropped:
                    requeue(x)
                    _overtakes(bought, winner, x)
            self._pay(winner, budgets, slopes)
            if exact_budgets is not None:
                budgets[:] = np.array([float(b) for b in exact_budgets]) * self.group_weight
            bought.order.append(winner.project)
            bought.prices.append(winner)
        return bought

    def _price(
        self,
        p: int,
        budgets: np.ndarray,
        slopes: np.ndarray,
        floor: float,
        error: float,
        bought: Count,
        stop_above: float = math.inf,
    ) -> Price | None:
        """Project p's rho given everyone's money left, or None if its backers surely cannot pay.

        Stops early, with a `floor_only` price, once rho is surely above `stop_above`."""
        cost, index, weighted_sat, total, ones = self.arrays[p]
        money = budgets[index]
        available = money.dot(ones)
        if available < cost - error:
            rising = slopes[index].dot(ones)
            if rising > 0 and (cost - available) / rising < bought.horizon:
                bought.horizon = (cost - available) / rising
            return None
        unsure = bool(available <= cost + error)
        price = floor if floor > 0.0 else 0.0
        paying = total
        # Re-pricing a lower bound on rho with the backers it already leaves short rises to rho,
        # usually in two or three steps, without sorting the backers. A group is short when its
        # money is below rho times its weighted satisfaction.
        capped_count = -1
        short = None
        for _ in range(MAX_REFINEMENTS):
            capped = money < price * weighted_sat
            now = np.count_nonzero(capped)
            if now == capped_count:
                break
            capped_count = now
            if now:
                short = capped.astype(np.float64)
                paying = total - weighted_sat.dot(short)
                if paying <= total * PRICE_ERROR:
                    return Price(float(np.max(money / weighted_sat)), math.inf, True, None, p)
                new_price = (cost - money.dot(short)) / paying
            else:
                short, paying, new_price = None, total, cost / total
            if new_price < price:
                # Only float noise makes the bound fall; sorting is always right.
                return self._price_by_sorting(p, money, slopes[index], error, unsure)
            price = new_price
            price_error = 4 * error / paying + price * PRICE_ERROR
            if price - price_error > stop_above:
                slope = slopes[index].dot(short) / paying if now else 0.0
                return Price(price - price_error, 0.0, unsure, None, p, slope, True)
        else:
            return self._price_by_sorting(p, money, slopes[index], error, unsure)
        if capped_count == 0:
            if not unsure:
                margin = 2 * error + price * self.max_sat[p] * PRICE_ERROR
                if float(np.min(money - price * weighted_sat - margin * self.weight[p])) > 0:
                    exact = self.first_exact[p]
                    return Price(self.first_price[p], self.first_price[p] * PRICE_ERROR, False, exact, p)
            slope = 0.0
        else:
            slope = slopes[index].dot(short) / paying
        return Price(price, 4 * error / paying + price * PRICE_ERROR, unsure, None, p, slope)

    def _price_by_sorting(
        self,
        p: int,
        money: np.ndarray,
        rising: np.ndarray,
        error: float,
        unsure: bool,
    ) -> Price:
        weighted_sat = self.weighted_sat[p]
        ratio = money / weighted_sat
        order = np.argsort(ratio, kind="stable")
        capped_money = np.concatenate(([0.0], np.cumsum(money[order])))
        capped_rising = np.concatenate(([0.0], np.cumsum(rising[order])))
        paying = self.total_sat[p] - np.concatenate(([0.0], np.cumsum(weighted_sat[order])))
        for k in range(len(order)):
            if paying[k] <= 0:
                break
            price = (self.cost[p] - capped_money[k]) / paying[k]
            if price <= ratio[order[k]]:
                error_bound = 4 * error / paying[k] + price * PRICE_ERROR
                return Price(float(price), error_bound, unsure, None, p, float(capped_rising[k] / paying[k]))
        return Price(float(ratio.max()), math.inf, True, None, p)

    def _pay(self, price: Price, budgets: np.ndarray, slopes: np.ndarray) -> None:
        index = self.index[price.project]
        weighted_sat = self.weighted_sat[price.project]
        left = budgets[index] - price.value * weighted_sat
        paid_up = left <= 0
        budgets[index] = np.maximum(left, 0.0)
        # A backer who still has money keeps the rise in their share, plus what a falling price saves.
        slopes[index] = np.where(paid_up, 0.0, slopes[index] + price.slope * weighted_sat)

    # -- exact fallback ----------------------------------------------------------------------

    def _decide_exactly(
        self,
        share: Fraction,
        exact_at: tuple[int, list[Fraction]] | None,
        bought: Count,
        close: list[Price],
    ) -> tuple[tuple[int, list[Fraction]], set[int], Price | None]:
        """Replay the count exactly up to this round and choose among the close projects.

        Returns the exact budgets and the round they belong to (after this round's purchase, if
        any), the close projects found unaffordable, and the winner priced exactly, or None
        when none of them is affordable.
        """
        done, budgets = exact_at if exact_at is not None else (0, [share] * self.groups)
        budgets = list(budgets)
        for t in range(done, len(bought.order)):
            p, price = bought.order[t], bought.prices[t]
            rho = price.exact
            if rho is None:
                rho = self._exact_price(p, budgets, price.value - price.error)
            if rho is None:
                raise ArithmeticError("a project bought in floats was unaffordable: float error beyond its bound")
            self._exact_pay(p, rho, budgets)
        dropped: set[int] = set()
        best: tuple[Fraction, int, int] | None = None
        for x in close:
            rho = x.exact if x.exact is not None else self._exact_price(x.project, budgets, x.value - x.error)
            if rho is None:
                dropped.add(x.project)
            elif best is None or (rho, self.rank[x.project]) < best[:2]:
                best = (rho, self.rank[x.project], x.project)
        if best is None:
            return (len(bought.order), budgets), dropped, None
        rho, _, p = best
        self._exact_pay(p, rho, budgets)
        value = float(rho)
        return (len(bought.order) + 1, budgets), dropped, Price(value, value * PRICE_ERROR, False, rho, p)

    def _exact_price(self, p: int, budgets: list[Fraction], hint: float) -> Fraction | None:
        backers = self.backers(p)
        cost = self.costs[p]
        if sum(w * budgets[g] for g, _, w in backers) < cost:
            return None
        price = _dyadic_below(hint)
        capped_count = -1
        while True:
            capped_money = 0
            paying = 0
            now = 0
            for g, s, w in backers:
                b = budgets[g]
                if b < price * s:
                    capped_money += w * b
                    now += 1
                else:
                    paying += w * s
            if now == capped_count:
                return price
            capped_count = now
            new_price = Fraction(cost - capped_money) / paying
            if new_price < price:
                # The float hint was above rho after all: start again from nothing.
                price, capped_count = Fraction(0), -1
                continue
            price = new_price

    def _exact_pay(self, p: int, price: Fraction, budgets: list[Fraction]) -> None:
        for g, s, _ in self.backers(p):
            budgets[g] -= min(budgets[g], price * s)

    def certify(self, low: Count, share: Fraction) -> Count | None:
        """The count at `share`, if it proves every share from `low.share` to `share` buys the same.

        Along one sequence of purchases, more money per voter never raises a price and never
        lowers anyone's money left (each backer keeps max(0, b - rho * s)). So if the count at
        `share` follows `low`'s order, and in each round every other affordable project there
        costs more than the winner did at `low.share` (or as much, and loses the tie-break), then
        at every share in between the winner is as cheap or cheaper and its rivals as dear or
        dearer, and the same projects are bought in the same order.
        """
        return self.count(share, follow=low)

    def _follow_round(
        self,
        low: Count,
        heap: list[tuple[float, int, int, int]],
        version: list[int],
        budgets: np.ndarray,
        slopes: np.ndarray,
        error: float,
        bought: Count,
    ) -> bool:
        round_ = len(bought.order)
        if round_ == len(low.order):
            # The lower count stopped here: nothing may be affordable at the higher share either.
            while heap:
                floor, _, p, v = heapq.heappop(heap)
                if v == version[p] and self._price(p, budgets, slopes, floor, error, bought) is not None:
                    return False
            return True
        winner = low.order[round_]
        at_low = low.prices[round_]
        ceiling = at_low.value + at_low.error
        rivals: list[Price] = []
        found: Price | None = None
        while heap and heap[0][0] <= ceiling:
            floor, rank, p, v = heapq.heappop(heap)
            if v != version[p]:
                continue
            price = self._price(p, budgets, slopes, floor, error, bought, math.inf if p == winner else ceiling)
            if p == winner:
                if price is None or price.unsure:
                    return False
                found = price
                continue
            if price is None:
                version[p] = -1
                continue
            if not price.floor_only and price.value - price.error <= ceiling and not self._dearer(price, at_low):
                return False
            rivals.append(price)
        if found is None:
            return False
        version[winner] = -1
        for x in rivals:
            version[x.project] += 1
            heapq.heappush(heap, (x.value - x.error, self.rank[x.project], x.project, version[x.project]))
            _overtakes(bought, found, x)
        self._pay(found, budgets, slopes)
        bought.order.append(winner)
        bought.prices.append(found)
        return True

    def twins(self, projects: Iterable[int]) -> bool:
        """Whether these projects are all twins of one another (see `twin`)."""
        return len({self.twin[p] for p in projects}) == 1

    def _dearer(self, rival: Price, winner: Price) -> bool:
        """Whether the rival surely loses to the winner, judged on exact prices."""
        if self.twins((rival.project, winner.project)):
            # Twins cost the same at every share, so only the tie-break matters.
            return self.rank[rival.project] > self.rank[winner.project]
        if rival.exact is None or winner.exact is None or rival.unsure:
            return False
        if rival.exact != winner.exact:
            return rival.exact > winner.exact
        return self.rank[rival.project] > self.rank[winner.project]


def _overtakes(bought: Count, winner: Price, rival: Price) -> None:
    """Bring the count's horizon down to where the rival's falling price would reach the winner's
    price here, which is where `certify` could no longer vouch for the steps in between."""
    if rival.slope > 0:
        gap = max(rival.value - rival.error - winner.value - winner.error, 0.0)
        bought.horizon = min(bought.horizon, gap / rival.slope)


def _dyadic_below(x: float) -> Fraction:
    """A short fraction at or below x (and not below 0), to start an exact pricing from."""
    if not x > 0 or math.isinf(x):
        return Fraction(0)
    x *= 1 - 1e-9
    exponent = math.frexp(x)[1]
    scale = 2 ** max(40 - exponent, 0)
    return Fraction(math.floor(x * scale), scale)
