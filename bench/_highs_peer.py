"""HiGHS on Sprachpool's matching model: LP relaxation and a MIP per day.

The same pair model as the engine (matching.optimize), written as a 0-1
program: one column per feasible pair, at most one mediator per request,
per mediator one job per clique of overlapping jobs, at most one of two
in-person jobs with too little time to travel between them, and the
minutes cap as a knapsack row. Objective: filled priority only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from matching.bounds import LpRows
from matching.candidates import FloatArray, IntArray, Jobs, Pairs
from matching.highs import highspy  # safe in the bench's forked children
from matching.optimize import _travel_pairs, maximal_cliques
from matching.rank import Pool

PRESOLVE_MAX_ROWS = 500_000
"""A MIP of more rows runs without HiGHS's presolve. On a region day (199,043 columns, 1.4
million rows, almost all of them travel pairs) presolve ran far past the time limit: with
30 s allowed, the run took 133 s and returned the start it was given (5,059) with no
bound; without presolve it took 52 s (the rest is building and reading the model) and
found 5,363. Town and city days are far smaller, and with presolve they end optimal."""


@dataclass
class HighsResult:
    chosen: IntArray
    """Pair indices (into the Pairs given) set to 1."""
    objective: float
    bound: float
    status: str
    seconds: float
    presolved: bool = True
    """Whether HiGHS's presolve ran (see PRESOLVE_MAX_ROWS)."""


def _rows(
    pool: Pool, jobs: Jobs, pairs: Pairs, local: IntArray, caps: bool, travel: bool = True
) -> tuple[list[list[int]], list[list[float]], list[float]]:
    """Rows (columns, coefficients, upper bound) over the local pairs, all `<=`.

    Without `travel`, the rows "at most one of two in-person jobs with too
    little time to travel between them" are left out: a relaxation, so its
    LP optimum is still a bound, and a much smaller LP (a region day has
    1.2 million of those rows against 0.2 million of every other kind).
    """
    request = pairs.request[local]
    mediator = pairs.mediator[local]
    columns: list[list[int]] = []
    coefficients: list[list[float]] = []
    upper: list[float] = []
    order = np.argsort(request, kind="stable")
    cuts = np.flatnonzero(np.diff(request[order])) + 1
    for group in np.split(order, cuts):
        if len(group) > 1:
            columns.append(group.tolist())
            coefficients.append([1.0] * len(group))
            upper.append(1.0)
    order = np.lexsort((jobs.start[request], mediator))
    cuts = np.flatnonzero(np.diff(mediator[order])) + 1
    for group in np.split(order, cuts):
        if len(group) == 0:
            continue
        m = int(mediator[group[0]])
        job = request[group]
        start, end = jobs.start[job], jobs.end[job]
        if len(group) > 1:
            for clique in maximal_cliques(start, end):
                columns.append(group[clique].tolist())
                coefficients.append([1.0] * len(clique))
                upper.append(1.0)
        if len(group) > 1 and travel:
            reach = 2.0 * float(np.max(pairs.distance_km[local[group]]))
            if np.isnan(pool.home_lat[m]):
                reach = 20_040.0
            first, second = _travel_pairs(
                start, end, jobs.lat[job], jobs.lon[job], float(pool.speed_kmh[m]), reach
            )
            for a, b in zip(group[first].tolist(), group[second].tolist(), strict=True):
                columns.append([a, b])
                coefficients.append([1.0, 1.0])
                upper.append(1.0)
        left = float(pool.minutes_left[m])
        seconds = jobs.seconds[job]
        if caps and math.isfinite(left) and int(seconds.sum()) > left * 60.0 + 1e-6:
            columns.append(group.tolist())
            coefficients.append([float(s) for s in seconds])
            upper.append(math.floor(left * 60.0 + 1e-6))
    return columns, coefficients, upper


