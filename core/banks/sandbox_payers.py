"""Data and small pure helpers of the sandbox bank: seeded dice, IBANs, names, remittance texts.

Everything here is deterministic from its inputs. Names and texts follow Hungarian
and Polish banking habits (upper-cased names without accents, ``szla`` and ``FV``
prefixes, tax offices, utilities); none of them carries digits that could pass
for an invoice number.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class Dice:
    """Choices seeded by text, the same in every process and every Python version.

    Only ``Random.random()`` is used, whose sequence Python keeps stable for a
    given seed (``choice``/``randint`` may change between versions).
    """

    def __init__(self, *seed: object) -> None:
        self._rng = random.Random("\x1f".join(str(part) for part in seed))

    def random(self) -> float:
        """Return a float in [0, 1)."""
        return self._rng.random()

    def below(self, n: int) -> int:
        """Return an int in [0, n)."""
        return min(int(self._rng.random() * n), n - 1)

    def between(self, low: int, high: int) -> int:
        """Return an int in [low, high]."""
        return low + self.below(high - low + 1)

    def pick(self, options: Sequence[T]) -> T:
        """Return one of ``options``."""
        return options[self.below(len(options))]

    def chance(self, p: float) -> bool:
        """Return True with probability ``p``."""
        return self._rng.random() < p


# -- account numbers ------------------------------------------------------------------------------

_HU_BANKS = ("117", "104", "107", "120", "109", "116", "101")
_PL_BANKS = ("1020", "1140", "1050", "1090", "1240", "1160")


def _weighted_check(digits: str, weights: tuple[int, ...]) -> str:
    total = sum(int(d) * weights[i % len(weights)] for i, d in enumerate(digits))
    return str((10 - total % 10) % 10)


def _with_iban_check(country: str, bban: str) -> str:
    letters = "".join(str(ord(c) - ord("A") + 10) for c in country)
    check = 98 - int(bban + letters + "00") % 97
    return f"{country}{check:02d}{bban}"


def hu_iban(dice: Dice) -> str:
    """Return a Hungarian IBAN whose GIRO number (8+16 digits) also has valid check digits."""
    head = dice.pick(_HU_BANKS) + f"{dice.below(10_000):04d}"
    head += _weighted_check(head, (9, 7, 3, 1))
    body = f"{dice.below(10**8):08d}{dice.below(10**7):07d}"
    body += _weighted_check(body, (9, 7, 3, 1))
    return _with_iban_check("HU", head + body)


def pl_iban(dice: Dice) -> str:
    """Return a Polish IBAN (NRB) whose sort code has a valid check digit."""
    sort = dice.pick(_PL_BANKS) + f"{dice.below(1000):03d}"
    sort += _weighted_check(sort, (3, 9, 7, 1, 3, 9, 7))
    return _with_iban_check("PL", sort + f"{dice.below(10**8):08d}{dice.below(10**8):08d}")


def iban_for(country: str, *seed: object) -> str:
    """Return the IBAN of ``country`` (HU or PL; others get a Hungarian one) that ``seed`` always gives."""
    dice = Dice("iban", country, *seed)
    return pl_iban(dice) if country == "PL" else hu_iban(dice)


# -- names as banks print them --------------------------------------------------------------------


def strip_accents(text: str) -> str:
    """Return ``text`` without accents (``Łódź`` → ``Lodz``), case kept."""
    text = text.replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def printed_name(name: str, dice: Dice) -> str:
    """Return ``name`` as a bank prints a counterparty: often upper-cased without accents, cut at 35."""
    r = dice.random()
    if r < 0.55:
        name = strip_accents(name).upper()
    elif r < 0.75:
        name = name.upper()
    return name[:35].rstrip()


# -- remittance texts -----------------------------------------------------------------------------

_LETTER_PREFIX = re.compile(r"[A-Za-z]+[\s./\-_]*")
_DIGIT_RUN = re.compile(r"\d+")
_YEAR = re.compile(r"(?:19|20)\d\d")


def sloppy_number(number: str, dice: Dice) -> str:
    """Return ``number`` typed carelessly: lower case, letter prefix dropped, other separators, no zeros.

    A prefix is dropped only when what remains still tells the number apart
    (letters, or three significant digits besides a year).
    """
    choice = dice.below(4)
    if choice == 1 and (rest := _without_prefix(number)):
        return rest
    if choice == 2 and re.search(r"[/\-.]", number):
        return re.sub(r"[/\-.]+", dice.pick([s for s in (" ", ".", "/") if s not in number] or [" "]), number)
    if choice == 3 and re.search(r"(?<!\d)0+[1-9]", number):
        return re.sub(r"(?<!\d)0+(?=[1-9])", "", number)
    return number.lower()


def _without_prefix(number: str) -> str:
    m = _LETTER_PREFIX.match(number)
    if m is None or m.end() == len(number):
        return ""
    rest = number[m.end() :]
    if any(c.isalpha() for c in rest):
        return rest if len(rest) >= 5 else ""
    runs = _DIGIT_RUN.findall(rest)
    significant = sum(len(r.lstrip("0")) for r in runs if not _YEAR.fullmatch(r))
    return rest if len(runs) >= 2 and significant >= 3 else ""


def fill(template: str, **values: str) -> str:
    """Return ``template`` with ``{key}`` replaced by the values, spaces tidied."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return " ".join(template.split())


