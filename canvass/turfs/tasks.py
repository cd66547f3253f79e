"""django-q2 task of turf cutting: it takes the job's id, re-fetches it, and calls the service."""

from __future__ import annotations

from canvass.turfs import services as turf_services


def turf_cut_job_run(job_id: int) -> str:
    job = turf_services.turf_cut_job_run(job_id=job_id)
    if job is None:
        return f"turf cut {job_id}: already taken by another worker"
    return f"turf cut {job_id}: {job.status}: {job.message}"
