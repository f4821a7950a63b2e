"""The report figures as Chromium draws them: however many rows a legend wraps into, it stays clear of the
figure's title (it sat above the plot and covered the title once it wrapped)."""

from pathlib import Path

import numpy as np
import plotly
import plotly.io as pio
import pytest

from webapp import charts

pytestmark = pytest.mark.browser

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
HISTORY = [
    {"epoch": e, "train_loss": 9.0 - e, "train_recon": 8.0 - e, "train_kl": 0.1, "val_loss": 10.0 - e,
     "val_recon": 9.0 - e, "val_kl": 0.2}
    for e in range(1, 9)
]  # fmt: skip
RNG = np.random.default_rng(0)
FIGURES = {
    "training curves": charts.training_curves(HISTORY, best_epoch=5),
    "score histogram": charts.score_histogram(RNG.random(200), RNG.random(200), RNG.random(50) + 1),
    "calibration": charts.calibration_histogram(RNG.random(200), 0.9, RNG.random(50) + 1, 1.2),
    "latent map": charts.latent_scatter(RNG.normal(size=(50, 8)), RNG.normal(size=(20, 8))),
}
BOXES = """() => {
  const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                         return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  return {title: box(".gtitle"), legend: box(".legend"), plot: box(".nsewdrag")};
}"""


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


@pytest.mark.parametrize("width", [360, 900])
@pytest.mark.parametrize("name", list(FIGURES))
def test_a_legend_never_covers_the_title_or_the_plot(chromium, name, width):
    page = chromium.new_page()
    try:
        page.set_content(
            f"<div id='chart' style='width:{width}px;height:340px'></div>"
            f"<script>{PLOTLY_JS.read_text()}</script>"
            f"<script>const f = {pio.to_json(FIGURES[name])};"
            "Plotly.newPlot('chart', f.data, f.layout);</script>"
        )
        page.wait_for_selector("#chart .legend")
        boxes = page.evaluate(BOXES)
    finally:
        page.close()
    assert not overlap(boxes["legend"], boxes["title"]), boxes
    assert not overlap(boxes["legend"], boxes["plot"]), boxes
