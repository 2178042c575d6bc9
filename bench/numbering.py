"""Invoice numbering series, and the ways people write an invoice number in a transfer.

Own series (several at once, on purpose with near-collisions such as
``E-KERT-2025-1`` / ``-12`` / ``-120``):

* Hungarian: ``E-KERT-2025-123`` (Számlázz.hu e-invoice), ``KRT-2025-00123``,
  ``2025-000123`` (Billingo), proformas ``D-KERT-2025-12``;
* Polish: ``FV 12/05/2025``, ``FA/2025/05/0012`` (Fakturownia), proformas
  ``PRO/2025/05/0012``, credit notes ``KOR/2025/05/0003``, advances ``FZAL/…``.

Suppliers number their bills in their own styles, and small suppliers'
numbers repeat across suppliers (``12/2025``).
"""

from __future__ import annotations

import random
import re

OWN_HU_SERIES = ("E", "S", "B")  # invoice series a Hungarian workspace uses side by side
OWN_PL_SERIES = ("FV", "FA")


def own_number(series: str, year: int, month: int, seq: int, code: str, code2: str) -> str:
    """Return the number ``seq`` of one of the workspace's own series (see the module docstring)."""
    if series == "E":
        return f"E-{code}-{year}-{seq}"
    if series == "S":
        return f"{code2}-{year}-{seq:05d}"
    if series == "B":
        return f"{year}-{seq:06d}"
    if series == "D":
        return f"D-{code}-{year}-{seq}"
    if series == "FV":
        return f"FV {seq}/{month:02d}/{year}"
    return f"{series}/{year}/{month:02d}/{seq:04d}"  # FA, PRO, KOR, FZAL


def supplier_number(country: str, style: int, code: str, year: int, month: int, seq: int) -> str:
    """Return a supplier's bill number in one of six common styles of its country."""
    if country == "HU":
        return (
            f"{year}-{seq:06d}",
            f"E-{code}-{year}-{seq}",
            f"{code}-{year}-{seq:05d}",
            f"{seq}/{year}",
            f"SZ-{year}/{seq:04d}",
            f"{code}{year % 100:02d}-{seq:05d}",
        )[style]
    return (
        f"FV {seq}/{month:02d}/{year}",
        f"FV/{seq}/{year}",
        f"{seq}/{month:02d}/{year}",
        f"F/{year}/{seq:05d}",
        f"FS {seq}/{year}",
        f"{code}/{seq}/{year}",
    )[style]


_RUN = re.compile(r"[A-Za-z0-9]+")
_SEPARATORS = ("-", "/", ".", " ", "")
# People drop only this prefix word when they copy a number; the detector in
# bench.refindex is more liberal on purpose (it also drops FA).
DROPPABLE = "FV"


def split_runs(number: str) -> tuple[list[str], list[str]]:
    """Return the alphanumeric runs of ``number`` and the separators between them."""
    runs = [m.group() for m in _RUN.finditer(number)]
    seps = [s for s in _RUN.split(number)[1:-1]]
    return runs, seps


def write_number(number: str, rng: random.Random, plain: bool = False) -> tuple[str, list[str]]:
    """Return ``number`` as a payer might type it, and tags naming the variations applied.

    Variations: the ``FV`` prefix dropped; every separator replaced by ``-``,
    ``/``, ``.``, a space or nothing; leading zeros dropped; lower case. At most
    two of the first three at once, and never no separators together with a
    dropped prefix or dropped zeros: ``12052025`` or ``KRT2025123`` is no longer
    something a person would recognise as an invoice number. ``plain`` returns
    the number unchanged.
    """
    if plain:
        return number, []
    runs, seps = split_runs(number)
    tags: list[str] = []
    lead_fv = runs[0].upper() == DROPPABLE
    if lead_fv and len(runs) > 2 and rng.random() < 0.3:
        runs, seps, lead_fv = runs[1:], seps[1:], False
        tags.append("noprefix")
    if rng.random() < 0.45:
        sep = rng.choice(_SEPARATORS[:-1] if tags else _SEPARATORS)
        tags.append("sep" + {"-": "dash", "/": "slash", ".": "dot", " ": "space", "": "none"}[sep])
        seps = [sep] * len(seps)
        if lead_fv:
            seps[0] = rng.choice((" ", ""))
    zeros = any(r.isdigit() and r[0] == "0" and len(r) > 1 for r in runs)
    if len(tags) < 2 and "sepnone" not in tags and zeros and rng.random() < 0.3:
        runs = [str(int(r)) if r.isdigit() else r for r in runs]
        tags.append("nozeros")
    text = runs[0] + "".join(s + r for s, r in zip(seps, runs[1:], strict=True))
    if rng.random() < 0.2:
        text = text.lower()
        tags.append("lower")
    return text, tags


def typos(number: str) -> list[str]:
    """Return numbers one slip away from ``number``: a digit changed, swapped, dropped or added.

    Only sequence digits are touched, never a four-digit year; callers keep the
    candidates that name another existing invoice.
    """
    out: list[str] = []
    for m in _RUN.finditer(number):
        run = m.group()
        if not run.isdigit() or (len(run) == 4 and run.startswith("20")):
            continue
        a, b = m.start(), m.end()
        head, tail = number[:a], number[b:]
        last = int(run[-1])
        out.append(head + run[:-1] + str((last + 1) % 10) + tail)
        out.append(head + run[:-1] + str((last - 1) % 10) + tail)
        if len(run) > 1 and run[-1] != run[-2]:
            out.append(head + run[:-2] + run[-1] + run[-2] + tail)
        if len(run) > 1:
            out.append(head + run[:-1] + tail)
        out.append(head + run + str((last + 3) % 10) + tail)
    return [t for t in out if t != number]
