"""The timing model: boosted oblivious trees, checked against a plain tree walk and
against functions whose values are known."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnprof.predict.model import Trees, fit, predict


def walk(model: Trees, row: np.ndarray) -> float:
    """One row through every tree, level by level: the definition, written plainly."""
    total = model.base
    for t in range(model.features.shape[0]):
        leaf = 0
        for d in range(model.features.shape[1]):
            leaf = 2 * leaf + int(row[model.features[t, d]] > model.thresholds[t, d])
        total += model.leaves[t, leaf]
    return total


def test_vectorised_prediction_equals_the_tree_walk():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, (300, 5))
    y = np.sin(x[:, 0]) + x[:, 1] * x[:, 2] / 10
    model = fit(x, y, trees=20, depth=4)
    test = rng.uniform(-1, 11, (50, 5))
    assert np.allclose(predict(model, test), [walk(model, r) for r in test])


def test_a_step_function_is_learned_exactly():
    x = np.arange(200, dtype=float).reshape(-1, 1)
    y = np.where(x[:, 0] < 73, 1.0, 5.0)          # one split at 72.5 fits it
    model = fit(x, y, trees=200, depth=1, rate=0.5, l2=0.0)
    assert np.allclose(predict(model, np.array([[0.0], [72.0], [73.0], [199.0]])),
                       [1, 1, 5, 5], atol=1e-6)


def test_smooth_function_error_shrinks_with_data():
    rng = np.random.default_rng(2)

    def rmse(n: int) -> float:
        x = rng.uniform(0, 8, (n, 3))
        y = np.log2(1 + x[:, 0] * x[:, 1])
        test = rng.uniform(0, 8, (500, 3))
        truth = np.log2(1 + test[:, 0] * test[:, 1])
        return float(np.sqrt(np.mean((predict(fit(x, y, trees=150), test) - truth) ** 2)))

    small, large = rmse(100), rmse(3000)
    assert large < small and large < 0.15


def test_round_trip_through_json_keeps_every_number():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (100, 4))
    model = fit(x, x.sum(axis=1), trees=5, depth=3)
    again = Trees.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.array_equal(predict(again, x), predict(model, x))


def test_inconsistent_arrays_are_refused():
    with pytest.raises(ValueError, match="inconsistent"):
        Trees.from_dict({"base": 0, "features": [[0, 1]], "thresholds": [[0.5, 0.5]],
                         "leaves": [[0, 0, 0]]})


def test_a_constant_feature_gives_no_split():
    x = np.ones((50, 2))
    model = fit(x, np.arange(50, dtype=float), trees=3, depth=2)
    assert np.allclose(predict(model, x), np.arange(50).mean())


def test_the_power_law_carries_past_the_training_range():
    """Trees alone are flat outside what they saw; the power law keeps scaling."""
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 10, (400, 2))
    y = 1.0 * x[:, 0] + 0.5 * x[:, 1] + 3            # log2 time of work 2^x0 * 2^(x1/2)
    far = np.array([[14.0, 12.0]])
    with_law = fit(x, y, trees=50, linear=(0, 1))
    assert predict(with_law, far)[0] == pytest.approx(14 + 6 + 3, abs=0.05)
    assert predict(fit(x, y, trees=50), far)[0] < 19       # trees stop at the edge
    again = Trees.from_dict(json.loads(json.dumps(with_law.to_dict())))
    assert np.array_equal(predict(again, far), predict(with_law, far))
