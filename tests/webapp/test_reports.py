"""The report pages and their endpoints, on a run scored by the real work functions (tiny model)."""

import base64
import json
import os
import shutil

import cv2
import numpy as np
import pytest
from django.test import Client

from scoring.segments import TemporalParams, decide_segments
from tests.report_fixtures import built_once, ignore_progress
from tests.scoring.test_markers import parse_edl
from tests.webapp.videos_helpers import refuse_to_decode
from webapp import report_images
from webapp.models import ApiToken, Job

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
    assert owner_client.get(f"/runs/{run.pk}/segments.edl?keep=bogus").status_code == 400


def test_the_api_refuses_an_unknown_keep_instead_of_reading_it_as_in(built, run):
    _, raw = ApiToken.issue(built[0], "tests")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get(f"/api/runs/{run.pk}/segments.edl?keep=out").status_code == 200
    refused = api.get(f"/api/runs/{run.pk}/segments.edl?keep=bogus")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_every_marker_format_downloads_from_the_report_and_the_api(owner_client, run, prefix):
    from scoring.markers import FORMATS

    run.video.start_timecode = "10:00:00:00"
    run.video.save(update_fields=["start_timecode"])
    outs = [s for s in run.segments.all() if s.label == "out"]
    for name, chosen in FORMATS.items():
        response = owner_client.get(f"{prefix}/runs/{run.pk}/segments.{name}")
        assert response.status_code == 200, (name, response.content[:200])
        assert response["Content-Type"].startswith(chosen.media_type)
        assert f'filename="match.{chosen.extension}"' in response["Content-Disposition"] or name == "cmx3600"
    kodi = owner_client.get(f"{prefix}/runs/{run.pk}/segments.kodi").content.decode().splitlines()
    assert kodi == [f"{s.start_s:.3f}\t{s.end_s:.3f}\t3" for s in outs]
    edl = parse_edl(owner_client.get(f"{prefix}/runs/{run.pk}/segments.edl?keep=out").content.decode())
    assert [e["src_in"][:8] for e in edl["events"]] == [f"10:00:{int(s.start_s):02d}" for s in outs]
    assert owner_client.get(f"{prefix}/runs/{run.pk}/segments.srt").status_code == 404
    run.video.start_timecode = "10:00:00:99"  # more frames than the rate has: a clear refusal, not a 500
    run.video.save(update_fields=["start_timecode"])
    refused = owner_client.get(f"{prefix}/runs/{run.pk}/segments.cmx3600")
    assert refused.status_code in (400, 409) and "SMPTE" in refused.content.decode()
    run.video.start_timecode = ""
    run.video.save(update_fields=["start_timecode"])


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


def test_a_render_with_nothing_to_keep_is_refused_before_any_job(owner_client, run):
    jobs_before = Job.objects.count()
    response = owner_client.post(f"/runs/{run.pk}/render/", {"keep": "out", "low": "999", "high": "1000"})
    assert response.status_code == 400 and "No out segments" in response.json()["error"]
    assert Job.objects.count() == jobs_before


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


def post_review(client, run, segments):
    return client.post(f"/runs/{run.pk}/review/", json.dumps({"segments": segments}), "application/json")


