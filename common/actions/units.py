"""The built-in unit table (UCUM spellings, as OpenTelemetry uses them): exact ratios between units."""

from __future__ import annotations

from fractions import Fraction

# unit -> (dimension, size in the dimension's base unit)
UNITS: dict[str, tuple[str, Fraction]] = {
    "ns": ("time", Fraction(1, 10**9)),
    "us": ("time", Fraction(1, 10**6)),
    "ms": ("time", Fraction(1, 1000)),
    "s": ("time", Fraction(1)),
    "min": ("time", Fraction(60)),
    "h": ("time", Fraction(3600)),
    "bit": ("size", Fraction(1, 8)),
    "By": ("size", Fraction(1)),
    "KiBy": ("size", Fraction(1024)),
    "MiBy": ("size", Fraction(1024**2)),
    "GiBy": ("size", Fraction(1024**3)),
    "1": ("ratio", Fraction(1)),
    "%": ("ratio", Fraction(1, 100)),
}


def conversion(from_unit: str, to_unit: str) -> Fraction:
    """The factor that turns a value in `from_unit` into `to_unit`; ValueError names what is known."""
    for unit in (from_unit, to_unit):
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; known units: {', '.join(UNITS)} (or use factor)")
    (from_dim, from_size), (to_dim, to_size) = UNITS[from_unit], UNITS[to_unit]
    if from_dim != to_dim:
        raise ValueError(f"cannot convert {from_unit!r} ({from_dim}) to {to_unit!r} ({to_dim})")
    return from_size / to_size
