"""POST -> visible: how soon an add sent through the API shows in a fresh recommendation list.

One run on the local cluster, in its own keyspace and topics (dropped at the end):

1. world: the shipped Discogs sample (``discorecs.app.loadtest.prepare``), ``discorecs produce
   --users U --events E``, then ``discorecs hourly`` (stream catch-up + scoring), so users have
   tastes in ``users_scored`` for the ANN look-alikes;
2. ``discorecs stream`` (``StreamProcess``) and ``discorecs serve`` on a free port, as children;
3. ``--warm-up`` adds waited for and not counted (a fresh stream's first batches warm Spark up);
4. for ``--adds`` distinct users: ``GET /users/{id}/recommendations?fresh=true``, pick the first
   listed release whose genres move the user's taste, ``POST /users/{id}/events`` ``add``, then
   poll the fresh list every ``--poll-ms`` until the release is gone and the taste changed;
5. print p50/p99 of POST -> visible (and of the POST itself, acknowledged by Kafka), beside the
   stream's own figures from the same run: event time -> written per micro-batch (its batch
   log) and the batch durations, over the batches written while measuring.

Usage: ``.venv/bin/python benchmarks/bench_freshness.py --adds 50``
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from discorecs.app.loadtest import StreamProcess, cleanup, prepare, run_settings
from discorecs.core.genres import GENRE_INDEX, GENRES
from discorecs.core.settings import Settings, load_settings
from spark_jobs.stream.progress import read_metrics

DISCORECS = str(Path(sys.executable).parent / "discorecs")


@dataclass(frozen=True)
class Sample:
    """One measured add."""

    user_id: int
    release_id: int
    post_s: float
    visible_s: float
    polls: int


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (``q`` in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(np.ceil(q * len(ordered))) - 1))]


def run_cli(settings: Settings, *args: str, timeout: float = 1800) -> str:
    """Run ``discorecs`` with these settings; fail loudly with its stderr."""
    done = subprocess.run(
        [DISCORECS, *args],
        env=settings.child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"discorecs {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as handle:
        server = subprocess.Popen(
            [DISCORECS, "serve", "--port", str(port)],
            env=settings.child_env(),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=handle,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"discorecs serve exited; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"discorecs serve did not come up; see {log}")


def taste_moves(taste: dict[str, float], genres: Sequence[str]) -> bool:
    """Whether adding a release of these genres changes a unit taste (it does unless parallel)."""
    known = [GENRE_INDEX[g] for g in genres if g in GENRE_INDEX]
    if not known:
        return False
    weights = np.zeros(len(GENRES))
    weights[known] = 1.0
    current = np.array([taste[g] for g in GENRES])
    return not np.allclose(weights / np.linalg.norm(weights), current, atol=1e-6)


def fresh(client: httpx.Client, user_id: int) -> dict[str, Any]:
    answer = client.get(f"/users/{user_id}/recommendations", params={"fresh": "true", "n": 10})
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def pick(recs: dict[str, Any]) -> int | None:
    """The first listed release whose add moves the user's taste."""
    if recs["taste"] is None:
        return None
    for item in recs["items"]:
        release = item["release"]
        if release is not None and taste_moves(recs["taste"], release["genres"]):
            return int(item["release_id"])
    return None


def measure_add(
    client: httpx.Client,
    user_id: int,
    release_id: int,
    before: dict[str, Any],
    poll_s: float,
    timeout_s: float,
) -> Sample:
    """POST one add, then poll the fresh list until the release left it and the taste moved."""
    started = time.perf_counter()
    posted = client.post(f"/users/{user_id}/events", json={"kind": "add", "release_id": release_id})
    post_s = time.perf_counter() - started
    posted.raise_for_status()
    polls = 0
    while time.perf_counter() - started < timeout_s:
        polls += 1
        now = fresh(client, user_id)
        gone = release_id not in [item["release_id"] for item in now["items"]]
        if gone and now["taste"] != before["taste"]:
            return Sample(user_id, release_id, post_s, time.perf_counter() - started, polls)
        time.sleep(poll_s)
    raise SystemExit(f"user {user_id}: add of {release_id} not visible after {timeout_s:.0f} s")


