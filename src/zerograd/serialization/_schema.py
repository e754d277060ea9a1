"""The checkpoint header's schema: one entry per section (``SECTIONS``), each checking its
known fields, their types and ranges; ``check_meta`` checks a whole header."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from zerograd.serialization._archive import CheckpointError

FORMAT = "zerograd-checkpoint"
VERSION = 1
RNG_KIND = "MT19937"
RNG_WORDS = 624


def _show(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _fail(field: str, found: Any, expected: str) -> CheckpointError:
    return CheckpointError(f"header field {field!r} is {_show(found)}; expected {expected}")


def _is_int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _is_real(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _check_object(value: Any, field: str, fields: Mapping[str, bool]) -> None:
    """``value`` is a JSON object with the ``fields`` marked True and no others."""
    if not isinstance(value, dict):
        raise _fail(field, value, f"an object with the fields {sorted(fields)}")
    unknown = sorted(k for k in value if k not in fields)
    if unknown:
        raise CheckpointError(
            f"unknown header field(s) {[f'{field}.{k}'.lstrip('.') for k in unknown]}; "
            f"expected only {sorted(fields)}"
        )
    missing = sorted(k for k, required in fields.items() if required and k not in value)
    if missing:
        raise CheckpointError(
            f"missing header field(s) {[f'{field}.{k}'.lstrip('.') for k in missing]}"
        )


def _check_format(value: Any, field: str) -> None:
    if value != FORMAT:
        raise _fail(field, value, f"{FORMAT!r}: the file is not a zerograd checkpoint")


def _check_version(value: Any, field: str) -> None:
    if _is_int(value, VERSION + 1, 2**63):
        raise CheckpointError(
            f"a version {value} checkpoint; this zerograd reads version {VERSION} and older"
        )
    if not _is_int(value, 1, VERSION):
        raise _fail(field, value, f"an integer from 1 to {VERSION}")


def _check_optimizer(value: Any, field: str) -> None:
    """The optimizer's class and scalars; the optimizer itself checks names and ranges."""
    _check_object(value, field, {"class": True, "hyper": True, "counters": True})
    name = value["class"]
    if not (isinstance(name, str) and name.isidentifier() and len(name) <= 100):
        raise _fail(f"{field}.class", name, "an optimizer's class name")
    for part in ("hyper", "counters"):
        scalars = value[part]
        if not isinstance(scalars, dict):
            raise _fail(f"{field}.{part}", scalars, "an object of named scalars")
        for key, v in scalars.items():
            if part == "counters" and not _is_int(v, 0, 2**63 - 1):
                raise _fail(f"{field}.{part}.{key}", v, "a non-negative integer")
            if part == "hyper" and not (
                _is_real(v) or isinstance(v, bool) or v is None or isinstance(v, str)
            ):
                raise _fail(f"{field}.{part}.{key}", v, "a finite number (or a flag)")


def _check_rng(value: Any, field: str) -> None:
    _check_object(
        value, field, dict.fromkeys(("kind", "pos", "has_gauss", "cached_gaussian"), True)
    )
    if value["kind"] != RNG_KIND:
        raise _fail(f"{field}.kind", value["kind"], repr(RNG_KIND))
    if not _is_int(value["pos"], 0, RNG_WORDS):
        raise _fail(f"{field}.pos", value["pos"], f"an integer from 0 to {RNG_WORDS}")
    if not _is_int(value["has_gauss"], 0, 1):
        raise _fail(f"{field}.has_gauss", value["has_gauss"], "0 or 1")
    if not _is_real(value["cached_gaussian"]):
        raise _fail(f"{field}.cached_gaussian", value["cached_gaussian"], "a finite number")


def _check_extra(value: Any, field: str) -> None:
    if not isinstance(value, dict):  # any JSON inside (size and depth bounded by parse_json)
        raise _fail(field, value, "an object (the extra dict given to save)")


def _check_scheduler(value: Any, field: str) -> None:
    if not isinstance(value, dict):  # the scheduler's own check_state_dict reads the rest
        raise _fail(field, value, "an object (a learning-rate scheduler's state_dict)")


# One entry per section of the header: (required, check). A new section (a learning-rate
# scheduler's state...) is one more entry here.
SECTIONS: dict[str, tuple[bool, Callable[[Any, str], None]]] = {
    "format": (True, _check_format),
    "version": (True, _check_version),
    "optimizer": (False, _check_optimizer),
    "rng": (False, _check_rng),
    "scheduler": (False, _check_scheduler),
    "extra": (True, _check_extra),
}


def check_meta(meta: Any) -> None:
    """Raise ``CheckpointError`` unless ``meta`` is a valid checkpoint header."""
    if not isinstance(meta, dict):
        raise _fail("", meta, "a JSON object")
    _check_format(meta.get("format"), "format")  # first: what kind of file this is
    _check_version(meta.get("version"), "version")  # then: can this zerograd read it
    _check_object(meta, "", {k: required for k, (required, _) in SECTIONS.items()})
    for key, value in meta.items():
        SECTIONS[key][1](value, key)
