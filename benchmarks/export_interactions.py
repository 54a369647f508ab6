"""Write a synthetic world's collections as an interactions CSV (``user,item,timestamp``).

The file has no item content, so ``discorecs evaluate --interactions FILE`` runs only the
interaction-based rankers: the literature's order among them (EASE ≈ RP3beta ≈ ItemKNN ≥ iALS >
BPR ≫ MostPopular, Dacrema et al. 2019) can be checked on it.

Usage: ``.venv/bin/python benchmarks/export_interactions.py --users 20000 --out adds.csv``
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from discorecs.app.evaluation.world import WorldSpec, build_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--releases", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    world = build_world(WorldSpec(users=args.users, releases=args.releases), args.seed)
    data = world.interactions
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item", "timestamp"])
        for user, item, time in zip(
            data.user_ids[data.users].tolist(),
            data.item_ids[data.items].tolist(),
            data.times.tolist(),
            strict=True,
        ):
            writer.writerow([user, item, f"{time:.3f}"])
    print(f"interactions={len(data.users)} users={args.users} out={args.out}")


if __name__ == "__main__":
    main()
