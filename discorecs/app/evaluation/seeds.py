"""The evaluation's seeds, each in its own process when there are cores for them.

Seeds are independent (a world, a split, every ranker fitted and scored), so ``jobs`` of them
run at once in fresh (spawned, not forked: LightGBM's OpenMP pool does not survive a fork)
processes; each process gets ``cores // jobs`` BLAS and model threads
(at least one).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import click
from threadpoolctl import threadpool_limits

from discorecs.app.evaluation.interactions import Interactions
from discorecs.app.evaluation.roster import ServedHybrid, roster
from discorecs.app.evaluation.runner import Evaluation, evaluate_once
from discorecs.app.evaluation.world import WorldSpec, build_world
from discorecs.core.settings import ScoringSettings, available_cores
from spark_jobs.scoring.huge_pages import use_huge_pages


@dataclass(frozen=True)
class SeedRun:
    """One seed's evaluation.

    Attributes:
        seed: The seed (world, rankers, model).
        spec: The synthetic world's sizes (unused with ``fixed``).
        fixed: Interactions to use instead of a synthetic world.
        tuning: The scoring settings.
        tune: Choose the hybrid's calibration on a validation split.
        threads: BLAS and model threads of this run.

    """

    seed: int
    spec: WorldSpec
    fixed: Interactions | None
    tuning: ScoringSettings
    tune: bool
    threads: int


@dataclass(frozen=True)
class SeedResult:
    """A seed's metrics, and the calibration the hybrid used (tuned or the settings')."""

    evaluation: Evaluation
    calibration: float


def run_seed(run: SeedRun) -> SeedResult:
    """Build (or take) the data, fit and score every ranker, echoing progress per seed."""

    def echo(line: str) -> None:
        click.echo(f"[seed {run.seed + 1}] {line}", err=True)

    use_huge_pages(run.tuning.numpy_huge_pages)
    synthetic = build_world(run.spec, run.seed) if run.fixed is None else None
    data = synthetic.interactions if synthetic is not None else run.fixed
    if data is None:
        raise ValueError("a seed needs a world spec or interactions")
    # One HNSW build thread: a threaded build links the graph in a racy order, so the
    # neighbours (and every figure built on them) would change from run to run.
    tuning = run.tuning.model_copy(update={"hybrid_threads": run.threads, "ann_threads": 1})
    rankers = roster(run.seed, tuning, tune=run.tune)
    with threadpool_limits(run.threads):
        evaluation = evaluate_once(data, rankers, world=synthetic, echo=echo)
    served = next(r for r in rankers if isinstance(r, ServedHybrid))
    return SeedResult(evaluation, served.calibration)


def default_jobs(seeds: int) -> int:
    """As many processes as seeds, at most two a core.

    No seed waits for another, so a few more processes than cores keep every core busy to
    the end.
    """
    return max(1, min(seeds, 2 * available_cores()))


def run_seeds(runs: Sequence[SeedRun], jobs: int) -> list[SeedResult]:
    """Every seed's result, in seed order, ``jobs`` at a time."""
    if jobs <= 1 or len(runs) <= 1:
        return [run_seed(run) for run in runs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        return list(pool.map(run_seed, runs))
