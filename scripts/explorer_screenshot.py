"""Draw docs/images/explorer.png: the graph explorer of `tinygrad-edu graph --format html`, in
headless Chromium, two steps into backward with `2.weight` selected.

    .venv/bin/python scripts/explorer_screenshot.py --out docs/images/explorer

Needs the `playwright` package (a dev extra) and Chromium (`apt-get install chromium`, or
$TG_CHROMIUM); Playwright's own browser download is not used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tinygrad_edu.cli import main as tinygrad_edu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="path without the .png")
    args = parser.parse_args(argv)
    chromium = os.environ.get("TG_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        print("explorer_screenshot.py: Chromium is not installed (apt-get install chromium)")
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "step"
        if tinygrad_edu(["graph", "--format", "html", "--out", str(page_path)]) != 0:
            return 1
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            page.goto(page_path.with_suffix(".html").as_uri())
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            page.locator("g.node", has_text="2.weight").click()
            page.screenshot(path=f"{args.out}.png")
            browser.close()
    print(f"wrote {args.out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
