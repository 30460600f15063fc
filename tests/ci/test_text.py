"""Triage's normalisation, distances and clustering, against its own vectors."""

from __future__ import annotations

import re
from typing import Any

from kubesift.ci import text
from tests.conftest import vector_cases


def test_normalize_vectors(vectors: dict[str, Any]) -> None:
    for raw, expected in vector_cases(vectors, "triage_normalize", "cases", at_least=7):
        assert text.normalize(raw) == expected, raw


def test_normalize_truncates_and_dedupes_long_output() -> None:
    long = "foobarbaz " * 500_000
    assert text.normalize(long) == long[:5000] + text.TRUNCATED + long[:5000]
    lines = "\n".join(["same line"] * 3000)
    assert text.normalize(lines) == "same line"


def test_map_contents_are_sorted() -> None:
    assert text.normalize("got map[b:2 a:1]") == text.normalize("got map[a:1 b:2]")


def test_distance_vectors(vectors: dict[str, Any]) -> None:
    d = vectors["triage_distance"]
    for a, b, want in vector_cases(d, "ngram_edit_dist"):
        assert text.ngram_distance(a, b) == want
    for a, b, want in vector_cases(d, "edit_dist", at_least=2):
        assert text.edit_distance(a, b) == want
    for s, want in vector_cases(d, "digest_sha1_of_ngram_counts_first20"):
        assert text.ngram_digest(s) == want
    for texts, want in vector_cases(d, "common_spans"):
        assert text.common_spans(texts) == want
    assert text.common_spans(["a problem with a common set", "a common set"]) == [2, 7, 1, 4, 13]


def test_cluster_vectors(vectors: dict[str, Any]) -> None:
    for case in vector_cases(vectors, "triage_distance", "clusters", at_least=3):
        clusters = text.cluster(case["texts"])
        assert (len(clusters) == 1) is case["same_cluster"]


def test_the_same_failure_on_other_pods_clusters_together() -> None:
    texts = [
        'pod "web-7mhpx" failed: dial tcp 10.0.0.12:443: timeout at Mon, 12 January 2026 11:34:35',
        'pod "web-9zzk2" failed: dial tcp 10.0.3.99:443: timeout at Tue, 13 January 2026 09:00:01',
        "expected 3 replicas, got 2",
        "expected 3 replicas, got 1",  # one edit in 26 characters: Triage merges these
        "timed out waiting for the condition",
    ]
    clusters = text.cluster(texts)
    assert sorted(sorted(c.members) for c in clusters) == [[0, 1], [2, 3], [4]]
    assert clusters[0].id == text.ngram_digest(clusters[0].key)


def test_a_search_from_one_failure_keeps_what_its_occurrences_share() -> None:
    one = 'pod "bxkqm" in namespace "e2e-tests-4821" failed: container "app" exited with code 137'
    two = 'pod "mnqrs" in namespace "e2e-tests-1102" failed: container "app" exited with code 137'
    pattern = text.search_pattern(one, [two])
    assert (
        pattern
        == 'pod ".*?" in namespace "e2e-tests-.*?" failed: container "app" exited with code 137'
    )
    third = 'pod "zzzzz" in namespace "e2e-tests-7" failed: container "app" exited with code 137'
    assert all(re.search(pattern, t) for t in (one, two, third))
    alone = text.search_pattern(
        'Get "https://10.1.2.3:6443/api": dial tcp 10.1.2.3:6443: i/o timeout'
    )
    assert alone == 'Get "https://.*?api": dial tcp .*?: i/o timeout'  # no digits, no IP pieces
    long = "word " * 100
    assert len(text.search_pattern(long)) <= text.SEARCH_CHARS + 10
    assert text.search_pattern(long).endswith("word")  # whole tokens, never cut mid-word
    assert text.search_pattern("(a) [b]") == r"\(a\) \[b\]"
    assert text.search_pattern("\n\n") == ""
