"""Run a job's work function in this process (management commands), with a progress bar instead of a worker.

The job row is claimed, heartbeated and finished by ``workers.jobs.run_job`` exactly as on a worker, so the
run shows on the Jobs page, live, and a second run of the same job is refused.
"""

from collections.abc import Callable

from webapp.models import Job


class BarReporter:
    """Wraps the job's ProgressReporter: every call also moves the bar (0..100) and shows stage and losses."""

    def __init__(self, report, bar):
        self.report, self.bar = report, bar

    def __call__(self, progress, stage=None, extra=None, force=False):
        self.bar.update(max(round(progress * 100, 1) - self.bar.n, 0))
        if stage:
            self.bar.set_description(stage)
        if extra and "val_loss" in extra:
            fold = f"fold {extra['fold']} " if extra.get("fold") else ""
            self.bar.set_postfix_str(
                f"{fold}epoch {extra['epoch']} train {extra['train_loss']:.4g} val {extra['val_loss']:.4g}"
            )
        self.report(progress, stage, extra, force)


def run_inline(job: Job, work: Callable, bar) -> Job:
    """Run ``work`` for the queued ``job`` here, driving ``bar`` (a tqdm with total=100); returns the job."""
    from workers.jobs import run_job

    run_job(job.pk, lambda job, report: work(job, BarReporter(report, bar)))
    bar.update(max(100 - bar.n, 0))
    bar.close()
    job.refresh_from_db()
    return job
