"""Add1 completion: every voter's share raised by one unit at a time, as pabutools does it, fast.

pabutools' `voter_budget_increment=1` counts again after each raise until the outcome is
exhaustive, or until the next outcome would overspend the real budget, in which case it keeps the
last one within it. That can take thousands of counts. Here, where the order of purchases is
expected to hold, one count at a higher share certifies every step in between (see
`EqualShares.certify`); where it keeps changing, the next steps are counted side by side, one numpy
call serving them all.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from civic.counting.election import Number
from civic.counting.mes import MAX_REFINEMENTS, MONEY_ERROR, PRICE_ERROR, Count, EqualShares

# The furthest Add1 tries to jump at once when no price is expected to overtake another.
MAX_JUMP = 1 << 20
# After this many steps in a row that could not be skipped, counting side by side takes over for a
# while. It is cheaper per step than counting one at a time only for large batches, so batches
# start large and grow, up to a limit that keeps the overshoot past the last step small.
TURBULENT = 4
FIRST_BATCH = 32
MAX_BATCH = 64
# Batching pays only between these numbers of (ballot group, project) pairs: below, a count is
# quick anyway; above, the arithmetic outweighs the overhead that batching shares out.
MIN_PAIRS_TO_BATCH = 2_000
MAX_PAIRS_TO_BATCH = 50_000


def add1(counter: EqualShares, budget: Number, increment: Number = 1) -> Count:
    """pabutools' `voter_budget_increment`: raise shares by `increment` until the outcome is
    exhaustive or the next one overspends, skipping runs of steps that provably change nothing.

    Where the order is expected to hold for a while, `EqualShares.certify` vouches for a jump;
    where it keeps changing, the next steps are counted side by side by `count_together`."""
    base = Fraction(budget, counter.voters)
    step = Fraction(increment)
    if step <= 0:
        raise ValueError("the Add1 increment must be more than 0")
    current = counter.count(base)
    assert current is not None
    previous = current
    k = 0
    ahead: list[Count | None] = []
    turbulent = 0  # steps in a row whose order was not expected to hold for two steps
    batch = FIRST_BATCH
    while True:
        spent = sum(counter.costs[p] for p in current.order)
        if spent > budget:
            return previous
        chosen = set(current.order)
        if all(counter.costs[p] + spent > budget for p in counter.projects if p not in chosen):
            return current
        previous = current
        if ahead:
            k += 1
            counted = ahead.pop(0)
            current = counted if counted is not None else counter.count(base + k * step, hint=current)
            continue
        # The last whole step before the order is expected to change (the horizon is in money).
        steps_ahead = current.horizon / step
        jump = math.ceil(steps_ahead) - 1 if steps_ahead < MAX_JUMP else MAX_JUMP
        while jump >= 1:
            jumped = counter.certify(current, base + (k + jump) * step)
            if jumped is not None:
                k += jump
                current = jumped
                turbulent = 0 if jump > 1 else turbulent + 1
                break
            jump //= 2
        else:
            turbulent += 1
            if turbulent < TURBULENT or not MIN_PAIRS_TO_BATCH <= counter.pairs <= MAX_PAIRS_TO_BATCH:
                k += 1
                current = counter.count(base + k * step, hint=current)
                assert current is not None
            else:
                # The order keeps changing: count the next steps side by side, then one alone
                # for a fresh guess at the horizon.
                shares = [base + (k + i) * step for i in range(1, batch + 1)]
                ahead = [*count_together(counter, shares), None]
                batch = min(2 * batch, MAX_BATCH)
                turbulent = 0


def count_together(counter: EqualShares, shares: list[Fraction]) -> list[Count | None]:
    """Counts at several shares side by side, one numpy call serving all of them.

    A count whose outcome hangs on a comparison too close for floats comes back as None, to be
    counted on its own with the exact fallback. Only the order of purchases is kept: no prices,
    and a horizon of 0, so nothing is certified from these counts."""
    size = len(shares)
    share = np.array([float(x) for x in shares])
    error = MONEY_ERROR * counter.voters * share
    money = share[:, None] * counter.group_weight[None, :]
    # Tables of project x count, so that one project's row across all counts is contiguous.
    alive = np.zeros((len(counter.costs), size), dtype=bool)
    alive[counter.projects] = True
    floors = np.repeat(counter.first_floors[:, None], size, axis=1)
    counting = np.ones(size, dtype=bool)
    counts: list[Count | None] = [Count(x, horizon=0.0) for x in shares]
    everyone = np.arange(size)
    while counting.any():
        bound = np.where(counting, np.inf, -np.inf)
        value = np.full(alive.shape, np.inf)
        error_of = np.zeros(alive.shape)
        unsure = np.zeros(alive.shape, dtype=bool)
        known = np.zeros(alive.shape, dtype=bool)
        # Visit projects in order of their lowest floor in any count; each count prices a
        # project only while that project's floor there could still beat its best price.
        lowest = np.where(alive & counting, floors, np.inf).min(axis=1)
        highest_bound = np.inf
        tables = (money, floors, bound, error, alive, value, error_of, unsure, known)
        for p in np.argsort(lowest, kind="stable").tolist():
            if lowest[p] > highest_bound:
                break
            rows = np.flatnonzero(alive[p] & (floors[p] <= bound))
            if len(rows):
                _price_together(counter, p, rows, *tables)
                highest_bound = bound.max()
        counting &= np.isfinite(value).any(axis=0)
        if not counting.any():
            break
        best = np.argmin(value, axis=0)
        close = (value - error_of <= bound).sum(axis=0)
        clear = counting & (close == 1) & ~unsure[best, everyone]
        winners = np.where(clear, best, -1)
        for j in np.flatnonzero(counting & ~clear):
            tied = np.flatnonzero(value[:, j] - error_of[:, j] <= bound[j])
            if unsure[tied, j].any():
                winners[j] = -1
            elif known[tied, j].all():
                winners[j] = min(tied, key=lambda q: (counter.first_exact[q], counter.rank[q]))
            elif counter.twins(tied):
                winners[j] = min(tied, key=lambda q: counter.rank[q])
            if winners[j] < 0:
                counting[j] = False
                counts[j] = None
        for w in np.unique(winners[counting]):
            rows = np.flatnonzero(counting & (winners == w))
            _, index, weighted_sat, _, _ = counter.arrays[w]
            block = (rows[:, None], index)
            money[block] = np.maximum(money[block] - value[w, rows][:, None] * weighted_sat, 0.0)
            alive[w, rows] = False
            for j in rows.tolist():
                counts[j].order.append(int(w))
    return counts


def _price_together(
    counter: EqualShares,
    p: int,
    rows: np.ndarray,
    money_all: np.ndarray,
    floors: np.ndarray,
    bound: np.ndarray,
    error_all: np.ndarray,
    alive: np.ndarray,
    value: np.ndarray,
    error_of: np.ndarray,
    unsure_of: np.ndarray,
    known: np.ndarray,
) -> None:
    """`EqualShares._price` for project p in several counts (rows) at once, into the round's tables."""
    cost, index, weighted_sat, total, ones = counter.arrays[p]
    money = money_all[rows[:, None], index]
    available = money @ ones
    error = error_all[rows]
    keep = available >= cost - error
    if not keep.all():
        alive[p, rows[~keep]] = False
        rows, money, available, error = rows[keep], money[keep], available[keep], error[keep]
        if not len(rows):
            return
    stop = bound[rows]
    price = np.maximum(floors[p, rows], 0.0)
    paying = np.full(len(rows), total)
    capped_count = np.full(len(rows), -1)
    stuck = False
    for _ in range(MAX_REFINEMENTS):
        capped = money < price[:, None] * weighted_sat
        now = np.count_nonzero(capped, axis=1)
        moving = now != capped_count
        if not moving.any():
            break
        capped_count = now
        short = capped.astype(np.float64)
        paying = total - short @ weighted_sat
        if (paying <= total * PRICE_ERROR).any():
            stuck = True
            break
        # Rising from a lower bound; a fall could only be float noise, so keep the higher.
        price = np.maximum(price, (cost - np.einsum("ij,ij->i", money, short)) / paying)
        price_error = 4 * error / paying + price * PRICE_ERROR
        if (~moving | (price - price_error > stop)).all():
            break
    else:
        stuck = True
    if stuck:
        # Everyone short, or no settling: leave these counts to the exact fallback. An unsure
        # price close to everything says so, and a bound of -inf stops further pricing.
        value[p, rows] = price
        error_of[p, rows] = np.inf
        unsure_of[p, rows] = True
        bound[rows] = -np.inf
        return
    price_error = 4 * error / paying + price * PRICE_ERROR
    beaten = price - price_error > stop
    if beaten.any():
        floors[p, rows[beaten]] = (price - price_error)[beaten]
        done = ~beaten
        rows, money, available, error = rows[done], money[done], available[done], error[done]
        price, price_error, capped_count = price[done], price_error[done], capped_count[done]
        if not len(rows):
            return
    unsure = available <= cost + error
    exact = (capped_count == 0) & ~unsure
    if exact.any():
        margin = 2 * error + price * counter.max_sat[p] * PRICE_ERROR
        slack = money - price[:, None] * weighted_sat - margin[:, None] * counter.weight[p]
        exact &= slack.min(axis=1) > 0
        price = np.where(exact, counter.first_price[p], price)
        price_error = np.where(exact, counter.first_price[p] * PRICE_ERROR, price_error)
        known[p, rows] = exact
    value[p, rows] = price
    error_of[p, rows] = price_error
    unsure_of[p, rows] = unsure
    floors[p, rows] = price - price_error
    bound[rows] = np.minimum(bound[rows], price + price_error)
