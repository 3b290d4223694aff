"""The graph explorer in a real browser: Debian's Chromium, headless, driven by Playwright.

The page is saved to disk and opened from there, as a user would. The tests click a parameter
and read its gradient from the panel (compared with the engine's backward), step through the
whole backward pass (the order and the numbers must be tg.explain's), fold a module, drive it by
keyboard alone, and check that nothing on the page asks the network for anything and the
console stays free of errors. A screenshot goes to $TG_ARTIFACTS (default ./artifacts), kept by
CI as an artefact, never committed.

Needs the `playwright` package (a dev extra) and a Chromium (`chromium` on PATH, as
scripts/test.sh installs it, or $TG_CHROMIUM); without them the tests skip with the reason,
except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from needs import dot_or_skip, unavailable

import tinygrad_edu as tg

ARTIFACTS = Path(os.environ.get("TG_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install playwright)")
    chromium = os.environ.get("TG_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    dot_or_skip()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A saved explorer page opened in the browser, with what it asked of the network and what
    its console said."""

    def __init__(self, browser, explorer, path: Path) -> None:
        explorer.save(path)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            if not r.request.url.startswith("file://"):
                self.requests.append(r.request.url)
                return r.abort()
            return r.continue_()

        self.page.route("**/*", route)
        self.page.goto(path.as_uri())

    def box(self, name: str):
        """The picture's box of the tensor or op called `name` (its first line)."""
        return self.page.locator(
            "g.node", has=self.page.locator("text", has_text=re.compile(f"^{re.escape(name)}$"))
        )

    def text(self, selector: str) -> str:
        return self.page.locator(selector).first.text_content()

    def clean(self) -> None:
        assert self.requests == [], f"the page asked the network for {self.requests}"
        assert self.errors == [], f"the console said {self.errors}"


def _mlp_step(sizes=(4, 5, 3), batch=2):
    tg.manual_seed(0)
    model = tg.nn.MLP(list(sizes))
    x = tg.rand(batch, sizes[0], name="x")
    loss = tg.nn.functional.cross_entropy(model(x), tg.Tensor(np.arange(batch) % sizes[-1]))
    loss.name = "loss"
    return model, loss


def _numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)])


def test_click_a_parameter_and_read_the_engines_gradient(browser, tmp_path):
    model, loss = _mlp_step()
    page = Page(browser, tg.explore(loss, model=model), tmp_path / "step.html")
    loss.backward()  # the engine's own gradients, to compare with
    for name in ("0.weight", "2.bias"):
        page.box(name).click()
        assert page.text("#tg-node h2") == name
        shown = _numbers(page.text("#tg-node pre.tg-grad"))
        engine = dict(model.named_parameters())[name].grad.numpy().ravel()
        np.testing.assert_allclose(shown, engine, rtol=5e-4, atol=1e-7)  # 4 significant digits
    page.clean()


def test_stepping_through_backward_is_explains_walk(browser, tmp_path):
    model, loss = _mlp_step()
    blocks = [b for b in tg.explain(loss, model=model).split("\n\n") if b.startswith("step ")]
    page = Page(browser, tg.explore(loss, model=model), tmp_path / "step.html")
    p = page.page
    assert page.text("#tg-status") == f"before backward ({len(blocks)} steps)"
    pending = p.locator("g.node.tg-pending")
    before = pending.count()
    assert page.box("0.weight").get_attribute("class").split().count("tg-pending") == 1
    seen = []
    for k in range(1, len(blocks) + 1):
        p.keyboard.press("ArrowRight")
        seen.append(page.text("#tg-step pre.tg-lines"))
        assert page.text("#tg-status").startswith(f"step {k} of {len(blocks)}")
        assert p.locator("g.node.tg-current").count() >= 1  # the op being run is marked
        assert pending.count() < before  # gradients arrive: fewer boxes greyed
        before = pending.count()
    assert seen == blocks
    assert pending.count() == 0  # every gradient has arrived
    assert p.locator("#tg-next").is_disabled()
    p.keyboard.press("Home")
    assert page.text("#tg-status").startswith("before backward")
    p.click("#tg-next")
    assert page.text("#tg-step pre.tg-lines") == blocks[0]
    page.clean()


def test_a_tensor_used_twice_shows_both_arrivals(browser, tmp_path):
    a = tg.Tensor(1.0, requires_grad=True, name="a")
    b = a + a
    c = b + b
    b.name, c.name = "b", "c"
    page = Page(browser, tg.explore(c), tmp_path / "twice.html")
    page.box("a").click()
    assert "nothing yet" in page.text("#tg-node")
    page.page.keyboard.press("End")
    arrivals = page.page.locator("#tg-node ul.tg-arrivals li")
    texts = [arrivals.nth(i).text_content() for i in range(arrivals.count())]
    assert len(texts) == 3, texts  # two arrivals from step 2, then the total
    assert texts[0].startswith("step 2 (Add)") and texts[1].startswith("step 2 (Add)")
    assert "+= 2" in texts[0] and "+= 2" in texts[1] and texts[2].endswith("= 4")
    page.clean()


def test_keyboard_only(browser, tmp_path):
    model, loss = _mlp_step()
    page = Page(browser, tg.explore(loss, model=model), tmp_path / "step.html")
    p = page.page
    names = []
    for _ in range(40):  # Tab through the buttons and the boxes
        p.keyboard.press("Tab")
        label = p.evaluate("document.activeElement.getAttribute('aria-label') || ''")
        names.append(label)
        if label.startswith("tensor 0.weight"):
            break
    assert names[-1].startswith("tensor 0.weight"), names
    p.keyboard.press("Enter")
    assert page.text("#tg-node h2") == "0.weight"
    page.clean()


def test_fold_and_unfold_a_module(browser, tmp_path):
    model, loss = _mlp_step()
    page = Page(browser, tg.explore(loss, model=model), tmp_path / "step.html")
    p = page.page
    label = p.locator("g.cluster text", has_text=re.compile(r"^0 \(Linear\)$"))
    label.click()
    assert not page.box("0.weight").is_visible()
    assert p.locator(".tg-fold text").first.text_content().startswith("4 boxes folded")
    assert page.box("x").is_visible()  # the input lives outside the module
    label.click()
    assert page.box("0.weight").is_visible() and p.locator(".tg-fold").count() == 0
    page.clean()


def test_the_digits_training_step(browser, tmp_path):
    """The full step of the digits MLP: big weights summarised with a histogram; a screenshot."""
    model, loss = _mlp_step(sizes=(64, 128, 64, 10), batch=32)
    page = Page(browser, tg.explore(loss, model=model), tmp_path / "digits.html")
    page.box("0.weight").click()
    assert page.text("#tg-node pre.tg-value").startswith("128x64: min ")
    assert page.page.locator("#tg-node svg.tg-hist rect").count() == 2 * 20  # value and grad
    page.page.keyboard.press("ArrowRight")
    page.page.keyboard.press("ArrowRight")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "explorer.png"))
    assert (ARTIFACTS / "explorer.png").stat().st_size > 10_000
    page.clean()
