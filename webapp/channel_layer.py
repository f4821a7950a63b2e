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
# A receive blocks in Redis (BZPOPMIN) for up to ``brpop_timeout`` when no event comes. channels-redis waits
# 5 s, exactly redis-py 8's default socket time-out, so every idle wait raced it and timed out (a warning
# every 5 s on an idle page, and a traceback when five came in a row). The blocking call is shortened instead
# of the socket time-out lengthened: a longer read also delays a closed socket's consumer past Daphne's
# 10 s (it was then killed as "took too long to shut down"), and an idle page now asks Redis every 2 s.
BLOCKING_READ_S = 2


class ResilientRedisChannelLayer(RedisChannelLayer):
    brpop_timeout = BLOCKING_READ_S

    async def receive(self, channel):
        pause_s = FIRST_PAUSE_S
        for attempt in range(RETRIES + 1):
            try:
                return await super().receive(channel)
            except TRANSIENT as exc:
                if attempt == RETRIES:
                    raise
                name = type(exc).__name__
                logger.warning("Redis did not answer a channel read (%s: %s); retrying", name, exc)
                await asyncio.sleep(pause_s)
                pause_s *= 2