def candidates(client: httpx.Client, user_ids: Sequence[int]) -> list[tuple[int, int, dict]]:
    """(user, release to add, fresh list before) for users with a taste and a movable pick."""
    chosen = []
    for user_id in user_ids:
        try:
            recs = fresh(client, user_id)
        except httpx.HTTPStatusError:
            continue
        release = pick(recs)
        if release is not None:
            chosen.append((user_id, release, recs))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=50)
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--poll-ms", type=float, default=100)
    args = parser.parse_args()
    base = load_settings()
    run = run_settings(base, f"fresh_{uuid.uuid4().hex[:8]}")
    workdir = base.cluster_path / "bench" / run.keyspace
    workdir.mkdir(parents=True, exist_ok=True)
    stream = StreamProcess(run, workdir / "stream.log")
    server: subprocess.Popen[bytes] | None = None
    try:
        prepare(run)  # inside: a failed sample load still has its keyspace and topics removed
        t0 = time.perf_counter()
        run_cli(
            run,
            "produce",
            "--users",
            str(args.users),
            "--events",
            str(args.events),
            "--rate",
            "0",
            "--seed",
            "11",
        )
        run_cli(run, "hourly")
        print(
            f"world: {args.users} users, {args.events} events, scored in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        stream.start()
        stream.wait_started()
        port = free_port()
        server = start_server(run, port, workdir / "serve.log")
        timeout_s = run.api.freshness_timeout_s
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            users = list(range(1, args.users + 1))
            pool = candidates(client, users[: 3 * (args.adds + args.warm_up)])
            if len(pool) < args.adds + args.warm_up:
                raise SystemExit(f"only {len(pool)} users with a taste-moving pick")
            for user_id, release_id, before in pool[: args.warm_up]:
                measure_add(client, user_id, release_id, before, args.poll_ms / 1000, timeout_s)
            measured_from_ms = time.time() * 1000
            samples = [
                measure_add(client, user_id, release_id, before, args.poll_ms / 1000, timeout_s)
                for user_id, release_id, before in pool[args.warm_up : args.warm_up + args.adds]
            ]
            get_started = time.perf_counter()
            for user_id, _, _ in pool[:20]:
                fresh(client, user_id)
            fresh_get_ms = (time.perf_counter() - get_started) / 20 * 1000
        batches = [
            b
            for b in read_metrics(run)
            if b["written_at_ms"] >= measured_from_ms and b["latency_p50_ms"] is not None
        ]
        visible = [s.visible_s * 1000 for s in samples]
        posts = [s.post_s * 1000 for s in samples]
        lat50 = [b["latency_p50_ms"] for b in batches]
        lat99 = [b["latency_p99_ms"] for b in batches]
        seconds = [b["seconds"] * 1000 for b in batches]
        polls = np.mean([s.polls for s in samples])
        print(
            f"adds measured: {len(samples)} (after {args.warm_up} warm-up adds), "
            f"poll every {args.poll_ms:.0f} ms, mean polls {polls:.1f}"
        )
        print("| what | p50 (ms) | p99 (ms) |")
        print("|---|---|---|")
        print(
            f"| POST -> visible in fresh list (release gone, taste moved) | "
            f"{quantile(visible, 0.5):.0f} | {quantile(visible, 0.99):.0f} |"
        )
        print(
            f"| POST acknowledged by Kafka (acks=all) | {quantile(posts, 0.5):.0f} | "
            f"{quantile(posts, 0.99):.0f} |"
        )
        print(
            f"| reference: stream event time -> written, per batch ({len(batches)} batches) | "
            f"{quantile(lat50, 0.5):.0f} | {quantile(lat99, 0.99):.0f} |"
        )
        print(
            f"| reference: micro-batch duration | {quantile(seconds, 0.5):.0f} | "
            f"{quantile(seconds, 0.99):.0f} |"
        )
        print(f"fresh list GET (idle server): {fresh_get_ms:.0f} ms mean")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        stream.stop()
        cleanup(run)


if __name__ == "__main__":
    main()
