"""How much the codes know about the labels they never saw: a linear probe and k-nearest
neighbours on frozen codes, and unsupervised clustering accuracy (k-means on the codes, each
cluster matched to a class by the Hungarian algorithm; Makhzani et al. 2015, Sec. 6 and
Table 3, report the error of the same matching, with their categorical code as the clusters)."""

from __future__ import annotations

import numpy as np
from torch import Tensor


def _np(t: Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def clustering_accuracy(clusters: np.ndarray, labels: np.ndarray) -> float:
    """Best accuracy over one-to-one matchings of cluster ids to labels (Hungarian algorithm);
    with more clusters than classes, the unmatched clusters count as errors."""
    from scipy.optimize import linear_sum_assignment

    clusters, labels = np.asarray(clusters), np.asarray(labels)
    _, c = np.unique(clusters, return_inverse=True)
    _, y = np.unique(labels, return_inverse=True)
    counts = np.zeros((c.max() + 1, y.max() + 1), dtype=np.int64)
    np.add.at(counts, (c, y), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(labels))


def code_probes(
    train_codes: Tensor,
    train_labels: Tensor,
    test_codes: Tensor,
    test_labels: Tensor,
    k_neighbours: int = 5,
    n_clusters: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """``probe_linear_acc`` (multinomial logistic regression on standardised codes),
    ``probe_knn_acc`` (``k_neighbours``-NN, Euclidean) and ``cluster_acc`` (k-means with
    ``n_clusters``, default the number of classes, Hungarian-matched) on the test codes."""
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xtr, ytr, xte, yte = (_np(train_codes), _np(train_labels), _np(test_codes), _np(test_labels))
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    knn = KNeighborsClassifier(n_neighbors=k_neighbours)
    k = n_clusters or len(np.unique(ytr))
    clusters = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(xtr).predict(xte)
    return {
        "probe_linear_acc": float(linear.fit(xtr, ytr).score(xte, yte)),
        "probe_knn_acc": float(knn.fit(xtr, ytr).score(xte, yte)),
        "cluster_acc": clustering_accuracy(clusters, yte),
    }
