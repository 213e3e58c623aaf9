"""The activation registry: everything mnprof knows about each activation, in one place.

An activation is written on a layer (``act: relu``) or as a layer of its own
(``kind: relu``). Each entry says:

- ``emit``: how it is written to ONNX (per opset, through the ``Emitter``);
- ``ops``: elementwise ops per output element (the convention: one, like ReLU;
  activations never add MACs);
- ``gain``: the He-initialisation gain of the layer it follows (2 for a rectifier,
  1 for a linear or gating output), used by the synthetic weights;
- ``ort_ops``: the ONNX / onnxruntime op types its nodes have, so the bench's
  profile mapping recognises it inside or after a fused kernel;
- ``numpy``: its value on an array (the reference for tests and calibration).

Registering a new activation here is the whole change: the spec language (the
``act`` field and the ``<name>`` kind), the JSON Schema, export, weights and the
profile mapping all read this registry (``docs/architecture.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .emit import Emitter

NONE = "none"


@dataclass(frozen=True)
class Activation:
    name: str
    doc: str
    emit: Callable[[Emitter, str, str], str]     # (emitter, input tensor, layer name) -> output
    numpy: Callable[[Any], Any]
    gain: float = 1.0
    ort_ops: frozenset[str] = frozenset()
    ops: int = 1                                 # elementwise ops per output element


ACTIVATIONS: dict[str, Activation] = {}
_LISTENERS: list[Callable[[Activation], None]] = []


def register_activation(act: Activation) -> Activation:
    if act.name in ACTIVATIONS:
        raise RuntimeError(f"activation {act.name!r} registered twice")
    ACTIVATIONS[act.name] = act
    for listener in _LISTENERS:
        listener(act)
    return act


def on_register(listener: Callable[[Activation], None]) -> None:
    """Call ``listener`` for every activation, registered already or later (the layer
    kinds use this to give each activation a ``kind: <name>`` of its own)."""
    _LISTENERS.append(listener)
    for act in ACTIVATIONS.values():
        listener(act)


def activation(name: str) -> Activation:
    return ACTIVATIONS[name]


def names() -> list[str]:
    return list(ACTIVATIONS)


def recognised_ops() -> frozenset[str]:
    """Every op type an activation may appear as (for the profile mapping)."""
    return frozenset().union(*(a.ort_ops for a in ACTIVATIONS.values()))


# ---------------------------------------------------------------------------
# The activations


def _np() -> Any:
    import numpy
    return numpy


def _hard_sigmoid(e: Emitter, x: str, name: str) -> str:
    return e.op("HardSigmoid", [x], name=name, alpha=1.0 / 6, beta=0.5)


def _hswish(e: Emitter, x: str, name: str) -> str:
    if e.opset >= 14:
        return e.op("HardSwish", [x], name=f"{name}.hswish")
    gate = _hard_sigmoid(e, x, f"{name}.hswish.gate")    # opset 13: x * HardSigmoid(x)
    return e.op("Mul", [x, gate], name=f"{name}.hswish")


def _relu6(e: Emitter, x: str, name: str) -> str:
    lo, hi = e.const("relu6.min", 0.0), e.const("relu6.max", 6.0)
    return e.op("Clip", [x, lo, hi], name=f"{name}.relu6")


def _silu(e: Emitter, x: str, name: str) -> str:
    gate = e.op("Sigmoid", [x], name=f"{name}.silu.gate")
    return e.op("Mul", [x, gate], name=f"{name}.silu")


def _gelu(e: Emitter, x: str, name: str) -> str:
    if e.opset >= 20:
        return e.op("Gelu", [x], name=f"{name}.gelu")
    # opsets before 20: x * 0.5 * (1 + erf(x / sqrt(2))), as PyTorch exports it
    # (onnxruntime fuses the pattern into one Gelu kernel)
    d = e.op("Div", [x, e.const("gelu.sqrt2", math.sqrt(2.0))], name=f"{name}.gelu.div")
    erf = e.op("Erf", [d], name=f"{name}.gelu.erf")
    one = e.op("Add", [erf, e.const("gelu.one", 1.0)], name=f"{name}.gelu.add")
    xe = e.op("Mul", [x, one], name=f"{name}.gelu.mul")
    return e.op("Mul", [xe, e.const("gelu.half", 0.5)], name=f"{name}.gelu")


def _erf(x: Any) -> Any:
    np = _np()
    return np.vectorize(math.erf, otypes=[np.float64])(x)


register_activation(Activation(
    NONE, "no activation (linear)", emit=lambda e, x, name: x, numpy=lambda x: x, ops=0))
register_activation(Activation(
    "relu", "max(x, 0)", gain=2.0, ort_ops=frozenset({"Relu"}),
    emit=lambda e, x, name: e.op("Relu", [x], name=f"{name}.relu"),
    numpy=lambda x: _np().maximum(x, 0)))
register_activation(Activation(
    "relu6", "min(max(x, 0), 6)", gain=2.0, ort_ops=frozenset({"Clip"}), emit=_relu6,
    numpy=lambda x: _np().clip(x, 0, 6)))
register_activation(Activation(
    "hswish", "x * relu6(x + 3) / 6 (hard-swish)", gain=2.0,
    ort_ops=frozenset({"HardSwish"}), emit=_hswish,
    numpy=lambda x: x * _np().clip(x + 3, 0, 6) / 6))
register_activation(Activation(
    "hsigmoid", "relu6(x + 3) / 6 (hard-sigmoid)", ort_ops=frozenset({"HardSigmoid"}),
    emit=lambda e, x, name: _hard_sigmoid(e, x, f"{name}.hsigmoid"),
    numpy=lambda x: _np().clip(x + 3, 0, 6) / 6))
register_activation(Activation(
    "sigmoid", "1 / (1 + exp(-x))", ort_ops=frozenset({"Sigmoid"}),
    emit=lambda e, x, name: e.op("Sigmoid", [x], name=f"{name}.sigmoid"),
    numpy=lambda x: 1 / (1 + _np().exp(-x))))
register_activation(Activation(
    "silu", "x * sigmoid(x) (swish)", gain=2.0, ort_ops=frozenset({"Sigmoid", "QuickGelu"}),
    emit=_silu, numpy=lambda x: x / (1 + _np().exp(-x))))
register_activation(Activation(
    "gelu", "x * Phi(x), the exact (erf) form", gain=2.0,
    ort_ops=frozenset({"Gelu", "Erf", "BiasGelu", "FastGelu"}), emit=_gelu,
    numpy=lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2.0)))))
