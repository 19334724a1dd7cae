"""Known defects of Go releases in plugin loading, kept as data in ``advisories.json`` beside this module.

Each entry names its Go issue, the releases it affects (ranges per minor release: ``introduced`` up to
``fixed``, exclusive, or ``last_affected``, inclusive), the release that fixes it, and what the user sees.
Every entry was verified by running Go's own regression test from ``cmd/cgo/internal/testplugin`` with
affected and fixed releases (``scripts/verify_advisories.sh``; the run is recorded in
``docs/advisories-verification.txt``). The file is validated when it is loaded: a malformed entry is a bug
in soinspect, so it raises ``ValueError`` rather than being skipped.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from typing import Any

from soinspect._frozen import frozen

_RELEASE = re.compile(r"^go(\d+)\.(\d+)(?:\.(\d+))?$")


def parse_release(version: str) -> tuple[int, int, int] | None:
    """``go1.27.1`` -> (1, 27, 1); ``go1.27`` -> (1, 27, 0); None for anything else (devel, rc, beta)."""
    m = _RELEASE.match(version)
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


@frozen
class AffectedRange:
    introduced: str
    fixed: str | None  # the first release of the line without the defect (exclusive end)
    last_affected: str | None  # the last release known to have it, when no fixed release is known

    def contains(self, release: tuple[int, int, int]) -> bool:
        lo = parse_release(self.introduced)
        assert lo is not None
        if release < lo:
            return False
        if self.fixed is not None:
            hi = parse_release(self.fixed)
            assert hi is not None
            return release < hi
        last = parse_release(self.last_affected or "")
        assert last is not None
        return release <= last


@frozen
class Advisory:
    id: str  # "golang/go#81303"
    url: str
    title: str
    user_sees: str
    affected: tuple[AffectedRange, ...]
    #: the earliest release known to be fixed, to build with
    fixed_in: str
    #: which runtime matters: the process's (the host's) for a defect in the runtime
    side: str
    #: how the entry was verified: Go's test, and the releases it ran with
    test: str
    verified_affected: tuple[str, ...]
    verified_fixed: tuple[str, ...]
    #: releases of other lines where the test passes (the defect was never there)
    verified_unaffected: tuple[str, ...] = ()

    def affects(self, version: str) -> bool:
        release = parse_release(version)
        return release is not None and any(r.contains(release) for r in self.affected)


def _str(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"advisories.json: {entry.get('id', '?')}: {key!r} must be a non-empty string")
    return value


def _release(entry: dict[str, Any], value: object, what: str) -> str:
    if not isinstance(value, str) or parse_release(value) is None:
        raise ValueError(f"advisories.json: {entry.get('id', '?')}: {what} {value!r} is not a Go release (go1.N.M)")
    return value


def _releases(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    values = entry.get("verification", {}).get(key)
    if not isinstance(values, list) or not values:
        raise ValueError(f"advisories.json: {entry.get('id', '?')}: verification.{key} must list releases")
    return tuple(_release(entry, v, f"verification.{key}") for v in values)


def parse(data: dict[str, Any]) -> tuple[Advisory, ...]:
    """Validate and build the advisories; ValueError names the entry and the field that is wrong."""
    entries = data.get("advisories")
    if not isinstance(entries, list):
        raise ValueError("advisories.json: 'advisories' must be a list")
    out = []
    for e in entries:
        if not isinstance(e, dict):
            raise ValueError("advisories.json: every advisory is an object")
        ranges = []
        for r in e.get("affected") or []:
            intro = _release(e, r.get("introduced"), "introduced")
            fixed = _release(e, r["fixed"], "fixed") if r.get("fixed") is not None else None
            last = _release(e, r["last_affected"], "last_affected") if r.get("last_affected") is not None else None
            if (fixed is None) == (last is None):
                raise ValueError(f"advisories.json: {e.get('id')}: each range has exactly one of fixed, last_affected")
            end = parse_release(fixed or last or "")
            lo = parse_release(intro)
            assert end is not None and lo is not None
            if end < lo or (fixed is not None and end == lo):
                raise ValueError(f"advisories.json: {e.get('id')}: range {intro}..{fixed or last} is empty")
            ranges.append(AffectedRange(intro, fixed, last))
        if not ranges:
            raise ValueError(f"advisories.json: {e.get('id')}: 'affected' must list at least one range")
        side = _str(e, "side")
        if side not in ("host", "plugin", "both"):
            raise ValueError(f"advisories.json: {e.get('id')}: side must be host, plugin or both")
        adv = Advisory(
            id=_str(e, "id"),
            url=_str(e, "url"),
            title=_str(e, "title"),
            user_sees=_str(e, "user_sees"),
            affected=tuple(ranges),
            fixed_in=_release(e, e.get("fixed_in"), "fixed_in"),
            side=side,
            test=_str(e.get("verification", {}), "test"),
            verified_affected=_releases(e, "affected"),
            verified_fixed=_releases(e, "fixed"),
            verified_unaffected=_releases(e, "unaffected") if "unaffected" in e.get("verification", {}) else (),
        )
        # the data must agree with its own verification record
        for v in adv.verified_affected:
            if not adv.affects(v):
                raise ValueError(f"advisories.json: {adv.id}: verified affected {v} is outside the affected ranges")
        for v in adv.verified_fixed + adv.verified_unaffected:
            if adv.affects(v):
                raise ValueError(f"advisories.json: {adv.id}: verified fixed {v} is inside the affected ranges")
        if adv.affects(adv.fixed_in):
            raise ValueError(f"advisories.json: {adv.id}: fixed_in {adv.fixed_in} is inside the affected ranges")
        out.append(adv)
    return tuple(out)


@cache
def advisories() -> tuple[Advisory, ...]:
    """The advisories shipped with soinspect (validated once per process)."""
    # beside this module in every install (package data); importlib.resources would cost a cold start its
    # zipfile and email imports for one file read
    with open(os.path.join(os.path.dirname(__file__), "advisories.json"), encoding="utf-8") as fh:
        text = fh.read()
    return parse(json.loads(text))


def affecting(version: str) -> tuple[Advisory, ...]:
    """The advisories that affect Go release *version* (the base version, e.g. ``go1.27.1``)."""
    return tuple(a for a in advisories() if a.affects(version))
