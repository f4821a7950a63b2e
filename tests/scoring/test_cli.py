import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from scoring.cli import main, parse_time, parse_video_arg
from scoring.pipeline import DEFAULT_TRAIN_FPS, TrainingOptions, load_checkpoint
from tests.synthetic import write_video

FIELD_S, STUDIO_S = 4.0, 3.0


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The CI and dev machines have 2 shared cores; one torch thread avoids oversubscription stalls."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def two_scene_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("videos") / "match.mp4"
    write_video(path, [("field", FIELD_S), ("studio", STUDIO_S)], fps=10)
    return path


@pytest.fixture(scope="module")
def field_model(two_scene_video, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "field"
    # a smaller input than the default keeps the suite fast; the default size is exercised by the benchmark
    args = ["train", "--out", str(out), "--epochs", "6", "--height", "36", "--width", "64"]
    code = main([*args, f"{two_scene_video}@0-{FIELD_S}"])
    assert code == 0
    return out


def test_train_writes_a_loadable_calibrated_model(field_model):
    trained = load_checkpoint(field_model)
    assert trained.name == "field"
    assert trained.threshold > 0
    assert trained.config == replace(TrainingOptions().model, height=36, width=64)
    assert trained.metadata["n_frames"] == int(FIELD_S * DEFAULT_TRAIN_FPS)  # sampled at the default rate


def test_train_fps_zero_takes_every_frame(two_scene_video, tmp_path):
    out = tmp_path / "every"
    args = ["train", "--out", str(out), "--epochs", "1", "--height", "36", "--width", "64", "--fps", "0"]
    assert main([*args, "--holdout", "blocks", f"{two_scene_video}@0-{FIELD_S}"]) == 0
    assert load_checkpoint(out).metadata["n_frames"] == int(FIELD_S * 10)


def test_score_marks_the_untrained_scene_out_in_the_design_json(field_model, two_scene_video, tmp_path):
    out_json = tmp_path / "scores.json"
    assert main(["score", "--model", str(field_model), "--json", str(out_json), str(two_scene_video)]) == 0
    doc = json.loads(out_json.read_text())
    assert doc["video"] == str(two_scene_video)
    assert doc["threshold"] > 0
    times = np.array([f["t"] for f in doc["frames"]])
    out = np.array([f["out"] for f in doc["frames"]])
    assert all(isinstance(f["score"], float) for f in doc["frames"])
    assert out[times >= FIELD_S + 0.5].all()
    assert not out[times < FIELD_S - 0.5].any()
    labels = [s["label"] for s in doc["segments"]]
    assert labels == ["in", "out"]
    boundary = doc["segments"][1]["start_s"]
    assert abs(boundary - FIELD_S) <= 0.5
    assert {"start_s", "end_s", "label", "mean_score"} <= set(doc["segments"][0])


def test_score_reuse_limit_reaches_the_scorer(field_model, two_scene_video, tmp_path):
    def scores(*options: str) -> list[float]:
        out_json = tmp_path / "scores.json"
        args = ["score", "--model", str(field_model), "--json", str(out_json), *options, str(two_scene_video)]
        assert main(args) == 0
        return [f["score"] for f in json.loads(out_json.read_text())["frames"]]

    every = scores("--reuse-below", "0")
    assert len(set(every)) == len(every)  # each frame through the network
    first = scores("--reuse-below", "255")  # no two frames differ by 255 levels on average
    assert first == pytest.approx([every[0]] * len(every), rel=1e-5)  # a batch of one: same score to 1e-7


OUTSIDE = "between 0 and 255"


@pytest.mark.parametrize(
    ("value", "message"), [("-1", OUTSIDE), ("nan", OUTSIDE), ("1e9", OUTSIDE), ("abc", "not a number")]
)
def test_score_refuses_a_reuse_limit_outside_the_grey_levels(value, message, tmp_path, capsys):
    args = [
        "score",
        "--model",
        str(tmp_path),
        "--json",
        str(tmp_path / "s.json"),
        "--reuse-below",
        value,
        "v.mp4",
    ]
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_score_exports_markers_the_players_read(field_model, two_scene_video, tmp_path, capsys):
    import webvtt

    from tests.scoring.test_markers import read_kodi_edl

    out_json = tmp_path / "scores.json"
    wanted = {"kodi": "match.edl", "vtt": "match.vtt", "cmx3600": "edit/match-in.edl", "json": "m.json"}
    exports = [arg for name, path in wanted.items() for arg in ("--export", f"{name}:{tmp_path / path}")]
    args = ["score", "--model", str(field_model), "--json", str(out_json), *exports, str(two_scene_video)]
    assert main(args) == 0
    assert len(json.loads(capsys.readouterr().out)["exports"]) == 4
    outs = [s for s in json.loads(out_json.read_text())["segments"] if s["label"] == "out"]
    kodi = read_kodi_edl((tmp_path / "match.edl").read_text())
    assert [(a, b) for a, b, _ in kodi] == [(round(s["start_s"], 3), round(s["end_s"], 3)) for s in outs]
    (cue,) = webvtt.read(tmp_path / "match.vtt").captions
    assert cue.text.startswith("Out: unknown")
    assert "FROM CLIP NAME: match.mp4" in (tmp_path / "edit/match-in.edl").read_text()
    assert json.loads((tmp_path / "m.json").read_text())["fps"] == pytest.approx(10.0)


def test_an_unknown_export_format_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["score", "--model", str(tmp_path), "--json", "x.json", "--export", "srt:x.srt", "v.mp4"])
    assert exited.value.code == 2 and "use one of kodi" in capsys.readouterr().err