def solve(
    pool: Pool,
    jobs: Jobs,
    pairs: Pairs,
    local: IntArray,
    *,
    integer: bool,
    time_limit_s: float,
    threads: int = 1,
    caps: bool = True,
    start: IntArray | None = None,
    lp_solver: str = "ipm",
    travel: bool = True,
) -> HighsResult:
    """Maximise filled priority over the local pairs (LP relaxation unless `integer`).

    `start`: positions in `local` of a feasible plan, given to HiGHS as its
    first incumbent (without one, on the loaded machine, some days ended
    with no plan at all). `lp_solver`: HiGHS's `solver` for the relaxation
    ("ipm", or "simplex", which solved the congested city's week in 224 s
    where the interior point method had not finished in 120 s). `travel`:
    False leaves out the travel-time rows (see `_rows`), for a bound only.
    """
    started = time.perf_counter()
    columns, coefficients, upper = _rows(pool, jobs, pairs, local, caps, travel)
    lp = highspy.HighsLp()
    count = len(local)
    lp.num_col_ = count
    lp.num_row_ = len(upper)
    lp.col_cost_ = jobs.priority[pairs.request[local]].astype(np.float64)
    lp.col_lower_ = np.zeros(count)
    lp.col_upper_ = np.ones(count)
    lp.row_lower_ = np.full(len(upper), -highspy.kHighsInf)
    lp.row_upper_ = np.array(upper, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize
    matrix = highspy.HighsSparseMatrix()
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_ = count
    matrix.num_row_ = len(upper)
    lengths = np.array([len(c) for c in columns], dtype=np.int64)
    matrix.start_ = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    matrix.index_ = np.array([i for c in columns for i in c], dtype=np.int32)
    matrix.value_ = np.array([v for c in coefficients for v in c], dtype=np.float64)
    lp.a_matrix_ = matrix
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * count
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(0.1, time_limit_s))
    highs.setOptionValue("threads", threads)
    highs.setOptionValue("random_seed", 0)
    if not integer:
        highs.setOptionValue("solver", lp_solver)
    presolved = not integer or len(upper) <= PRESOLVE_MAX_ROWS
    if not presolved:
        highs.setOptionValue("presolve", "off")
    highs.passModel(lp)
    if start is not None and integer:
        solution = highspy.HighsSolution()
        values = np.zeros(count)
        values[start] = 1.0
        solution.col_value = values.tolist()
        highs.setSolution(solution)
    highs.run()
    info = highs.getInfo()
    status = highs.modelStatusToString(highs.getModelStatus())
    values = np.array(highs.getSolution().col_value, dtype=np.float64)
    if integer:
        chosen = np.flatnonzero(values > 0.5) if len(values) == count else np.zeros(0, np.int64)
        objective = float(jobs.priority[pairs.request[local[chosen]]].sum())
        bound = float(info.mip_dual_bound)
    else:
        chosen = np.zeros(0, dtype=np.int64)
        objective = float(info.objective_function_value)
        bound = objective if status == "Optimal" else math.inf
    return HighsResult(
        local[chosen].astype(np.int64),
        objective,
        bound,
        status,
        time.perf_counter() - started,
        presolved,
    )


def interior_duals(
    lp: LpRows, *, time_limit_s: float, threads: int = 1
) -> tuple[list[FloatArray], str]:
    """Row duals of `lp` (matching.bounds.LpRows) by HiGHS's interior point method without
    crossover, and its status.

    Cut by its time limit it still returns its last iterate's duals, which
    `matching.bounds.dual_bound` turns into a bound (any duals >= 0 give one). Both sign
    conventions are returned: HiGHS's row duals of a maximisation are negative at an
    optimum here but came out positive from a run cut by its limit; the lower bound of the
    two is the one to keep, and both are valid.
    """
    columns, rows = len(lp.profit), len(lp.upper)
    model = highspy.HighsLp()
    model.num_col_ = columns
    model.num_row_ = rows
    model.col_cost_ = lp.profit
    model.col_lower_ = np.zeros(columns)
    model.col_upper_ = np.ones(columns)
    model.row_lower_ = np.full(rows, -highspy.kHighsInf)
    model.row_upper_ = lp.upper
    model.sense_ = highspy.ObjSense.kMaximize
    matrix = highspy.HighsSparseMatrix()
    matrix.format_ = highspy.MatrixFormat.kRowwise
    matrix.num_col_ = columns
    matrix.num_row_ = rows
    matrix.start_ = np.r_[0, np.cumsum(np.bincount(lp.row, minlength=rows))].astype(np.int32)
    matrix.index_ = lp.column.astype(np.int32)
    matrix.value_ = lp.value
    model.a_matrix_ = matrix
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(0.1, time_limit_s))
    highs.setOptionValue("threads", threads)
    highs.setOptionValue("random_seed", 0)
    highs.setOptionValue("solver", "ipm")
    highs.setOptionValue("run_crossover", "off")
    highs.passModel(model)
    highs.run()
    status = highs.modelStatusToString(highs.getModelStatus())
    dual = np.array(highs.getSolution().row_dual, dtype=np.float64)
    if len(dual) != rows:
        return [], status
    return [dual, -dual], status
