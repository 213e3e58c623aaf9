"""How close an int8 model's outputs stay to the float model's, on synthetic inputs.

The measure, per image of ``evaluation_inputs`` (standard normal images drawn from
the weights' generator, never used for calibration):

- **correlation**: the cosine similarity of the two logit vectors after each is
  centred on its mean (Pearson's r). Centring makes it blind to a constant shift,
  which a softmax ignores too: for a network ending in softmax the logits are
  recovered as log-probabilities, known up to such a shift. Reported as the
  minimum and the mean over the images;
- **top-1 agreement**: images whose largest logit is the same class in both;
- **top-5 containment**: images whose int8 top-1 class is among the float top 5.

The weights are synthetic and untrained, so logits are close together and a tiny
error can swap the top class (V3-Large's logits spread less than V1's): top-1
agreement understates how well a trained model would agree, while the correlation
measures the error itself.

One onnxruntime session at a time, deleted before the next is made.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .runner import OptLevel, create_session, session_options

DEFAULT_INPUTS = 16
MEASURE = ("Pearson correlation of logits (cosine similarity of mean-centred logits; "
           "log-probabilities when the network ends in softmax), top-1 agreement and "
           "int8 top-1 within the float top 5, over synthetic standard-normal images")


@dataclass(frozen=True)
class Fidelity:
    images: int
    correlation_min: float
    correlation_mean: float
    top1_agree: int
    top5_contain: int
    measure: str = MEASURE

    def describe(self) -> str:
        return (f"logit correlation min {self.correlation_min:.4f}, mean "
                f"{self.correlation_mean:.4f}; top-1 agreement {self.top1_agree}/"
                f"{self.images}; int8 top-1 in float top-5 {self.top5_contain}/{self.images}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def outputs(model: bytes, inputs: Sequence[Any], *, threads: int = 1) -> Any:
    """The first output of ``model`` for each input, stacked: [images, classes] float64."""
    import numpy as np

    session = create_session(model, session_options(threads, OptLevel.ALL))
    try:
        name = session.get_inputs()[0].name
        rows = [session.run(None, {name: x})[0] for x in inputs]
    finally:
        del session
        gc.collect()
    return np.concatenate([r.reshape(r.shape[0], -1) for r in rows]).astype(np.float64)


def logits(y: Any, softmax: bool) -> Any:
    """Logits, centred per image (probabilities become log-probabilities first)."""
    import numpy as np

    if softmax:
        y = np.log(np.maximum(y, np.finfo(np.float64).tiny))
    return y - y.mean(axis=1, keepdims=True)


def compare(fp32: Any, int8: Any, *, softmax: bool) -> Fidelity:
    """The measure above, from the two models' outputs ([images, classes])."""
    import numpy as np

    a, b = logits(fp32, softmax), logits(int8, softmax)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    corr = np.where(norms > 0, (a * b).sum(axis=1) / np.where(norms > 0, norms, 1), 0.0)
    top_a, top_b = a.argmax(axis=1), b.argmax(axis=1)
    top5 = np.argsort(-a, axis=1)[:, :5]
    return Fidelity(images=len(a), correlation_min=float(corr.min()),
                    correlation_mean=float(corr.mean()),
                    top1_agree=int((top_a == top_b).sum()),
                    top5_contain=int((top5 == top_b[:, None]).any(axis=1).sum()))


def fidelity(fp32_model: bytes, int8_model: bytes, inputs: Sequence[Any], *,
             softmax: bool, threads: int = 1) -> Fidelity:
    """Run both models on ``inputs`` (one session at a time) and compare their outputs."""
    return compare(outputs(fp32_model, inputs, threads=threads),
                   outputs(int8_model, inputs, threads=threads), softmax=softmax)