def test_a_saved_review_is_what_exports_and_renders_use_until_discarded(owner_client, run):
    from workers.rendering import kept_ranges

    machine = list(run.segments.all())
    end_s = machine[-1].end_s
    corrected = [
        {"start_s": 0.0, "end_s": 2.0, "label": "in", "category": "soccer"},
        {"start_s": 2.0, "end_s": 4.0, "label": "out", "category": "advert"},
        {"start_s": 4.0, "end_s": end_s, "label": "in", "category": "soccer"},
    ]
    try:
        saved = post_review(owner_client, run, corrected)
        assert saved.status_code == 200, saved.content
        means = [s["mean_score"] for s in saved.json()["segments"]]
        run.refresh_from_db()
        assert run.is_reviewed and means[0] > 0 and len(run.reviewed_segments) == 3
        assert [(s.start_s, s.end_s, s.label) for s in run.segments.all()] == [
            (s.start_s, s.end_s, s.label) for s in machine
        ]  # the machine's rows stay beside the review
        kodi = owner_client.get(f"/runs/{run.pk}/segments.kodi").content.decode()
        assert kodi == "2.000\t4.000\t3\n"
        chapters = owner_client.get(f"/api/runs/{run.pk}/segments.ffmetadata").content.decode()
        assert "title=Out: advert" in chapters
        page = owner_client.get(f"/runs/{run.pk}/report/").content.decode()
        assert "(your review)" in page and "Back to the machine" in page
        job = Job(params={"keep": "in", "temporal_params": run.temporal_params}, kind=Job.Kind.RENDER)
        from webapp.report_data import RunData

        assert kept_ranges(RunData.load(run), job) == [(0.0, 2.0), (4.0, end_s)]
    finally:
        assert owner_client.delete(f"/runs/{run.pk}/review/").status_code == 200
    run.refresh_from_db()
    assert not run.is_reviewed and owner_client.get(f"/runs/{run.pk}/segments.kodi").content.decode() != kodi


def seg(start_s, end_s, label="in") -> dict:
    return {"start_s": start_s, "end_s": end_s, "label": label}


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ([seg(0.0, 3.0)], "must run from"),
        ([seg(0.0, 3.0, "maybe"), seg(3.0, 11.0)], "label"),
        ([seg(0.0, 3.0), seg(4.0, 11.0)], "start where"),
        ([seg("NaN", 11.0)], "finite"),
        ("everything is fine", "as a list"),
    ],
)
def test_a_review_that_does_not_tile_the_run_is_refused_with_a_reason(owner_client, run, segments, message):
    end_s = run.segments.order_by("-index").first().end_s
    for row in segments if isinstance(segments, list) else []:
        row["end_s"] = end_s if row["end_s"] == 11.0 else row["end_s"]
    response = post_review(owner_client, run, segments)
    assert response.status_code == 400 and message in response.json()["error"]
    run.refresh_from_db()
    assert not run.is_reviewed


def test_only_the_owner_reviews(client, other_user, run):
    client.force_login(other_user)
    assert post_review(client, run, []).status_code == 404
    assert client.delete(f"/runs/{run.pk}/review/").status_code == 404


