"""The worker's timed jobs: each runs when due, first after its delay, and a failing one
neither stops the others nor loses its next turn."""

from __future__ import annotations

from ioffice.exchange.worker import (
    PERIODIC_JOBS,
    PeriodicJob,
    retimestamp_documents,
    run_due_jobs,
)


def test_jobs_run_when_due_and_a_failure_keeps_the_others():
    ran: list[str] = []

    def boom(rt):
        ran.append("boom")
        raise RuntimeError("job broke")

    jobs = (PeriodicJob("a", 10, lambda rt: ran.append("a")),
            PeriodicJob("boom", 10, boom),
            PeriodicJob("late", 10, lambda rt: ran.append("late"), first_after=5))
    due: dict[str, float] = {}
    assert run_due_jobs(None, due, jobs, now=100.0) == ["a", "boom"]
    assert ran == ["a", "boom"]
    assert due["late"] == 105.0
    assert run_due_jobs(None, due, jobs, now=101.0) == []  # a and boom wait their 10 s
    assert run_due_jobs(None, due, jobs, now=106.0) == ["late"]
    assert ran == ["a", "boom", "late"]
    due["a"] = due["boom"] = 0.0
    assert run_due_jobs(None, due, jobs, now=107.0) == ["a", "boom"]  # boom's failure kept its turn


def test_the_product_jobs_are_named_once():
    names = [job.name for job in PERIODIC_JOBS]
    assert len(names) == len(set(names))
    assert {"revocation-data", "storage-cleanup", "retimestamp"} <= set(names)
    job = next(j for j in PERIODIC_JOBS if j.name == "retimestamp")
    assert job.every == 24 * 3600 and job.run is retimestamp_documents


def test_the_retimestamp_job_catches_its_own_failure(caplog):
    class Broken:
        retimestamp_days = 180.0
        timestamps = None

        def session_factory(self):
            raise RuntimeError("database down")

        blobs = None

    assert retimestamp_documents(Broken()) == 0
    assert "re-timestamp round failed" in caplog.text
