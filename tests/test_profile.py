"""course_utils.profile: choosing the "ci" or "full" run profile."""

import dataclasses

import pytest

from course_utils.profile import Profile, get_profile


def test_default_profile_is_full(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    profile = get_profile()
    assert profile == Profile("full")
    assert not profile.is_ci


def test_empty_environment_variable_means_default(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "  ")
    assert get_profile().name == "full"


def test_environment_variable_selects_ci(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    profile = get_profile()
    assert profile.name == "ci"
    assert profile.is_ci


def test_argument_wins_over_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    assert get_profile("full").name == "full"


@pytest.mark.parametrize(("raw", "expected"), [(" CI ", "ci"), ("Ci", "ci"), ("ci\n", "ci"), (" Full", "full")])
def test_names_are_case_and_space_tolerant(raw, expected, monkeypatch):
    assert get_profile(raw).name == expected
    monkeypatch.setenv("COURSE_PROFILE", raw)
    assert get_profile().name == expected


def test_bad_name_argument_is_named(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "ci")  # must not be blamed
    with pytest.raises(ValueError, match="name='fast'"):
        get_profile("fast")


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"\$COURSE_PROFILE='fast'"):
        get_profile()


def test_pick_returns_the_value_for_the_profile():
    assert Profile("ci").pick(ci=2, full=30) == 2
    assert Profile("full").pick(ci=2, full=30) == 30
    sentinel_ci, sentinel_full = object(), object()
    assert Profile("ci").pick(ci=sentinel_ci, full=sentinel_full) is sentinel_ci


def test_pick_takes_keywords_only():
    with pytest.raises(TypeError):
        Profile("ci").pick(2, 30)


@pytest.mark.parametrize("name", ["x", "CI", "", "fast"])
def test_profile_constructor_rejects_unknown_names(name):
    with pytest.raises(ValueError, match="profile name"):
        Profile(name)


def test_profile_is_frozen_and_prints_its_name():
    profile = Profile("ci")
    assert str(profile) == "ci"
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.name = "full"
