"""The deployment files of the cluster batch (deploy/): the Kubernetes manifests validate
against Kubernetes' schemas (offline, kubernetes-validate's copy) and run what grader.cluster
needs; the Slurm script asks for what it says."""

from __future__ import annotations

import importlib.util

import kubernetes_validate
import pytest
import yaml

import courseware
from tests.helpers import REPO

KUBERNETES = REPO / "deploy/kubernetes"
VERSION = "1.30.0"  # the oldest Kubernetes the manifests are written for
MANIFESTS = sorted(KUBERNETES.glob("*.yaml"))


def resources() -> list[dict]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(kind: str, name: str) -> dict:
    (found,) = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_is_valid_kubernetes(path):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, VERSION, strict=True)  # raises, naming the field


def test_a_manifest_with_a_mistake_is_refused():
    worker = by_kind("Deployment", "lstm-course-worker")
    worker["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privilegd"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, VERSION, strict=True)


def container(name: str) -> dict:
    (found,) = by_kind("Deployment", name)["spec"]["template"]["spec"]["containers"]
    return found


def test_workers_grade_one_learner_at_a_time_confined_and_reach_the_scheduler():
    worker, scheduler = container("lstm-course-worker"), container("lstm-course-scheduler")
    command = worker["command"]
    assert command[:2] == ["dask", "worker"] and command[command.index("--nthreads") + 1] == "1"
    service = by_kind("Service", "lstm-course-scheduler")
    (port,) = service["spec"]["ports"]
    assert command[2] == f"tcp://{service['metadata']['name']}:{port['port']}"
    assert f"--port {port['port']}" in " ".join(scheduler["command"])
    assert worker["securityContext"] == {"runAsUser": 0, "privileged": True}
    namespace = by_kind("Namespace", "lstm-grading")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    env = {e["name"]: e["value"] for e in scheduler["env"]}
    assert env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] == "2"  # three tries
    assert env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] == "1.0"


def test_the_image_is_the_course_version_the_client_runs():
    images = {c["image"] for r in resources() if r["kind"] == "Deployment"
              for c in r["spec"]["template"]["spec"]["containers"]}  # fmt: skip
    assert images == {f"lstm-course:{courseware.__version__}"}
    dockerfile = (REPO / "deploy/container/Dockerfile").read_text()
    assert f"-t lstm-course:{courseware.__version__}" in dockerfile and "[cluster]" in dockerfile


def test_the_slurm_script_asks_for_a_gpu_worker_per_job():
    path = REPO / "deploy/slurm/grade_on_slurm.py"
    spec = importlib.util.spec_from_file_location("grade_on_slurm", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with script.slurm_cluster("gpu", gpus=1, host="127.0.0.1") as cluster:
        job, address = cluster.job_script(), cluster.scheduler_address
        assert cluster.scheduler.allowed_failures == 2
    assert "#SBATCH -p gpu" in job and "#SBATCH --gres=gpu:1" in job
    assert "--nthreads 1" in job and address in job
