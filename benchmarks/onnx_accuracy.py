"""How exactly `mnprof cost MODEL.onnx` counts: ONNX exports against reference counts.

Reads an index of exported files (JSON: ``entries``, each with ``file``, ``model``,
``resolution``) and reference counts (JSON: ``models.<model>.resolutions.<res>`` with
``flop_counter_macs`` and ``split`` {depthwise, pointwise, grouped, other_conv, fc},
and ``models.<model>.params_conv_fc_weights``), made by a counter outside mnprof
(PyTorch's FlopCounterMode and module hooks). For every file it prints mnprof's total
MACs, its split (depthwise: type keys dw*; pointwise: conv1x1, one group; fc; the rest)
and its conv + fc weights next to the reference, and whether each is equal.

With ``--resolutions 96,97,...`` every file whose height and width can be made symbolic
(its Reshapes compute their shapes, as legacy torch exports do) is also imported at
each of those resolutions and compared with the reference at that resolution.

Run: python benchmarks/onnx_accuracy.py INDEX.json COUNTS.json [--resolutions R,...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from mnprof.analysis.cost import analyze
from mnprof.core.errors import MnprofError
from mnprof.onnxio.importer import import_model
from mnprof.onnxio.load import load_model


def split(r: Any) -> dict[str, int]:
    dw = sum(v.macs for k, v in r.by_type.items() if k.startswith("dw"))
    pw = r.by_type["conv1x1"].macs if "conv1x1" in r.by_type else 0
    fc = r.by_type["fc"].macs if "fc" in r.by_type else 0
    return {"macs": r.totals.macs, "dw": dw, "pw": pw, "other": r.totals.macs - dw - pw - fc,
            "fc": fc, "weights": r.totals.params}


def reference(counts: dict[str, Any], model: str, res: int) -> dict[str, int] | None:
    m = counts["models"].get(model)
    row = m["resolutions"].get(str(res)) if m else None
    if not row:
        return None
    s = row["split"]
    return {"macs": row["flop_counter_macs"], "dw": s["depthwise"], "pw": s["pointwise"],
            "other": s["other_conv"] + s["grouped"], "fc": s["fc"],
            "weights": m["params_conv_fc_weights"]}


def line(name: str, res: int, got: dict[str, int], want: dict[str, int] | None,
         seconds: float) -> bool:
    if want is None:
        print(f"{name:48s} {res:4d}  no reference")
        return True
    same = got == want
    print(f"{name:48s} {res:4d}  MACs {got['macs']:>14,} ref {want['macs']:>14,}  dw "
          f"{got['dw'] == want['dw']} pw {got['pw'] == want['pw']} other "
          f"{got['other'] == want['other']} fc {got['fc'] == want['fc']}  weights "
          f"{got['weights']:>11,} ref {want['weights']:>11,}  "
          f"{'EQUAL' if same else 'DIFFERENT'}  ({seconds:.2f} s)")
    return same


def symbolic(proto: Any) -> Any:
    """``proto`` with the input's height and width made symbolic."""
    for d, name in zip(proto.graph.input[0].type.tensor_type.shape.dim[2:], ("h", "w"),
                       strict=False):
        d.ClearField("dim_value")
        d.dim_param = name
    return proto


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("index")
    ap.add_argument("counts")
    ap.add_argument("--resolutions", default="")
    args = ap.parse_args()
    index = json.loads(Path(args.index).read_text())
    counts = json.loads(Path(args.counts).read_text())
    folder = Path(args.index).parent
    results = []
    for e in sorted(index["entries"], key=lambda e: e["file"]):
        start = time.perf_counter()
        r = analyze(import_model(folder / e["file"]).graph)
        took = time.perf_counter() - start
        results.append(line(e["file"], e["resolution"], split(r),
                            reference(counts, e["model"], e["resolution"]), took))
    for res in [int(x) for x in args.resolutions.split(",") if x]:
        for e in sorted(index["entries"], key=lambda e: e["file"]):
            if "_legacy" not in e["file"]:
                continue
            path = folder / e["file"]
            try:
                graph = import_model(symbolic(load_model(path)), resolution=res,
                                     name=str(path)).graph
            except MnprofError as exc:
                print(f"{e['file']:48s} {res:4d}  not at this resolution: {exc}")
                continue
            results.append(line(e["file"], res, split(analyze(graph)),
                                reference(counts, e["model"], res), 0.0))
    print(f"{sum(results)} of {len(results)} equal to the MAC and to the parameter")


if __name__ == "__main__":
    main()