# ``{r}`` an invoice number as written, ``{n}`` the payer's name, ``{p}`` the partner paid for.
SINGLE = {
    "HU": (
        "{r}",
        "Számla: {r}",
        "számla {r}",
        "szla {r}",
        "SZLA.: {r}",
        "{r} számla",
        "{r} sz. számla kiegyenlítése",
        "{r} számla ellenértéke",
        "Számlaszám: {r}",
        "SZLA {r} {n}",
        "Közlemény: {r}",
    ),
    "PL": (
        "{r}",
        "Faktura nr {r}",
        "zapłata za FV {r}",
        "FV {r}",
        "Faktura VAT nr {r}",
        "Płatność za fakturę {r}",
        "Przelew za fakturę nr {r}",
        "Tytułem: {r}",
        "zapłata faktury {r} {n}",
    ),
    "EN": ("Invoice {r}", "INV {r}", "Payment invoice {r}", "Rechnung {r}", "{r}"),
}
MULTI = {
    "HU": ("Számlák: {l}", "szla {l}", "{l}", "{l} számlák kiegyenlítése"),
    "PL": ("Faktury: {l}", "FV {l}", "zapłata za faktury {l}", "Faktury nr {l}"),
    "EN": ("Invoices {l}", "INV {l}", "{l}"),
}
JOINERS = {"HU": (", ", " + ", "; ", " és "), "PL": (", ", " + ", "; ", " i "), "EN": (", ", " + ", " and ")}
PARTIAL = {
    "HU": ("{r} 1. részlet", "{r} részfizetés", "Számla {r} - részlet"),
    "PL": ("{r} rata 1", "Faktura {r} - częściowa płatność", "{r} zaliczka"),
    "EN": ("Invoice {r} part payment", "{r} instalment 1"),
}
REST = {
    "HU": ("{r} 2. részlet", "{r} hátralék", "Számla {r} fennmaradó rész"),
    "PL": ("{r} rata 2", "Faktura {r} - dopłata", "{r} reszta"),
    "EN": ("Invoice {r} balance", "{r} instalment 2"),
}
ON_BEHALF = {
    "HU": ("{p} részére, számla {r}", "{r} / {p}", "Szla {r} ({p} megbízásából)"),
    "PL": ("Za {p} FV {r}", "{r} w imieniu {p}", "Faktura {r} - {p}"),
    "EN": ("Invoice {r} on behalf of {p}", "{r} / {p}"),
}
NO_REF = {
    "HU": ("", "Átutalás", "utalás", "{n}", "Szolgáltatási díj", "Köszönjük", "Egyenleg rendezése"),
    "PL": ("", "Przelew", "Płatność", "{n}", "zapłata", "Przelew środków", "Należność"),
    "EN": ("", "Payment", "Transfer", "{n}"),
}
E2E_TEXT = {"HU": ("Átutalás", "utalás", ""), "PL": ("Przelew", "Płatność", ""), "EN": ("Payment", "")}

# Who pays for a partner now and then: its accountant or a sister company.
ACCOUNTANTS = {
    "HU": ("Számadó Könyvelőiroda Kft.", "Pontos Mérleg Bt.", "Ledger-Pannon Számviteli Zrt."),
    "PL": ("Biuro Rachunkowe Bilans Sp. z o.o.", "Kancelaria Podatkowa Rachmistrz", "Księgowa Plus s.c."),
    "EN": ("Alpine Treasury Services GmbH", "Northbridge Payments Ltd"),
}

# -- daily noise ----------------------------------------------------------------------------------

