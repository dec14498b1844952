"""Metrics against scikit-learn on random labels."""

import jax
import numpy as np
import pytest
from sklearn import metrics as skm

from companion.train import accuracy, confusion_matrix, precision_recall_f1, top_k_accuracy

CLASSES = 5
COUNT = 200


@pytest.fixture
def random_labels(key):
    k_true, k_pred, k_logits = jax.random.split(key, 3)
    labels = jax.random.randint(k_true, (COUNT,), 0, CLASSES)
    predictions = jax.random.randint(k_pred, (COUNT,), 0, CLASSES)
    logits = jax.random.normal(k_logits, (COUNT, CLASSES))
    return labels, predictions, logits


def test_accuracy_and_confusion_match_sklearn(random_labels):
    labels, predictions, _ = random_labels
    assert float(accuracy(labels, predictions)) == pytest.approx(skm.accuracy_score(labels, predictions))
    np.testing.assert_array_equal(
        confusion_matrix(labels, predictions, num_classes=CLASSES),
        skm.confusion_matrix(labels, predictions, labels=range(CLASSES)),
    )


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(random_labels, k):
    labels, _, logits = random_labels
    expected = skm.top_k_accuracy_score(labels, logits, k=k, labels=range(CLASSES))
    assert float(top_k_accuracy(labels, logits, k=k)) == pytest.approx(expected)


def test_precision_recall_f1_match_sklearn(random_labels):
    labels, predictions, _ = random_labels
    scores = precision_recall_f1(confusion_matrix(labels, predictions, num_classes=CLASSES))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        labels, predictions, labels=range(CLASSES), zero_division=0
    )
    np.testing.assert_allclose(scores["precision"], precision, rtol=1e-6)
    np.testing.assert_allclose(scores["recall"], recall, rtol=1e-6)
    np.testing.assert_allclose(scores["f1"], f1, rtol=1e-6)
    np.testing.assert_array_equal(scores["support"], support)
    for average in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(
            labels, predictions, labels=range(CLASSES), average=average, zero_division=0
        )
        assert float(scores[f"{average}_precision"]) == pytest.approx(p, rel=1e-5)
        assert float(scores[f"{average}_recall"]) == pytest.approx(r, rel=1e-5)
        assert float(scores[f"{average}_f1"]) == pytest.approx(f, rel=1e-5)


def test_a_class_never_predicted_scores_zero_like_sklearn():
    labels = np.array([0, 0, 1, 2])
    predictions = np.array([0, 0, 0, 2])
    scores = precision_recall_f1(confusion_matrix(labels, predictions, num_classes=3))
    expected = skm.precision_recall_fscore_support(labels, predictions, labels=range(3), zero_division=0)
    np.testing.assert_allclose(scores["precision"], expected[0], rtol=1e-6)
    np.testing.assert_allclose(scores["f1"], expected[2], rtol=1e-6)


def test_metric_errors_name_the_shapes():
    with pytest.raises(ValueError, match="labels must have shape"):
        accuracy(np.zeros(3, np.int32), np.zeros(4, np.int32))
    with pytest.raises(ValueError, match="k must lie"):
        top_k_accuracy(np.zeros(3, np.int32), np.zeros((3, 2), np.float32), k=3)
    with pytest.raises(ValueError, match=r"\(K, K\)"):
        precision_recall_f1(np.zeros((2, 3), np.int32))
