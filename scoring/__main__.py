"""``python -m scoring``: see ``scoring.cli``."""

import os
import sys

# Idle OpenMP threads sleep instead of spinning. Set before torch loads libgomp, which reads it once. On a
# shared 2-core machine a spinning thread burnt as much CPU as the VAE's work: `scoring score` spent 1.7 ms
# of CPU per frame in the VAE with the default policy, 0.6 ms with this one, and its wall time fell too
# (docs/BENCHMARKS.md, "Scoring throughput"). An explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from scoring.cli import main  # noqa: E402  (after the OpenMP policy)

if __name__ == "__main__":
    sys.exit(main())
