"""Run profiles: "ci" (tiny sizes, seconds per chapter) and "full" (what readers get).

Every chapter runs the same code under both; only sizes and step counts differ, and each
chapter chooses them with ``profile.pick(ci=..., full=...)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

PROFILE_ENV = "COURSE_PROFILE"  # COURSE_PROFILE=ci for the fast smoke run
PROFILES = ("ci", "full")
DEFAULT_PROFILE = "full"

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    name: str  # "ci" (tests and CI) or "full" (readers and `make book`)

    def __post_init__(self):
        if self.name not in PROFILES:
            raise ValueError(f"profile name={self.name!r}: expected one of {', '.join(PROFILES)}")

    @property
    def is_ci(self) -> bool:
        return self.name == "ci"

    def pick(self, *, ci: T, full: T) -> T:
        """The value for this profile: ``epochs = profile.pick(ci=2, full=30)``."""
        return ci if self.is_ci else full

    def __str__(self) -> str:
        return self.name


def get_profile(name: str | None = None) -> Profile:
    """The profile named by ``name``, else by $COURSE_PROFILE, else "full"."""
    if name is None:
        name = os.environ.get(PROFILE_ENV, "").strip() or DEFAULT_PROFILE
        source = f"${PROFILE_ENV}"
    else:
        source = "name"
    name = str(name).strip().lower()
    if name not in PROFILES:
        raise ValueError(f"{source}={name!r}: expected one of {', '.join(PROFILES)}")
    return Profile(name)
