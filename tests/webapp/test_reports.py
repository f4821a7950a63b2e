"""The report pages and their endpoints, on a run scored by the real work functions (tiny model)."""

import base64
import json

import numpy as np
import pytest

from scoring.segments import TemporalParams, decide_segments
from tests.report_fixtures import built_once, ignore_progress
from tests.webapp.test_exports import parse_edl
from webapp.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def report_media(tmp_path_factory):
    return tmp_path_factory.mktemp("report-media")


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, report_media):
    with built_once(django_db_blocker, report_media) as owner_and_run:
        yield owner_and_run


@pytest.fixture(autouse=True)
def isolated_media_root(settings, report_media):
    """The module's run keeps its files in one folder; every test reads it."""
    settings.MEDIA_ROOT = report_media


@pytest.fixture
def run(built):
    return built[1]


@pytest.fixture
def owner_client(client, built):
    client.force_login(built[0])
    return client


def figure(response, element_id: str) -> dict:
    html = response.content.decode()
    marker = f'id="{element_id}">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def test_video_report_shows_timeline_with_threshold_and_out_segments(owner_client, run):
    response = owner_client.get(f"/runs/{run.pk}/report/")
    assert response.status_code == 200
    timeline = figure(response, "timeline-figure")
    assert [t["name"] for t in timeline["data"]] == ["soccer", "smoothed (best)"]
    shapes = timeline["layout"]["shapes"]
    assert [s["y0"] for s in shapes if s["type"] == "line"] == [1.0]
    outs = [(s["x0"], s["x1"]) for s in shapes if s.get("name") == "out"]
    assert outs == [(s.start_s, s.end_s) for s in run.segments.filter(label="out")]
    assert outs, "the studio break should be out"
    histogram = figure(response, "histogram-figure")
    assert histogram["data"][0]["name"] == "this video"
    assert "00:00:" in response.content.decode()  # the segment table's timecodes