MONTHS = {
    "HU": tuple(
        "január február március április május június július augusztus szeptember október november december".split()
    ),
    "PL": tuple(
        "styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień".split()
    ),
}
CITIES = {
    "HU": ("BUDAPEST", "DEBRECEN", "SZEGED", "GYOR", "PECS", "KECSKEMET", "SZEKESFEHERVAR"),
    "PL": ("WARSZAWA", "KRAKOW", "WROCLAW", "POZNAN", "GDANSK", "LODZ", "KATOWICE"),
}
MERCHANTS = {
    "HU": ("TESCO", "SPAR", "ALDI", "LIDL", "MOL", "OMV", "SHELL", "IKEA", "MEDIA MARKT", "ROSSMANN", "OBI", "PENNY"),
    "PL": ("BIEDRONKA", "ZABKA", "LIDL", "ORLEN", "CARREFOUR", "LEROY MERLIN", "CASTORAMA", "ROSSMANN", "ALLEGRO"),
    "EN": ("AMAZON EU SARL", "BOOKING.COM", "GOOGLE IRELAND", "LINKEDIN", "ADOBE SYSTEMS", "MICROSOFT IRELAND"),
}
CARD = {
    "HU": ("POS vásárlás {m} {c}", "Kártyás vásárlás {m}", "VÁSÁRLÁS KÁRTYÁVAL {m} {c}", "Bankkártya {m} {c}"),
    "PL": ("Płatność kartą {m} {c}", "Zakup przy użyciu karty {m}", "BLIK {m} {c}", "Transakcja kartą {m}"),
    "EN": ("Card payment {m}", "POS {m}", "Kártyás vásárlás {m}"),
}
BANK_NAME = {"HU": "SANDBOX BANK ZRT.", "PL": "SANDBOX BANK POLSKA S.A."}
ACCOUNT_FEES = {
    "HU": ("Számlavezetési díj", "Csomagdíj", "Tranzakciós illeték"),
    "PL": ("Opłata za prowadzenie rachunku", "Opłata miesięczna", "Opłata za kartę"),
    "EN": ("Számlavezetési díj", "Account maintenance fee"),
}
SALARY = {"HU": ("Munkabér {mon}", "Bér {mon}", "Fizetés {mon}"), "PL": ("Wynagrodzenie za {mon}", "Pensja {mon}")}
# (payee, text, low, high) in whole currency units; the amount varies month by month.
TAXES = {
    "HU": (
        ("NAV SZJA BESZEDESI SZAMLA", "SZJA és járulékok {mon}", 180_000, 900_000),
        ("NAV ALTALANOS FORGALMI ADO", "Áfa befizetés {mon}", 150_000, 2_500_000),
    ),
    "PL": (
        ("ZAKLAD UBEZPIECZEN SPOLECZNYCH", "Składki ZUS za {mon}", 1_600, 9_000),
        ("URZAD SKARBOWY", "PIT-4R zaliczka {mon}", 800, 6_000),
        ("URZAD SKARBOWY", "VAT za {mon}", 1_500, 25_000),
    ),
}
UTILITIES = {
    "HU": (
        ("MVM NEXT ENERGIAKERESKEDELMI ZRT.", "Villamosenergia díj {mon}", 18_000, 95_000),
        ("MAGYAR TELEKOM NYRT.", "Telefon és internet {mon}", 9_000, 32_000),
        ("FOVAROSI VIZMUVEK ZRT.", "Vízdíj {mon}", 4_000, 21_000),
        ("DUNA-IRODAHAZ KFT.", "Irodabérlet {mon}", 280_000, 280_000),
    ),
    "PL": (
        ("PGE OBROT S.A.", "Energia elektryczna {mon}", 250, 1_400),
        ("ORANGE POLSKA S.A.", "Abonament {mon}", 90, 350),
        ("MPWIK", "Woda i ścieki {mon}", 60, 400),
        ("BIUROWIEC LIPOWA SP. Z O.O.", "Czynsz za biuro {mon}", 3_200, 3_200),
    ),
}
EMPLOYEES = {
    "HU": ("Kovács Anna", "Nagy Péter", "Szabó Eszter", "Tóth Gergely", "Varga Lili", "Farkas Bence"),
    "PL": ("Anna Nowak", "Piotr Kowalski", "Katarzyna Wójcik", "Tomasz Mazur", "Julia Lis", "Kamil Sowa"),
}
# Money in that no invoice explains: refunds, deposits, a tenant, insurance.
STRAY_INCOME = {
    "HU": (
        ("GENERALI BIZTOSITO ZRT.", "Kárrendezés"),
        ("Bodrogi Gizella", "Kaució visszautalás"),
        ("Lendvai Ottokár", "Kölcsön visszafizetés"),
        ("ALLIANZ HUNGARIA ZRT.", "Díjvisszatérítés"),
        ("Kazinczy Vilma", "Bérleti díj"),
    ),
    "PL": (
        ("PZU S.A.", "Odszkodowanie"),
        ("Ziemowit Chrobry", "Zwrot kaucji"),
        ("Bożydar Sienkiewicz", "Zwrot pożyczki"),
        ("WARTA S.A.", "Zwrot składki"),
        ("Eugenia Przybylska", "Najem lokalu"),
    ),
    "EN": (("Stripe Payments Europe", "Payout"), ("PAYPAL EUROPE", "Refund"), ("Wise Europe SA", "Refund")),
}
