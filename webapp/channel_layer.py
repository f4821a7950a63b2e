"""The channels-redis layer, made to ride out Redis time-outs while receiving.

A WebSocket consumer waits on the layer for group events; when Redis is slow or restarts, channels-redis
raises from that wait and the consumer dies with a traceback (and the page loses its socket). Here the wait is
retried with back-off and one warning line; the page's snapshot on reconnect covers anything missed.
"""

import asyncio
import logging

from channels_redis.core import RedisChannelLayer
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Only time-outs: a closed connection (Redis restarted, the server shutting down) ends the socket at once, and
# the page's reconnect brings a fresh snapshot.
TRANSIENT = (RedisTimeoutError,)
FIRST_PAUSE_S = 0.2
# Pauses of 0.2, 0.4, 0.8, 1.6 and 3.2 s: a Redis restart passes, a lasting outage ends the socket.
RETRIES = 5


# channels-redis blocks in Redis (BZPOPMIN) for ``brpop_timeout`` (5 s) when no event comes, and redis-py 8
# reads with a default socket time-out of 5 s too, so an idle wait often ends in a time-out rather than an
# empty answer. A time-out after waiting that long is that race, not a problem: it is retried at once, quietly
# and without counting (before, an idle page logged one every 5 s and its socket died after five). A cancel
# (the socket closed) can reach us as that same TimeoutError: it is never retried.
IDLE_SLACK_S = 0.5


class ResilientRedisChannelLayer(RedisChannelLayer):
    async def receive(self, channel):
        loop = asyncio.get_running_loop()
        pause_s, failures = FIRST_PAUSE_S, 0
        while True:
            started = loop.time()
            try:
                return await super().receive(channel)
            except TRANSIENT as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # cancelled meanwhile (the socket closed): end
                    raise asyncio.CancelledError from exc
                if loop.time() - started >= self.brpop_timeout - IDLE_SLACK_S:
                    logger.debug("Idle channel read timed out with Redis's blocking wait; waiting again")
                    continue
                if failures == RETRIES:
                    raise
                failures += 1
                name = type(exc).__name__
                logger.warning("Redis did not answer a channel read (%s: %s); retrying", name, exc)
                await asyncio.sleep(pause_s)
                pause_s *= 2
