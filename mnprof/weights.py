"""Deterministic synthetic weights for a built graph: what ``mnprof export`` writes.

Nothing is downloaded and nothing is trained: every parameter tensor a layer
declares (``Kind.tensors``) gets values drawn from its own random generator,
seeded from ``(seed, crc32(tensor name))``, so a tensor's values depend only on
its name and the seed, never on the other layers or on the order of generation.

The distributions keep activations of order one through any built-in network
(measured in the export tests) while making every batch-norm visibly non-trivial,
so that a wrong folding or a swapped mean and variance shows in the outputs:

- conv and fc weights: He initialisation, normal with std ``sqrt(gain / fan_in)``,
  gain 2 for a layer followed by relu, relu6 or hswish (keeps the second moment of
  the signal through the conv and its rectifier) and 1 for a linear layer (a
  projection, a classifier, a layer gated by hsigmoid), as PyTorch's
  ``kaiming_normal_`` does for each nonlinearity;
- biases: uniform in [-0.1, 0.1];
- batch-norm scale (gamma): uniform in [0.5, 1.5]; shift (beta): uniform in
  [-0.2, 0.2]; running mean: normal with std 0.1; running variance: uniform in
  [0.5, 2]. The per-channel gain gamma / sqrt(var) then averages about 1 in the
  mean square (E[gamma^2] E[1/var] = 1.083 x 0.924 = 1.001).

Measured on a random normal input over the built-in specs (seeds 0-2; alpha 0.35
to 1, resolution 64 to 224): every layer's RMS stays between 0.04 and 11 and the
logits' largest magnitude between 0.4 and 8. With gain 2 on the linear layers
too, V3-Large's logits grew to about 110 (RMS 30) at 224, and V2's to 10.
"""

from __future__ import annotations

import zlib

import numpy as np

from .errors import MnprofError
from .graph import Graph
from .kinds import Activation, Role, Tensor

# Batch-norm epsilon, the PyTorch and ONNX default; the exporter writes it into
# every BatchNormalization node and uses it when folding.
BN_EPSILON = 1e-5

_RECTIFIERS = (Activation.RELU, Activation.RELU6, Activation.HSWISH)
_BIAS_RANGE = 0.1
_BN_SCALE_RANGE = (0.5, 1.5)
_BN_SHIFT_RANGE = 0.2
_BN_MEAN_STD = 0.1
_BN_VAR_RANGE = (0.5, 2.0)


def tensor_rng(name: str, seed: int) -> np.random.Generator:
    """The generator of one tensor: a function of its name and the seed only."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def tensor_values(name: str, tensor: Tensor, seed: int, gain: float) -> np.ndarray:
    """float32 values of one declared tensor (see the module docstring)."""
    rng = tensor_rng(name, seed)
    shape = tensor.shape
    if tensor.role is Role.WEIGHT:
        std = np.sqrt(gain / max(tensor.fan_in, 1))
        values = rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
    elif tensor.role is Role.BIAS:
        values = _uniform(rng, -_BIAS_RANGE, _BIAS_RANGE, shape)
    elif tensor.role is Role.BN_SCALE:
        values = _uniform(rng, *_BN_SCALE_RANGE, shape)
    elif tensor.role is Role.BN_SHIFT:
        values = _uniform(rng, -_BN_SHIFT_RANGE, _BN_SHIFT_RANGE, shape)
    elif tensor.role is Role.BN_MEAN:
        values = rng.standard_normal(shape, dtype=np.float32) * np.float32(_BN_MEAN_STD)
    elif tensor.role is Role.BN_VAR:
        values = _uniform(rng, *_BN_VAR_RANGE, shape)
    else:   # a new Role must say how it is initialised
        raise AssertionError(f"no initialisation for role {tensor.role!r}")
    return values


def _uniform(rng: np.random.Generator, lo: float, hi: float,
             shape: tuple[int, ...]) -> np.ndarray:
    return (np.float32(lo) + rng.random(shape, dtype=np.float32) * np.float32(hi - lo))


def check_seed(seed: object) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise MnprofError(f"seed must be an integer >= 0, got {seed!r}")
    return seed


def generate_weights(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """Every declared parameter tensor of ``graph``, keyed ``"<layer>.<suffix>"``."""
    check_seed(seed)
    out: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        kind = node.spec_kind
        gain = 2.0 if node.attrs.get("act") in _RECTIFIERS else 1.0
        for tensor in kind.tensors(dict(node.attrs), node.input_shapes, node.output_shape):
            name = f"{node.name}.{tensor.suffix}"
            if name in out:     # a kind declaring one suffix twice is a bug in kinds.py
                raise AssertionError(f"tensor {name!r} declared twice")
            out[name] = tensor_values(name, tensor, seed, gain)
    return out
