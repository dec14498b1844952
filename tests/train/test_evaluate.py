"""evaluate and predict: batched, batch-size independent, consistent with scikit-learn."""

import numpy as np
import pytest
from sklearn import metrics as skm

from companion.train import evaluate, predict


def test_evaluate_matches_sklearn_on_predictions(data, make_model):
    model = make_model()
    images, labels = data
    result = evaluate(model, data, batch_size=10, top_k=2)
    predicted = predict(model, images, batch_size=7)
    assert result["num_examples"] == len(labels)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(labels, predicted))
    np.testing.assert_array_equal(
        result["confusion_matrix"], skm.confusion_matrix(labels, predicted, labels=range(3))
    )
    f1 = skm.f1_score(labels, predicted, labels=range(3), average="macro", zero_division=0)
    assert result["macro_f1"] == pytest.approx(f1, rel=1e-5)
    assert result["top_k"] == 2 and result["top_k_accuracy"] >= result["accuracy"]


def test_evaluate_does_not_depend_on_the_batch_size(data, make_model):
    model = make_model()
    small, large = evaluate(model, data, batch_size=7), evaluate(model, data, batch_size=1000)
    np.testing.assert_array_equal(small["confusion_matrix"], large["confusion_matrix"])
    assert small["loss"] == pytest.approx(large["loss"], rel=1e-5)


def test_evaluate_rejects_bad_data(data, make_model):
    images, labels = data
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        evaluate(make_model(), (images, labels + 3))
    with pytest.raises(ValueError, match="channels"):
        evaluate(make_model(), (np.repeat(images, 2, axis=-1), labels))


def test_repeated_calls_reuse_the_compiled_programs(data, make_model):
    import importlib

    evaluate_module = importlib.import_module("companion.train.evaluate")  # the module, not the function
    evaluator_cache = evaluate_module._compiled_evaluator
    predictor_cache = evaluate_module._compiled_predictor
    model = make_model()
    evaluate(model, data)
    predict(model, data[0])
    hits = evaluator_cache.cache_info().hits, predictor_cache.cache_info().hits
    evaluate(model, data)
    predict(model, data[0])
    assert evaluator_cache.cache_info().hits == hits[0] + 1
    assert predictor_cache.cache_info().hits == hits[1] + 1