def test_heatmap_writes_a_png(field_model, two_scene_video, tmp_path):
    png = tmp_path / "heat.png"
    assert (
        main(["heatmap", "--model", str(field_model), "--out", str(png), "--t", "5", str(two_scene_video)])
        == 0
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    occ = tmp_path / "occ.png"
    args = ["heatmap", "--model", str(field_model), "--out", str(occ), "--occlusion", str(two_scene_video)]
    assert main(args) == 0
    assert occ.stat().st_size > 0


def test_bad_input_exits_non_zero_with_one_line(tmp_path, capsys):
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello")
    assert main(["train", "--out", str(tmp_path / "m"), str(not_video)]) == 2
    assert main(["score", "--model", str(tmp_path), "--json", str(tmp_path / "x.json"), str(not_video)]) == 2
    assert main(["train", "--out", str(tmp_path / "m"), str(tmp_path / "missing.mp4")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)


def test_score_reports_a_video_that_does_not_decode_with_a_good_model(field_model, tmp_path, capsys):
    # decoding runs on its own thread while the model loads: its error still ends the command with one line
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello")
    assert (
        main(["score", "--model", str(field_model), "--json", str(tmp_path / "x.json"), str(not_video)]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "notes.mp4" in err[0]
    assert not (tmp_path / "x.json").exists()


def test_the_module_runs_as_a_program(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "scoring", "score", "--model", str(tmp_path), "--json", "x.json", "nope.mp4"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")


@pytest.mark.parametrize(("given", "seen"), [(None, "PASSIVE"), ("active", "active")])
def test_the_program_lets_idle_openmp_threads_sleep_unless_told_otherwise(given, seen):
    # spinning OpenMP threads doubled the CPU time of scoring on the shared 2-core machine
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    run = "runpy.run_module('scoring', run_name='not_main')"  # the entry's module body, without main()
    code = f"import os, runpy; {run}; print(os.environ['OMP_WAIT_POLICY'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == seen


def test_video_ranges_and_times_parse(tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"x")
    assert parse_video_arg(f"{video}@1.5-00:00:03") == (video, 1.5, 3.0)
    assert parse_video_arg(f"{video}@-2") == (video, None, 2.0)
    assert parse_video_arg(str(video)) == (video, None, None)
    assert parse_time("01:02.5") == 62.5