def test_reports_are_private(client, other_user, staff, run):
    client.force_login(other_user)
    for url in (f"/runs/{run.pk}/report/", f"/runs/{run.pk}/report/data.json", f"/runs/{run.pk}/segments.csv",
                f"/runs/{run.pk}/frames/3/error.png", f"/runs/{run.pk}/frames/3/"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert client.post(f"/runs/{run.pk}/frames/3/occlusion/").status_code == 404
    model_id = run.model_versions[0]["model_id"]
    assert client.get(f"/models/{model_id}/report/").status_code == 404
    client.force_login(staff)
    assert client.get(f"/runs/{run.pk}/report/").status_code == 200


def test_report_data_holds_every_frame_as_typed_arrays(owner_client, run):
    data = owner_client.get(f"/runs/{run.pk}/report/data.json").json()
    arrays = run.load_arrays()
    times = np.frombuffer(base64.b64decode(data["times"]), dtype="<f8")
    best = np.frombuffer(base64.b64decode(data["best"]), dtype="<f8")
    scores = np.frombuffer(base64.b64decode(data["scores"]), dtype="<f4").reshape(1, -1)
    assert data["n"] == len(arrays["timestamps_s"]) == 55
    assert np.array_equal(times, arrays["timestamps_s"])
    assert np.array_equal(best, arrays["scores"].min(axis=0))
    assert np.allclose(scores, arrays["scores"], rtol=1e-6)
    assert data["params"]["high"] == 2.0 and data["cuts"] is not None
    # what the page decides with these arrays and params is what the run stored
    params = TemporalParams(**data["params"])
    _, segments = decide_segments(best, times, params, np.asarray(data["cuts"]))
    assert [(s.start_s, s.end_s, s.label) for s in segments] == [
        (s.start_s, s.end_s, s.label) for s in run.segments.all()
    ]


def test_exports_give_the_runs_segments_or_the_what_if_ones(owner_client, run):
    rows = list(run.segments.all())
    csv_text = owner_client.get(f"/runs/{run.pk}/segments.csv").content.decode()
    assert len(csv_text.strip().splitlines()) == len(rows) + 1
    edl = parse_edl(owner_client.get(f"/runs/{run.pk}/segments.edl?keep=out").content.decode())
    assert len(edl["events"]) == sum(1 for s in rows if s.label == "out")
    what_if = owner_client.get(f"/runs/{run.pk}/segments.json?high=100&low=100").json()
    assert [s["label"] for s in what_if["segments"]] == ["in"] and what_if["params"]["high"] == 100
    assert owner_client.get(f"/runs/{run.pk}/segments.json?low=2&high=1").status_code == 400
    assert owner_client.get(f"/runs/{run.pk}/segments.csv?window_s=1e9").status_code == 400  # too costly
    assert owner_client.get(f"/runs/{run.pk}/segments.csv?high=nan").status_code == 400
    assert owner_client.get(f"/runs/{run.pk}/segments.xml").status_code == 404


def test_clicked_frame_gets_frame_reconstruction_and_heatmap_cached(owner_client, run):
    info = owner_client.get(f"/runs/{run.pk}/frames/25/").json()
    assert info["t_s"] == pytest.approx(5.0) and info["timecode"] == "00:00:05.000"
    assert set(info["scores"]) == {"soccer"} and info["occlusion_ready"] is False
    for kind in ("frame", "recon", "error"):
        response = owner_client.get(f"/runs/{run.pk}/frames/25/{kind}.png")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    cached = {p.name for p in (run.directory / "heatmaps").iterdir()}
    assert {"25-m0-error.png", "25-m0-frame.png", "25-m0-recon.png"} <= cached
    assert owner_client.get(f"/runs/{run.pk}/frames/25/occlusion.png").status_code == 404
    assert owner_client.get(f"/runs/{run.pk}/frames/999/error.png").status_code == 404


def test_occlusion_map_is_a_heatmap_job_with_progress(owner_client, run):
    from workers.rendering import occlusion_work

    response = owner_client.post(f"/runs/{run.pk}/frames/20/occlusion/")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job_id"])
    assert (job.kind, job.queue, job.params["index"]) == ("heatmap", "gpu", 20)
    assert job.spec.task == "workers.report_tasks.heatmap_task"
    again = owner_client.post(f"/runs/{run.pk}/frames/20/occlusion/").json()
    assert again["job_id"] == job.pk  # one job per frame, not one per click
    progress = []
    result = occlusion_work(job, lambda fraction, stage=None, **kw: progress.append(fraction))
    assert progress == sorted(progress) and len(progress) > 2
    assert owner_client.get(result["image_url"]).status_code == 200
    done = owner_client.post(f"/runs/{run.pk}/frames/20/occlusion/").json()
    assert done["status"] == "succeeded"


def video_duration_s(path) -> float:
    """Decoded length (frames / fps) by OpenCV: ffprobe may be missing (imageio-ffmpeg has no probe)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    assert fps > 0, f"{path} does not decode"
    return frames / fps


def test_render_cuts_the_out_segments_as_a_cpu_job(owner_client, run):
    from workers.rendering import render_work

    response = owner_client.post(f"/runs/{run.pk}/render/", {"keep": "in"})
    job = Job.objects.get(pk=response.json()["job_id"])
    assert (job.kind, job.queue) == ("render", "cpu")
    assert job.spec.task == "workers.report_tasks.render_task"
    result = render_work(job, ignore_progress)
    kept_s = sum(s.duration_s for s in run.segments.filter(label="in"))
    assert result["duration_s"] == pytest.approx(kept_s)
    job.succeed(result)
    assert video_duration_s(run.directory / "renders" / f"{job.pk}.mp4") == pytest.approx(kept_s, abs=0.25)
    download = owner_client.get(result["url"])
    assert download.status_code == 200


def test_model_report_draws_every_figure_and_the_image_grids(owner_client, run):
    model_id = run.model_versions[0]["model_id"]
    response = owner_client.get(f"/models/{model_id}/report/")
    assert response.status_code == 200
    curves = figure(response, "curves-figure")
    assert {"train total", "validation total"} <= {t["name"] for t in curves["data"]}
    assert "ROC and precision-recall curves need negative clips" in response.content.decode()
    boxes = figure(response, "boxes-figure")
    assert [t["name"].split(" #")[0] for t in boxes["data"]] == ["pitch"]
    assert [t["name"] for t in figure(response, "latent-figure")["data"]] == ["reference"]
    for grid in ("samples", "prior", "interpolation"):
        image = owner_client.get(f"/models/{model_id}/report/{grid}.png")
        assert image.status_code == 200 and b"".join(image.streaming_content)[:4] == b"\x89PNG"


def test_run_and_model_pages_link_to_their_reports(owner_client, run):
    model_id = run.model_versions[0]["model_id"]
    assert f'href="/runs/{run.pk}/report/"' in owner_client.get(f"/runs/{run.pk}/").content.decode()
    model_page = owner_client.get(f"/models/{model_id}/").content.decode()
    assert f'href="/models/{model_id}/report/"' in model_page and 'href="/reports/categories/"' in model_page


def test_category_overview_is_a_matrix_of_acceptance_rates(owner_client, run):
    response = owner_client.get("/reports/categories/")
    assert response.status_code == 200
    heat = figure(response, "overview-figure")["data"][0]
    assert heat["y"] == ["soccer v1"] and heat["x"] == ["soccer"]
    assert heat["text"][0][0].endswith("%")


def test_model_report_draws_roc_and_pr_when_the_calibration_has_negatives():
    from webapp.models import TrainedModel
    from webapp.views.reports import model_figures

    calibration = {
        "threshold": 0.5, "method": "percentile", "percentile": 99.0, "held_out_losses": [0.1, 0.2, 0.4],
        "negative_losses": [0.6, 0.9], "auroc": 0.9876, "f1_threshold": 0.5, "best_f1": 0.8,
        "roc": {"x": [0, 0.5, 1], "y": [0, 1, 1], "thresholds": [9, 0.5, 0.1]},
        "pr": {"x": [0.5, 1], "y": [1, 0.8], "thresholds": [0.9, 0.6]},
    }  # fmt: skip
    model = TrainedModel(threshold=0.5, calibration=calibration, curves={})
    analysis = {"clips": [{"name": "ad #2", "kind": "negative", "losses": [0.6, 0.9]}],
                "mu": {"reference": [[0.0, 1.0], [1.0, 0.0]], "negative": [[5.0, 5.0]]}}  # fmt: skip
    figures = {
        name: json.loads(text) if text else None for name, text in model_figures(model, analysis).items()
    }
    assert figures["curves"] is None
    assert "0.988" in figures["roc"]["layout"]["title"]["text"]
    assert "0.800" in figures["pr"]["layout"]["title"]["text"]
    assert [t["name"] for t in figures["calibration"]["data"]] == ["held-out reference", "negative clips"]
    assert [t["name"] for t in figures["latent"]["data"]] == ["reference", "negative"]


def test_cache_files_written_by_concurrent_threads_never_collide(tmp_path):
    """The page asks for a frame's three images at once; request threads may write one cache file together."""
    from concurrent.futures import ThreadPoolExecutor

    from scoring.files import write_atomic

    target = tmp_path / "cache" / "frame.png"
    payloads = [bytes([i]) * 200_000 for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: write_atomic(target, p), payloads))
    assert target.read_bytes() in payloads
    assert [p.name for p in target.parent.iterdir()] == ["frame.png"], "no temporary file left behind"
