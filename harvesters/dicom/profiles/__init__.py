"""De-identification profiles as data: `basic-1.yaml` is the DICOM PS3.15 Basic Application
Level Confidentiality Profile for metadata extraction. `load_profile` reads and checks one.

A profile lists what must never be copied (Table E.1-1 and more), the allow-list of attributes a
`CleanHeader` is built from, the identifiers screened out of free text, and the date rules.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydicom.datadict import dictionary_VR, keyword_dict, tag_for_keyword

from catalogue.errors import ConfigurationError
from harvesters.dicom.header import CleanHeader

DEFAULT_PROFILE = "basic-1.yaml"
Kind = Literal["text", "code", "codes", "uid", "count", "number", "tesla"]

PN_TAGS = frozenset(tag for tag in keyword_dict.values() if dictionary_VR(tag) == "PN")
# CleanHeader fields the de-identifier derives itself; an allow rule cannot fill them.
DERIVED = frozenset(
    {"profile", "subject", "study", "series", "sex", "age_years", "study_year", "contrast_agent"}
)


@dataclass(frozen=True)
class ProfileAttribute:
    keyword: str
    tag: int
    action: str  # PS3.15 action code (D, Z, X, U, "X/Z", ...); we never copy any of them


@dataclass(frozen=True)
class AllowRule:
    field: str  # the CleanHeader field it fills
    kind: Kind
    sources: tuple[tuple[int, bool], ...]  # (tag, is a sequence), first present value wins


@dataclass(frozen=True)
class Profile:
    version: str
    removed: tuple[ProfileAttribute, ...]
    allow: tuple[AllowRule, ...]
    screen_tags: frozenset[int]  # values redacted from allowed text: screen_sources + every PN
    remove_vrs: frozenset[str]
    reference_dates: tuple[int, ...]
    age_cap_years: float
    max_shift_days: int
    max_text_chars: int

    @functools.cached_property
    def removed_tags(self) -> frozenset[int]:
        return frozenset(a.tag for a in self.removed)


def load_profile(path: Path | str | None = None) -> Profile:
    """The profile in `path`, or the bundled default; `ConfigurationError` if it is invalid."""
    if path is None:
        return _default_profile()
    return _parse_profile(Path(path).read_text(encoding="utf-8"), str(path))


@functools.cache
def _default_profile() -> Profile:
    text = resources.files(__name__).joinpath(DEFAULT_PROFILE)
    return _parse_profile(text.read_text(encoding="utf-8"), DEFAULT_PROFILE)


def _parse_profile(text: str, where: str) -> Profile:
    try:
        return _build_profile(yaml.safe_load(text))
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigurationError(f"de-identification profile {where} is invalid: {exc}") from exc


def _build_profile(data: dict[str, Any]) -> Profile:
    version, rules = data["version"], data["rules"]
    if not isinstance(version, str) or not version.strip():
        raise ValueError("version must be a non-empty string")
    removed = tuple(_attribute(e) for e in [*data["remove"], *data.get("remove_extra", [])])
    remove_vrs = frozenset(str(vr) for vr in rules["remove_vrs"])
    allow = tuple(_allow_rule(name, spec) for name, spec in data["allow"].items())
    _check_allow(allow, removed, remove_vrs)
    profile = Profile(
        version=version,
        removed=removed,
        allow=allow,
        screen_tags=frozenset(_tag(k) for k in data["screen_sources"]) | PN_TAGS,
        remove_vrs=remove_vrs,
        reference_dates=tuple(_tag(k) for k in rules["reference_dates"]),
        age_cap_years=float(rules["age_cap_years"]),
        max_shift_days=int(rules["max_shift_days"]),
        max_text_chars=int(rules["max_text_chars"]),
    )
    if profile.max_shift_days < 1 or profile.age_cap_years <= 0 or profile.max_text_chars < 64:
        raise ValueError("max_shift_days, age_cap_years and max_text_chars must be positive")
    return profile


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise ValueError(f"unknown DICOM keyword {keyword!r}")
    return tag


def _attribute(entry: dict[str, str]) -> ProfileAttribute:
    keyword, tag = entry["keyword"], int(entry["tag"].replace(",", ""), 16)
    if _tag(keyword) != tag:
        raise ValueError(f"{keyword} is not ({entry['tag']})")
    return ProfileAttribute(keyword, tag, str(entry["action"]))


def _allow_rule(name: str, spec: dict[str, Any]) -> AllowRule:
    fields = {f.name for f in dataclasses.fields(CleanHeader)}
    if name not in fields or name in DERIVED:
        raise ValueError(f"allow: {name} is not a copyable CleanHeader field")
    if spec["kind"] not in get_args(Kind):
        raise ValueError(f"allow: {name} has an unknown kind")
    tags = [_tag(k) for k in spec["keywords"]]
    return AllowRule(name, spec["kind"], tuple((t, dictionary_VR(t) == "SQ") for t in tags))


def _check_allow(
    allow: Iterable[AllowRule], removed: Iterable[ProfileAttribute], remove_vrs: frozenset[str]
) -> None:
    """Names, dates and times are never copied; any other attribute the profile removes may be
    copied only as screened text (the Clean Descriptors Option)."""
    removed_tags = {a.tag for a in removed}
    for rule in allow:
        for tag, _ in rule.sources:
            if dictionary_VR(tag) in remove_vrs:
                raise ValueError(f"allow: {rule.field} would copy a {dictionary_VR(tag)} value")
            if tag in removed_tags and rule.kind != "text":
                raise ValueError(f"allow: {rule.field} copies a removed attribute unscreened")
