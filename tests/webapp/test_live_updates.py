"""Live pages: the ETA from measured epoch times, and the channel layer riding out Redis time-outs."""

import asyncio
import logging

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis.exceptions import TimeoutError as RedisTimeoutError

from webapp.channel_layer import ResilientRedisChannelLayer
from webapp.models.training import epoch_facts


def epochs_at(durations_s: list[float]) -> list[dict]:
    elapsed, points = 0.0, []
    for n, duration in enumerate(durations_s, start=1):
        elapsed += duration
        points.append({"fold": 0, "epoch": n, "val_loss": 1.0 / n, "elapsed_s": elapsed})
    return points


def test_the_eta_is_the_mean_measured_epoch_time_times_the_epochs_left():
    facts = epoch_facts(epochs_at([10.0, 20.0, 30.0]), epochs_total=10)
    assert (facts["epochs_done"], facts["epochs_total"], facts["eta_s"]) == (3, 10, 140.0)
    assert len(facts["epochs"]) == 3


def test_at_a_steady_pace_the_eta_only_shrinks():
    etas = [epoch_facts(epochs_at([12.0] * done), epochs_total=30)["eta_s"] for done in range(1, 31)]
    assert etas == sorted(etas, reverse=True) and etas[0] == 29 * 12.0 and etas[-1] == 0.0


def test_there_is_no_eta_before_the_first_timed_epoch():
    assert epoch_facts([], epochs_total=10)["eta_s"] is None
    assert epoch_facts(epochs_at([5.0]), epochs_total=None)["eta_s"] is None


async def test_a_redis_time_out_while_receiving_is_retried_without_a_traceback(monkeypatch, caplog):
    answers = [
        RedisTimeoutError("Timeout reading from socket"),
        RedisTimeoutError("Timeout reading from socket"),
        {"type": "job.update"},
    ]

    async def flaky_receive(self, channel):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(RedisChannelLayer, "receive", flaky_receive)
    monkeypatch.setattr("webapp.channel_layer.FIRST_PAUSE_S", 0.0)
    layer = ResilientRedisChannelLayer(hosts=["redis://127.0.0.1:6379/11"])
    with caplog.at_level(logging.WARNING, logger="webapp.channel_layer"):
        assert await layer.receive("specific.abc!def") == {"type": "job.update"}
    assert len(caplog.records) == 2 and all(record.exc_info is None for record in caplog.records)
    assert "TimeoutError" in caplog.records[0].getMessage()


async def test_other_errors_still_surface(monkeypatch):
    async def broken(self, channel):
        raise ValueError("a bug, not a network hiccup")

    monkeypatch.setattr(RedisChannelLayer, "receive", broken)
    with pytest.raises(ValueError):
        await ResilientRedisChannelLayer(hosts=["redis://127.0.0.1:6379/11"]).receive("x")


async def test_a_lasting_outage_ends_the_wait_after_the_retries(monkeypatch):
    calls = []

    async def down(self, channel):
        calls.append(channel)
        raise RedisTimeoutError("Timeout reading from socket")

    monkeypatch.setattr(RedisChannelLayer, "receive", down)
    monkeypatch.setattr("webapp.channel_layer.FIRST_PAUSE_S", 0.0)
    with pytest.raises(RedisTimeoutError):
        await ResilientRedisChannelLayer(hosts=["redis://127.0.0.1:6379/11"]).receive("x")
    assert len(calls) == 6


async def test_an_idle_receive_waits_without_time_outs(caplog):
    """No event for longer than Redis's blocking read: the wait goes on quietly (redis-py's default socket
    time-out equals that read, which made every idle page log a time-out every 5 s)."""
    layer = ResilientRedisChannelLayer(hosts=[settings.REDIS_URL], prefix="offside-idle-test")
    channel = await layer.new_channel()
    with caplog.at_level(logging.WARNING, logger="webapp.channel_layer"), pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=6.5)  # past redis-py's 5 s socket time-out
    assert not caplog.records
    await layer.flush()


async def test_a_cancel_that_surfaces_as_a_redis_time_out_still_ends_the_receive(monkeypatch):
    """A closed socket cancels its consumer's receive; redis-py can turn that cancel into its TimeoutError.
    Retrying it then kept the consumer alive (tests hung in teardown; Daphne killed it after 10 s)."""

    waiting, never = asyncio.Event(), asyncio.Event()

    async def cancel_as_time_out(self, channel):
        waiting.set()
        try:
            await never.wait()  # an idle channel
        except asyncio.CancelledError as exc:
            raise RedisTimeoutError("Timeout reading from socket") from exc

    monkeypatch.setattr(RedisChannelLayer, "receive", cancel_as_time_out)
    task = asyncio.create_task(ResilientRedisChannelLayer(hosts=["redis://127.0.0.1:6379/11"]).receive("x"))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
