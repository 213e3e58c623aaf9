"""Render each kind of HTML report and photograph it with a real headless browser.

    python docs/screenshots.py [--only cost,bench,sweep,compare,check,predict] [--onnx MODEL.onnx]

Writes ``docs/img/<kind>.png`` (the top of the page, 1280 px wide, as a reader first
sees it), the images the README shows. Re-run it when a report changes. It needs
Chromium (Debian: ``apt-get install chromium``); the bench and the timed sweep run
onnxruntime on this machine, so run it on an idle one. ``--onnx`` adds the bench
page of an ONNX file (``onnx-bench.png``). The predict page needs this machine's device
profile at 1 thread (``mnprof calibrate --threads 1``).

Chromium runs with a fresh profile in a temporary directory, no network services
(``--disable-background-networking`` and friends) and, as root needs, no sandbox.
Screenshots are saved optimised in full colour (a palette would merge the layer
types' colours), about 200-300 KB each; one over 400 KB is reduced to 256 colours.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
WIDTH = 1280
HEIGHTS = {"cost": 1700, "bench": 1900, "sweep": 1500, "compare": 1300, "check": 1250,
           "predict": 1500}
COMPARE = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
           "mobilenet_v1_shallow", "mobilenet_v1_conv")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1")
BUDGET = """\
# a budget with one limit too tight, to show a failure next to passes
models:
  - name: v1-1.0-224
    spec: mobilenet_v1
    limits:
      macs: 575M
      params: 4.2M
      peak_activation_bytes: 5MiB
  - name: v3-small
    spec: mobilenet_v3_small
    limits:
      macs: 60M
      params_framework: 2.6M
      latency_median_ms: 20
      latency_p90_ms: 30
"""


def reports(only: set[str], onnx: str | None) -> dict[str, object]:
    from mnprof import api, budgets

    out: dict[str, object] = {}
    quick = {"runs": 30, "warmup": 10, "min_time": 1.0}
    per_point = {"runs": 20, "warmup": 5, "min_time": 0.5}
    if "cost" in only:
        out["cost"] = api.cost("mobilenet_v3_large")
    if "bench" in only:
        out["bench"] = api.benchmark("mobilenet_v1", **quick)
    if "sweep" in only:
        out["sweep"] = api.sweep("mobilenet_v1", [1, 0.75, 0.5, 0.25], [224, 192, 160, 128],
                                 bench=per_point)
    if "compare" in only:
        out["compare"] = api.compare(COMPARE, bench=per_point)
    if "check" in only:
        here = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)               # the page names the budget as given: budget.yaml
            try:
                Path("budget.yaml").write_text(BUDGET)
                out["check"] = budgets.check_budget("budget.yaml")
            finally:
                os.chdir(here)
    if "predict" in only:
        out["predict"] = api.predict_latency("mobilenet_v3_large", threads=1)
    if onnx:
        out["onnx-bench"] = api.benchmark(onnx, **quick)
    return out


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no Chromium found: apt-get install chromium (or put chrome on PATH)")


def shoot(chrome: str, page: Path, png: Path, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chrome, *FLAGS, f"--user-data-dir={profile}",
                        f"--window-size={WIDTH},{height}", f"--screenshot={png}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)


def shrink(png: Path) -> int:
    from PIL import Image
    with Image.open(png) as im:
        rgb = im.convert("RGB")
    rgb.save(png, optimize=True)
    if png.stat().st_size > 400 * 1024:
        rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                     dither=Image.Dither.NONE).save(png, optimize=True)
    return png.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or "").split("\n")[0])
    ap.add_argument("--only", default="cost,bench,sweep,compare,check,predict")
    ap.add_argument("--onnx", default=None, help="also photograph this ONNX file's bench")
    args = ap.parse_args()
    chrome = browser()
    sys.path.insert(0, str(ROOT))
    from mnprof.output import render

    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind, report in reports(set(args.only.split(",")), args.onnx).items():
            page = Path(tmp) / f"{kind}.html"
            page.write_text(render(report, "html"), encoding="utf-8")
            png = IMG / f"{kind}.png"
            shoot(chrome, page, png, HEIGHTS.get(kind.removeprefix("onnx-"), 1600))
            print(f"{png.relative_to(ROOT)}: {shrink(png) // 1024} KiB")


if __name__ == "__main__":
    main()
