"""A job's socket resyncs: a snapshot first (state, row status, the whole loss history, epoch n of N), then
numbered events; a page that asks again (it saw a gap) gets a fresh snapshot."""

import pytest
from asgiref.sync import sync_to_async

from tests.integration.helpers import STATE_WAIT_S, job_socket, session_cookie_for
from tests.training_fixtures import TINY_CONFIG
from webapp.events import publish_job_event
from webapp.models import Category, TrainedModel

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("closes_thread_connections"),
]

EPOCHS = [
    {"fold": 0, "epoch": n, "train_loss": 1.0 / n, "val_loss": 1.2 / n, "elapsed_s": 4.0 * n}
    for n in (1, 2, 3)
]


def training_with_three_epochs(owner) -> TrainedModel:
    category = Category.objects.create(owner=owner, name="soccer")
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    model.job.claim()
    model.save_curves(EPOCHS, epochs_total=8)
    publish_job_event(model.job)  # events 1 and 2, before anyone listens
    publish_job_event(model.job)
    return model


async def test_the_socket_sends_the_snapshot_first_then_numbered_events(owner):
    model = await sync_to_async(training_with_three_epochs)(owner)
    socket = job_socket(f"/ws/jobs/{model.job_id}/", await sync_to_async(session_cookie_for)(owner))
    assert (await socket.connect())[0]

    snapshot = await socket.receive_json_from(timeout=STATE_WAIT_S)
    assert snapshot["type"] == "job.snapshot" and snapshot["seq"] == 2
    assert (snapshot["status"], snapshot["row_status"]) == ("running", "training")
    assert snapshot["epochs"] == EPOCHS
    assert (snapshot["epochs_done"], snapshot["epochs_total"], snapshot["eta_s"]) == (3, 8, 20.0)

    await sync_to_async(publish_job_event)(model.job, {"epoch": 4})
    event = await socket.receive_json_from(timeout=STATE_WAIT_S)
    assert (event["type"], event["seq"], event["epoch"]) == ("job.update", 3, 4)

    await socket.send_json_to({"type": "resync"})
    again = await socket.receive_json_from(timeout=STATE_WAIT_S)
    assert again["type"] == "job.snapshot" and again["seq"] == 3 and again["epochs"] == EPOCHS
    await socket.disconnect()


async def test_a_reconnecting_page_gets_the_final_state_it_missed(owner):
    model = await sync_to_async(training_with_three_epochs)(owner)
    await sync_to_async(model.job.fail)("the decoder crashed")  # published while no page listens

    socket = job_socket(f"/ws/jobs/{model.job_id}/", await sync_to_async(session_cookie_for)(owner))
    assert (await socket.connect())[0]
    snapshot = await socket.receive_json_from(timeout=STATE_WAIT_S)
    await socket.disconnect()

    assert (snapshot["status"], snapshot["row_status"], snapshot["error"]) == (
        "failed",
        "failed",
        "the decoder crashed",
    )
    assert snapshot["seq"] == 3 and len(snapshot["epochs"]) == 3
