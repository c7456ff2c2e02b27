"""The HTML report in a real browser (headless Chromium over the DevTools protocol): it renders without script
errors, the drawn front has as many points as results.json, and a real mouse click on a point shows that solution's
bitwidth table. `.ci/run` installs Chromium (apt) when it is missing."""

import json

import pytest

from cdp import Browser, find_browser
from flowq.flow import Flow
from flowq.report import write_report
from test_flow import Surrogate

pytestmark = pytest.mark.slow
pytest.importorskip("plotly")


@pytest.fixture(scope="module")
def page():
    binary, why = find_browser()
    if binary is None:
        pytest.skip(f"browser test skipped: {why}")
    with Browser(binary) as browser:
        yield browser.page()


def test_report_renders_its_front_and_a_click_shows_the_bitwidth_table(page, tmp_path):
    flow = Flow("lenet5", "digits", Surrogate(), hw="spatial-256", verbose=False, seed=2)
    problem = flow.problem("coarse", objectives=("accuracy", "bitops", "dram_accesses_bits"))
    result = flow.search(problem, "nsga2", n_gen=4, pop_size=10, out=tmp_path / "run")
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    front, names = data["front"], data["config"]["layer_names"]
    assert len(front) >= 2 and result.level == "coarse"
    path = write_report(tmp_path / "run")
    page.open(path.resolve().as_uri())
    page.wait_for("window.FLOWQ_READY === true")
    assert page.evaluate("window.FLOWQ_ERRORS") == []
    # the first 2-D panel draws history, front, leaders in this order: count the front trace's SVG points
    points = "document.querySelectorAll('#pareto-0 .subplot.xy .scatterlayer .trace')[1].querySelectorAll('path.point')"
    assert page.evaluate(f"{points}.length") == len(front)
    panels = page.evaluate("document.querySelectorAll('#pareto-0 .subplot').length")
    assert panels == 3  # (psi, bitops), (psi, DRAM), (bitops, DRAM)
    assert page.evaluate("document.querySelectorAll('#pareto3d-0 .gl-container, #pareto3d-0 canvas').length") > 0
    shown = int(page.evaluate("document.getElementById('detail-0').dataset.solution"))
    assert shown == data["hv_leader"]  # the HV-leader's table is open before any click
    centres = page.evaluate(f"Array.from({points}).map(p => {{ const r = p.getBoundingClientRect(); "
                            f"return [r.x + r.width / 2, r.y + r.height / 2]; }})")
    # a point of another solution that no other marker covers
    target = next(k for k, (x, y) in enumerate(centres) if k != shown and
                  all(abs(x - u) + abs(y - v) > 8 for j, (u, v) in enumerate(centres) if j != k))
    page.evaluate("window.scrollTo(0, 0)")
    x, y = centres[target]
    page.click(x, y)
    page.wait_for(f"document.getElementById('detail-0').dataset.solution === '{target}'", timeout=20)
    rows = page.evaluate("Array.from(document.querySelectorAll('#layers-0 tbody tr')).map(r => "
                         "Array.from(r.cells).map(c => c.textContent))")
    layer_rows = rows[:len(names)]
    assert [r[0] for r in layer_rows] == names
    assert [int(r[1]) for r in layer_rows] == front[target]["bits_w"]
    assert [int(r[2]) for r in layer_rows] == front[target]["bits_a"]
    assert rows[-1][0] == "total"
    title = page.evaluate("document.querySelector('#detail-0 .detail-title').textContent")
    assert f"#{target}" in title
    shot = page.screenshot(tmp_path / "report.png", clip={"x": 0, "y": 0, "width": 1400, "height": 1400})
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
