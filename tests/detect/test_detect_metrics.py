"""AP and mAP@0.5: hand-computed cases, a brute-force integral of the interpolated curve."""

import numpy as np
import pytest

from companion.detect import average_precision, match_detections, mean_average_precision


def brute_force_ap(scores, hits, num_truth, grid=100_000):
    """Integrate the interpolated precision p(r) = max{P_k : R_k >= r} over r in [0, 1] numerically."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.cumsum(np.asarray(hits)[order])
    recall = tp / num_truth
    precision = tp / np.arange(1, len(order) + 1)
    r = (np.arange(grid) + 0.5) / grid  # midpoints of the grid cells
    reached = recall[None, :] >= r[:, None]
    interpolated = np.where(reached, precision[None, :], 0.0).max(axis=1)
    return interpolated.mean()


def test_ap_hand_computed_without_interpolation_effect():
    # TP FP TP FP TP, 3 objects: 1/3 * (1 + 2/3 + 3/5)
    assert average_precision([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 1], 3) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_ap_interpolation_raises_precision_to_the_best_later_value():
    # TP FP FP TP TP: precisions 1, 1/2, 1/3, 1/2, 3/5; the dip at the second object is raised to 3/5
    assert average_precision([5, 4, 3, 2, 1], [1, 0, 0, 1, 1], 3) == pytest.approx((1 + 0.6 + 0.6) / 3)


def test_ap_edge_cases():
    assert average_precision([], [], 2) == 0.0
    assert average_precision([0.5], [True], 1) == 1.0
    assert np.isnan(average_precision([0.5], [False], 0))
    assert average_precision([0.9, 0.1], [False, True], 1) == pytest.approx(0.5)  # found late
    with pytest.raises(ValueError, match="num_truth"):
        average_precision([0.5, 0.4], [True, True], 1)


@pytest.mark.parametrize("seed", range(4))
def test_ap_matches_brute_force_integral(seed):
    rng = np.random.default_rng(seed)
    count = 40
    hits = rng.uniform(size=count) < 0.5
    num_truth = int(hits.sum()) + 3  # some objects never found
    scores = rng.permutation(count).astype(float)
    assert average_precision(scores, hits, num_truth) == pytest.approx(brute_force_ap(scores, hits, num_truth),
                                                                      abs=1e-4)


def test_matching_is_greedy_by_score_and_one_to_one():
    truth = [[0, 0, 10, 10], [20, 20, 30, 30]]
    boxes = [[0, 0, 10, 10], [0, 0, 10, 9], [20, 20, 30, 30], [50, 50, 60, 60]]
    hits = match_detections(boxes, [0.5, 0.9, 0.8, 0.7], truth)
    # the 0.9 box takes object 0, so the identical 0.5 box is a duplicate
    assert hits.tolist() == [False, True, True, False]
    # IoU just below the threshold is a miss
    assert match_detections([[0, 0, 10, 4]], [1.0], [[0, 0, 10, 10]], iou_threshold=0.5).tolist() == [False]


def test_map_two_images_two_classes():
    truths = [
        (np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([0, 1])),
        (np.array([[0, 0, 10, 10]]), np.array([0])),
    ]
    detections = [
        (np.array([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]]), np.array([0.9, 0.8, 0.3]), np.array([0, 0, 1])),
        (np.array([[1, 1, 10, 10]]), np.array([0.7]), np.array([0])),
    ]
    result = mean_average_precision(detections, truths, num_classes=3)
    # class 0: scores 0.9 TP, 0.8 FP (wrong place for class 0), 0.7 TP; 2 objects: 1/2 * 1 + 1/2 * 2/3
    # class 1: one detection at 0.3 in the wrong place: AP 0; class 2: no objects -> nan, left out
    assert result["ap"][0] == pytest.approx(0.5 + 1 / 3)
    assert result["ap"][1] == 0.0
    assert np.isnan(result["ap"][2])
    assert result["map"] == pytest.approx((0.5 + 1 / 3) / 2)
    assert result["num_truth"].tolist() == [2, 1, 0]


def test_perfect_detections_give_map_one_and_empty_images_are_fine():
    truths = [(np.array([[0, 0, 5, 5]]), np.array([2])), (np.zeros((0, 4)), np.zeros(0, int))]
    detections = [(np.array([[0, 0, 5, 5]]), np.array([0.5]), np.array([2])), (np.zeros((0, 4)), [], [])]
    assert mean_average_precision(detections, truths, num_classes=3)["map"] == 1.0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same images"):
        mean_average_precision([], [(np.zeros((0, 4)), [])], num_classes=1)
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 2\)"):
        mean_average_precision([([[0, 0, 1, 1]], [0.5], [5])], [([[0, 0, 1, 1]], [0])], num_classes=2)
    with pytest.raises(ValueError, match=r"shape \(K, 4\)"):
        match_detections([[0, 0, 1]], [0.5], [[0, 0, 1, 1]])
