"""Pushes job events to channel groups; browsers receive them through webapp.consumers.

Groups: ``job-<id>`` (one job's page), ``user-<id>-jobs`` (the owner's lists), ``staff-jobs`` (staff).
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

STAFF_GROUP = "staff-jobs"


def job_group(job_id: int) -> str:
    return f"job-{job_id}"


def user_jobs_group(user_id: int) -> str:
    return f"user-{user_id}-jobs"


def publish_job_event(job, extra: dict | None = None) -> None:
    """Send the job's current state (plus optional extras such as loss values) to every interested group,
    numbered (``seq``) so that a page seeing a gap asks for a snapshot, and with its row's status.

    Live updates are a convenience: when Redis is unreachable the job still runs and its row stays correct,
    so a failure here is logged, never raised.
    """
    event = {**job.as_event(), "seq": job.next_event_seq(), "row_status": job.row_status()}
    if extra:
        event.update(extra)
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for group in (job_group(job.pk), user_jobs_group(job.owner_id), STAFF_GROUP):
            async_to_sync(layer.group_send)(group, event)
    except Exception:  # noqa: BLE001 - any broker failure must not break the job itself
        logger.warning("could not publish event for job %s", job.pk, exc_info=True)
