"""A transcription of the released IWBF `optimize.py` (LSIbabnikz/Optimization-Based-Improvement-of-FIQA-Techniques,
src/iterative_optimization/optimize.py), written from reading it, for `test_distill.py` only.

Same algorithm and the same arithmetic, with three changes that make it testable:
- inputs are in-memory dicts instead of pickle files (quality {sample: q}, embeddings {sample: vector},
  clusters {identity: {cluster_id: [samples]}} as `clustering_helper.py` writes them);
- the partner draw `random.choice(cluster_samples_)` is a callable `choice(iteration, sample, cluster_id_, cluster_samples_)`,
  so a test can replay the draws of another implementation;
- `list(set(genuine_pairs))` (hash order, not reproducible for pairs of equal cosine, e.g. (a, b) and (b, a)) becomes
  `sorted(set(genuine_pairs))`: equal cosines are then ordered by (sample1, sample2).
"""
import numpy as np


def cosine_similarity(v1, v2):
    return np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2))


def create_genuine_pairs(clusters, embeddings, choice, iteration):
    pairs = []
    for identity, id_clusters in clusters.items():
        for cluster_id, cluster_samples in id_clusters.items():
            for sample in cluster_samples:
                for other_id, other_samples in id_clusters.items():
                    if other_id == cluster_id: continue
                    gp = choice(iteration, sample, other_id, other_samples)
                    pairs.append((sample, gp, cosine_similarity(embeddings[sample], embeddings[gp])))
    return sorted(set(pairs))


def calculate_indexes(quality, clusters, embeddings, choice, iteration):
    genuine_pairs = create_genuine_pairs(clusters, embeddings, choice, iteration)
    quality_data = list(quality.items())
    quality_data.sort(key=lambda x: x[1])
    quality_indices = {sample: i for i, (sample, _) in enumerate(quality_data)}
    genuine_pairs.sort(key=lambda x: x[2])
    sample_gp_indices = {}
    for i, (s1, s2, _) in enumerate(genuine_pairs):
        low = s1 if quality_indices[s1] < quality_indices[s2] else s2
        sample_gp_indices.setdefault(low, []).append(i)
    sample_gp_indices = {k: sum(v) / len(v) for k, v in sample_gp_indices.items()}
    return quality_indices, sample_gp_indices, quality_data


def optimize(quality, clusters, embeddings, choice, epsilon=0.001, iterations=10):
    final_quality, quality_distribution = {}, None
    for it in range(iterations):
        quality_indices, sample_gp_indices, quality_distribution = calculate_indexes(quality, clusters, embeddings, choice, it)
        for sample, q_index in quality_indices.items():
            final_quality.setdefault(sample, []).append(
                q_index + epsilon * (sample_gp_indices[sample] - q_index) if sample in sample_gp_indices else q_index)
    final_quality = [(k, sum(v) / len(v)) for k, v in final_quality.items()]
    final_quality.sort(key=lambda x: x[1])
    return {sample: q for ((sample, _), (_, q)) in zip(final_quality, quality_distribution)}
