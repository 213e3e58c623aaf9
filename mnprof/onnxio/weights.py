"""Deterministic synthetic weights for a built graph: what ``mnprof export`` writes.

Nothing is downloaded and nothing is trained: every parameter tensor a layer
declares (``Kind.tensors``) gets values drawn from its own random generator,
seeded from ``(seed, crc32(tensor name))``, so a tensor's values depend only on
its name and the seed, never on the other layers or on the order of generation.

The distributions keep activations of order one through any built-in network
(measured in the export tests) while making every batch-norm visibly non-trivial,
so that a wrong folding or a swapped mean and variance shows in the outputs:

- conv and fc weights: He initialisation, normal with std ``sqrt(gain / fan_in)``,
  with the gain of the activation that follows the layer (its entry in
  ``mnprof.model.activations``: 2 for a rectifier such as relu, relu6, hswish,
  silu or gelu, which keeps the second moment of the signal through the conv and
  its rectifier; 1 for a linear layer: a projection, a classifier, a layer gated
  by hsigmoid or sigmoid), as PyTorch's ``kaiming_normal_`` does; the last layer of
  a residual branch (a layer only a residual ``add`` reads, next to a skip that other
  layers read too) gets a tenth of that gain, so that a residual block adds about a
  tenth to the second moment of its input instead of doubling it (N blocks in a row
  grow it 1.1^N-fold, not 2^N-fold; the small-branch initialisation of Fixup and
  zero-gamma residuals, made non-zero so that every branch still shows in the output);
- biases: uniform in [-0.1, 0.1];
- batch-norm scale (gamma): uniform in [0.5, 1.5]; shift (beta): uniform in
  [-0.2, 0.2]; running mean: normal with std 0.1; running variance: uniform in
  [0.5, 2]. The per-channel gain gamma / sqrt(var) then averages about 1 in the
  mean square (E[gamma^2] E[1/var] = 1.083 x 0.924 = 1.001).

Measured on a random normal input over the built-in specs (seeds 0-2; (alpha,
resolution) = (1, 64), (0.5, 97), (0.35, 64), (1, 224), (0.75, 160), MobileNetV4-
Conv-Large at 0.5 instead of 1): every layer's RMS stays between 0.014 and 4.8 and
the logits' largest magnitude between 0.4 and 9.3. With gain 2 on the linear layers
too, V3-Large's logits grew to about 110 (RMS 30) at 224, and V2's to 10. With the
full gain on residual branches, MobileNetV4-Conv-Medium's logits reached 210 and
Large's 290 (RMS 78 and 118), MnasNet's 76.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..core.values import check_int
from ..model.activations import NONE, activation
from ..model.graph import Graph
from ..model.kinds import Role, Tensor, kind_of

_BIAS_RANGE = 0.1
_BN_SCALE_RANGE = (0.5, 1.5)
_BN_SHIFT_RANGE = 0.2
_BN_MEAN_STD = 0.1
_BN_VAR_RANGE = (0.5, 2.0)
_RESIDUAL_BRANCH_GAIN = 0.1


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
    return check_int("seed", seed, 0, 2**63 - 1)


def residual_branch_ends(graph: Graph) -> frozenset[str]:
    """Layers whose output only a residual ``add`` reads, when another input of that add
    is read by other layers too (the skip): the last layer of each residual branch."""
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    ends: set[str] = set()
    for node in graph.nodes:
        if node.kind == "add" and any(readers[name] > 1 for name in node.inputs):
            ends.update(name for name in node.inputs if readers[name] == 1)
    return frozenset(ends)


def layer_tensors(graph: Graph) -> list[tuple[str, Tensor, float]]:
    """(name, tensor, He gain) of every declared parameter tensor, in graph order."""
    out = []
    branch_ends = residual_branch_ends(graph)
    for node in graph.nodes:
        gain = activation(node.attrs.get("act", NONE)).gain
        if node.name in branch_ends:
            gain *= _RESIDUAL_BRANCH_GAIN
        for tensor in kind_of(node).tensors(dict(node.attrs), node.input_shapes,
                                           node.output_shape):
            out.append((f"{node.name}.{tensor.suffix}", tensor, gain))
    return out


def generate_weights(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """Every declared parameter tensor of ``graph``, keyed ``"<layer>.<suffix>"``."""
    check_seed(seed)
    out: dict[str, np.ndarray] = {}
    for name, tensor, gain in layer_tensors(graph):
        if name in out:     # a kind declaring one suffix twice is a bug in its kind
            raise AssertionError(f"tensor {name!r} declared twice")
        out[name] = tensor_values(name, tensor, seed, gain)
    return out
