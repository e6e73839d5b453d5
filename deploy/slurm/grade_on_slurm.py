"""Grade a class on Slurm: dask-jobqueue submits the Dask workers as Slurm jobs (a GPU each,
one learner at a time each), and `course grade --batch --scheduler` sends them the class.

    pip install 'lstm-course[cluster]' dask-jobqueue
    python grade_on_slurm.py submissions/ --workers 16 --partition gpu

Run it on a login node: the scheduler runs here, the workers in the partition's jobs, which
must reach this node and find the same lstm-course (this Python environment on the shared
home, or the same version installed on the nodes). The class folder stays here: the workers
are sent each learner's files. Arguments after the options go to `course grade` as they are
(e.g. --feedback-dir feedback/ --csv class.csv).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import dask
from dask_jobqueue import SLURMCluster

SCHEDULER = {  # as grader.cluster tells a scheduler of its own (README: deployment)
    "distributed.scheduler.allowed-failures": 2,  # 3 workers died on a learner: an error row
    "distributed.scheduler.worker-saturation": 1.0,  # one learner per worker at a time
}


def slurm_cluster(partition: str, gpus: int, host: str | None = None) -> SLURMCluster:
    """A scheduler here whose workers are Slurm jobs of `partition`, each with `gpus` GPUs,
    one core (one learner at a time) and room for a runner's 4 GiB and the checker."""
    with dask.config.set(SCHEDULER):
        return SLURMCluster(
            queue=partition,
            cores=1,
            processes=1,
            memory="8GiB",
            walltime="02:00:00",
            job_extra_directives=[f"--gres=gpu:{gpus}"] if gpus else [],
            scheduler_options={"host": host, "dashboard_address": None},
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", help="the class folder: one folder or .zip per learner")
    parser.add_argument("--workers", type=int, default=8, help="Slurm jobs, one worker each")
    parser.add_argument("--partition", default="gpu", help="the Slurm partition (queue)")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs per worker (0: CPU only)")
    args, rest = parser.parse_known_args()
    with slurm_cluster(args.partition, args.gpus) as cluster:
        cluster.scale(jobs=args.workers)
        command = ["course", "grade", args.submissions, "--batch"]
        return subprocess.call([*command, "--scheduler", cluster.scheduler_address, *rest])


if __name__ == "__main__":
    sys.exit(main())
