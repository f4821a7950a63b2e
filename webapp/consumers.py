"""WebSocket consumers: browsers subscribe to job events; access follows the same rules as the pages."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.events import STAFF_GROUP, job_group, user_jobs_group
from webapp.models import Job

# Close codes in the application range (4000-4999), so the page can tell why it was refused.
CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def load_visible_job_snapshot(user, job_id: int) -> dict | None:
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not job.is_visible_to(user):
        return None
    return job.snapshot()


class JobConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/jobs/<id>/``: one job, for its owner or staff. On connect (and reconnect) it first sends the
    job's snapshot (``type: job.snapshot``: state, row status, epochs with losses, ``seq`` of the last
    event it includes), then numbered events; ``{"type": "resync"}`` from the page asks for a new snapshot
    (it saw a gap)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        self.job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        if await load_visible_job_snapshot(user, self.job_id) is None:
            # Same answer for "missing" and "not yours", so ids of other users' jobs leak nothing.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # Join the group before reading the snapshot: an event published meanwhile is then delivered after
        # it, and the page drops it if the snapshot already includes it (its seq is not newer).
        self.group_name = job_group(self.job_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_snapshot()

    async def send_snapshot(self):
        snapshot = await load_visible_job_snapshot(self.scope["user"], self.job_id)
        if snapshot is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send_json(snapshot)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "resync":
            await self.send_snapshot()

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def job_update(self, event):
        await self.send_json(event)


class JobListConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/jobs/``: events of every job the user may see (own jobs; all jobs for staff)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        self.group_name = STAFF_GROUP if user.is_staff else user_jobs_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def job_update(self, event):
        await self.send_json(event)