def test_scripts_read_replace_and_drop_the_review_through_the_api(built, run):
    from django.test import Client

    from webapp.models import ApiToken

    _, raw = ApiToken.issue(built[0], "review script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    url = f"/api/runs/{run.pk}/review"
    end_s = run.segments.order_by("-index").first().end_s
    assert api.get(url).json() == []
    body = {"segments": [seg(0.0, 5.0, "out"), seg(5.0, end_s)]}
    try:
        put = api.put(url, json.dumps(body), "application/json")
        assert put.status_code == 200 and [s["label"] for s in put.json()] == ["out", "in"]
        assert api.get(f"/api/runs/{run.pk}").json()["reviewed_at"] is not None
        assert api.get(f"/api/runs/{run.pk}/segments.kodi").content.decode() == "0.000\t5.000\t3\n"
        bad = api.put(url, json.dumps({"segments": [seg(0.0, 5.0)]}), "application/json")
        assert bad.status_code == 422 and "must run from" in bad.json()["error"]["message"]
    finally:
        assert api.delete(url).status_code == 204
    assert api.get(url).json() == []


def test_the_report_names_a_stale_model_and_offers_retraining(owner_client, run, monkeypatch):
    from scoring.drift import DriftTest

    test = DriftTest(0.42, 1e-5, 120, 400, True)
    warning = {"index": 0, "category": "soccer", "version": 1, "test": test}
    monkeypatch.setattr("webapp.views.reports.drift_warnings", lambda data, segments: [warning])
    page = owner_client.get(f"/runs/{run.pk}/report/").content.decode()
    assert "The soccer model may be stale for this footage" in page and "distance 0.42, p &lt; 0.001" in page
    assert f'action="/runs/{run.pk}/learn/"' in page and "Retrain soccer with this video" in page


def test_report_pictures_are_made_without_decoding_the_video(owner_client, run, monkeypatch):
    refuse_to_decode(monkeypatch)
    assert report_images.cached_frame_set(run, 30, 0) is None
    for kind in ("frame", "recon", "error"):
        response = owner_client.get(f"/runs/{run.pk}/frames/30/{kind}.png?m=0")
        assert response.status_code == 200, response.content[:200]
    frame = cv2.imread(str(run.directory / "heatmaps" / "30-m0-frame.png"))
    assert frame.shape[1] <= 320  # the preview's size, not the video's


def test_a_run_kept_after_its_model_was_deleted_still_shows_its_frames(owner_client, run, monkeypatch):
    refuse_to_decode(monkeypatch)
    kept = run.model_versions
    run.model_versions = [{**v, "model_id": 10**9} for v in kept]  # as after the version's deletion
    run.save(update_fields=["model_versions"])
    try:
        info = owner_client.get(f"/runs/{run.pk}/frames/31/").json()
        assert info["model_available"] is False and "deleted" in info["model_message"]
        assert owner_client.get(f"/runs/{run.pk}/frames/31/frame.png?m=0").status_code == 200
        for kind in ("recon", "error"):
            response = owner_client.get(f"/runs/{run.pk}/frames/31/{kind}.png?m=0")
            assert response.status_code == 404
    finally:
        run.model_versions = kept
        run.save(update_fields=["model_versions"])
    assert owner_client.get(f"/runs/{run.pk}/frames/31/").json()["model_available"] is True


def test_the_cache_of_report_pictures_is_bounded_oldest_first(owner_client, run, settings, monkeypatch):
    refuse_to_decode(monkeypatch)
    settings.OFFSIDE_REPORT_IMAGE_CACHE_FILES = 6
    folder = run.directory / "heatmaps"
    occlusion = folder / "5-m0-occlusion.png"  # the result of a job: never evicted
    occlusion.parent.mkdir(parents=True, exist_ok=True)
    occlusion.write_bytes(b"png")
    for index in (40, 41, 42):
        assert owner_client.get(f"/runs/{run.pk}/frames/{index}/error.png?m=0").status_code == 200
        os.utime(folder / f"{index}-m0-frame.png", ns=(index * 10**9, index * 10**9))  # 40 is the oldest
        cached = [p for p in folder.glob("*.png") if not p.name.endswith("occlusion.png")]
        assert len(cached) <= 6
    names = {p.name for p in folder.iterdir()}
    assert {"42-m0-frame.png", "42-m0-recon.png", "42-m0-error.png", "5-m0-occlusion.png"} <= names
    assert "40-m0-frame.png" not in names
    assert owner_client.get(f"/runs/{run.pk}/frames/40/frame.png?m=0").status_code == 200  # made again


def test_a_video_without_previews_gets_them_from_a_job_before_its_pictures(
    owner_client, run, monkeypatch, django_capture_on_commit_callbacks
):
    from scoring.previews import make_previews
    from webapp.previews import preview_rate

    refuse_to_decode(monkeypatch)
    shutil.rmtree(run.video.previews_directory)  # a video probed before the store existed
    monkeypatch.setattr("webapp.job_queue.send_jobs", lambda ids: None)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            info = owner_client.get(f"/runs/{run.pk}/frames/50/").json()
            picture = owner_client.get(f"/runs/{run.pk}/frames/50/recon.png")
        job = Job.objects.get(kind=Job.Kind.PREVIEWS, video=run.video)
        assert info["images_ready"] is False and info["previews_job_id"] == job.pk
        assert "being made" in info["previews_message"]
        assert picture.status_code == 503 and picture["Retry-After"]
    finally:
        monkeypatch.undo()
        make_previews(run.video.original_path, run.video.previews_directory, *preview_rate())
    assert owner_client.get(f"/runs/{run.pk}/frames/50/").json()["images_ready"] is True
