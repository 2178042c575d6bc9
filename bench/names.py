"""Hungarian and Polish name pools, accent folding, name keys and bank renderings of names."""

from __future__ import annotations

import random
import re
import unicodedata


def _words(text: str) -> tuple[str, ...]:
    """Return the space-separated words of ``text`` (keeps the name pools compact)."""
    return tuple(text.split())


HU_SURNAMES = _words(
    "Nagy Kovács Tóth Szabó Horváth Varga Kiss Molnár Németh Farkas Balogh Papp Takács Juhász Lakatos "
    "Mészáros Oláh Simon Rácz Fekete Szilágyi Török Fehér Balázs Gál Kis Szűcs Kocsis Pintér Fodor Szalai "
    "Sipos Magyar Lukács Gulyás Biró Király Katona László Jakab Bogdán Sándor Boros Fazekas Kelemen Antal "
    "Orosz Somogyi Fülöp Veres Budai Vincze Hegedűs Deák Bálint Illés Pál Vass Szőke Fábián Vörös Lengyel "
    "Bognár Jónás Szekeres Hajdu Halász Máté Székely Gáspár Kozma Pásztor Bakos Dudás Major Virág Hegyi Orbán "
    "Barta Kun Szénási Vida Csonka Berki Kántor Dobos Gergely Bencze Sárközi Vadász Benkő Szűts Kardos "
    "Csizmadia Bodnár Ambrus Nemes Pap Rigó Soós Vigh Erdős Mohácsi"
)
HU_MALE = _words(
    "László István József János Zoltán Sándor Gábor Ferenc Attila Péter Tamás Zsolt Tibor András Csaba Imre "
    "Lajos György Balázs Róbert Dávid Bence Máté Ádám Dániel Levente Gergő Norbert Krisztián Márk Viktor "
    "Roland Szabolcs Miklós Árpád Géza Károly Benedek Botond Kristóf"
)
HU_FEMALE = _words(
    "Mária Erzsébet Katalin Éva Ilona Anna Zsuzsanna Margit Judit Ágnes Andrea Erika Krisztina Mónika Edit "
    "Gabriella Szilvia Anita Eszter Réka Nóra Zsófia Dóra Hanna Lili Boglárka Petra Viktória Kinga Orsolya "
    "Emese Tímea Beáta Enikő Ildikó Rita Veronika Henrietta Noémi Flóra"
)
PL_SURNAMES = _words(
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski "
    "Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek Piotrowski Grabowski Zając "
    "Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Nowakowski Majewski Olszewski Stępień Malinowski "
    "Jaworski Adamczyk Dudek Nowicki Pawlak Górski Witkowski Walczak Sikora Baran Rutkowski Michalak Szewczyk "
    "Ostrowski Tomaszewski Pietrzak Zalewski Wróblewski Jasiński Marciniak Bąk Zawadzki Sadowski Jakubowski "
    "Duda Włodarczyk Chmielewski Borkowski Sokołowski Szczepański Sawicki Lis Kucharski Kalinowski Wysocki "
    "Mazurek Kubiak Maciejewski Czarnecki Kołodziej Urbański Kaźmierczak Sobczak Konieczny Głowacki "
    "Zakrzewski Krajewski Błaszczyk Wilk Sowa Gajewski Szulc"
)
PL_MALE = _words(
    "Jan Piotr Krzysztof Andrzej Tomasz Paweł Michał Marcin Marek Grzegorz Józef Łukasz Adam Zbigniew Jerzy "
    "Tadeusz Mateusz Dariusz Mariusz Wojciech Ryszard Jakub Kamil Maciej Rafał Sebastian Bartosz Damian "
    "Szymon Przemysław Artur Robert Karol Hubert Dawid Filip Patryk Konrad Wiktor Stanisław"
)
PL_FEMALE = _words(
    "Anna Maria Katarzyna Małgorzata Agnieszka Barbara Ewa Krystyna Magdalena Elżbieta Joanna Aleksandra "
    "Monika Zofia Teresa Danuta Natalia Karolina Marta Beata Dorota Julia Halina Jadwiga Alicja Iwona Grażyna "
    "Renata Justyna Paulina Weronika Patrycja Sylwia Edyta Urszula Wiktoria Oliwia Kinga Emilia"
)

HU_ROOTS = _words(
    "Alfa Béta Delta Duna Tisza Balaton Mátra Bükk Pannon Hungária Kárpát Napfény Zöld Arany Ezüst Tölgy "
    "Fenyő Kristály Gránit Szivárvány Főnix Csillag Patak Forrás Mező Híd Torony Sas Sólyom Turul Szarvas "
    "Medve Nyír Hárs Akác Platán Juhar Cédrus Dráva Rába Maros Körös Zala Somló Tokaj Villány Hegyalja Alföld "
    "Bakony Pilis Gemenc Hortobágy Sió Kapos Zemplén Mecsek Börzsöny Vértes Gerecse Cserhát"
)
HU_ACTIVITIES = (
    "Építőipari",
    "Kereskedelmi",
    "Szolgáltató",
    "Informatikai",
    "Könyvelő",
    "Fuvarozó",
    "Vendéglátó",
    "Ingatlanforgalmazó",
    "Gépészeti",
    "Villamossági",
    "Kereskedelmi és Szolgáltató",
    "Tanácsadó",
    "Nyomdaipari",
    "Logisztikai",
    "Mezőgazdasági",
    "Egészségügyi",
    "Marketing",
    "Autószerviz",
    "Asztalosipari",
    "Takarítási",
    "Biztonságtechnikai",
    "Mérnöki",
    "Oktatási",
    "Kertészeti",
)
PL_SYLL1 = _words(
    "Pol Bud Trans Agro Elektro Drew Metal Inter Euro Tech Eko Med Auto Ster Kom Hydro Termo Stal Bio Info "
    "Mega Multi Prod Serw Wod Gaz Dom Las Rol Tex"
)
PL_SYLL2 = _words("mex pol bud tex med plast serwis trans kom net soft tech gaz dom rol car lux max san")
PL_ACTIVITIES = (
    "Usługi Budowlane",
    "Handel i Usługi",
    "Transport Krajowy",
    "Instalacje Sanitarne",
    "Biuro Rachunkowe",
    "Usługi Remontowe",
    "Hurtownia",
    "Serwis Komputerowy",
    "Projektowanie",
    "Doradztwo",
    "Zakład Stolarski",
)
FOREIGN_ROOTS = _words("Nordlicht Vantaa Brightwater Solvik Aurelia Ostrand Kestrel Marlowe Tavira Lindholm")
FOREIGN_FORMS = ("GmbH", "AB", "Ltd", "s.r.o.", "B.V.", "Oy")

# Legal forms: id -> (country, form on invoices, spelled out, bank abbreviations).
LEGAL_FORMS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "kft": ("HU", "Kft.", "Korlátolt Felelősségű Társaság", ("KFT", "KFT.", "Kft")),
    "bt": ("HU", "Bt.", "Betéti Társaság", ("BT", "BT.")),
    "zrt": ("HU", "Zrt.", "Zártkörűen Működő Részvénytársaság", ("ZRT", "ZRT.")),
    "nyrt": ("HU", "Nyrt.", "Nyilvánosan Működő Részvénytársaság", ("NYRT", "NYRT.")),
    "kkt": ("HU", "Kkt.", "Közkereseti Társaság", ("KKT", "KKT.")),
    "ev": ("HU", "e.v.", "egyéni vállalkozó", ("EV", "E.V.")),
    "spzoo": ("PL", "Sp. z o.o.", "Spółka z ograniczoną odpowiedzialnością", ("SP. Z O.O.", "SP Z OO", "SPZOO")),
    "sa": ("PL", "S.A.", "Spółka Akcyjna", ("S.A.", "SA")),
    "spj": ("PL", "sp.j.", "Spółka Jawna", ("SP.J.", "SP J", "SPJ")),
    "spk": ("PL", "sp.k.", "Spółka Komandytowa", ("SP.K.", "SP K")),
}
HU_COMPANY_FORMS = (("kft", 70), ("bt", 15), ("zrt", 8), ("nyrt", 1), ("kkt", 2))
PL_COMPANY_FORMS = (("spzoo", 66), ("sa", 8), ("spj", 14), ("spk", 6))

HU_CITIES = _words("Budapest Debrecen Szeged Miskolc Pécs Győr Nyíregyháza Kecskemét Székesfehérvár Szolnok")
PL_CITIES = _words("Warszawa Kraków Łódź Wrocław Poznań Gdańsk Szczecin Lublin Katowice Białystok")
PL_STREETS = _words("Lipowa Polna Leśna Słoneczna Krótka Szkolna Ogrodowa Kwiatowa Długa Kościuszki")
HU_MONTHS = _words("január február március április május június július augusztus szeptember október november december")
PL_MONTHS = _words("styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień")

_FOLD_MAP = str.maketrans(
    "áéíóöőúüűÁÉÍÓÖŐÚÜŰąćęłńśźżĄĆĘŁŃŚŹŻäÄ",
    "aeiooouuuAEIOOOUUUacelnszzACELNSZZaA",
)
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Return ``text`` lower-cased with Hungarian and Polish accents removed (``Łódź`` → ``lodz``)."""
    out = text.translate(_FOLD_MAP)
    if not out.isascii():
        out = unicodedata.normalize("NFKD", out).encode("ascii", "ignore").decode()
    return out.lower()


def strip_accents(text: str) -> str:
    """Return ``text`` with accents removed but case kept, as many banks print names."""
    out = text.translate(_FOLD_MAP)
    if not out.isascii():
        out = unicodedata.normalize("NFKD", out).encode("ascii", "ignore").decode()
    return out


def _legal_suffixes() -> list[tuple[str, ...]]:
    seqs: set[tuple[str, ...]] = set()
    for _, short, spelled, bank in LEGAL_FORMS.values():
        for form in (short, spelled, *bank):
            seqs.add(tuple(_WORD.findall(fold(form))))
    return sorted(seqs, key=len, reverse=True)


_LEGAL_SUFFIXES = _legal_suffixes()


def name_tokens(name: str) -> tuple[str, ...]:
    """Return the sorted tokens that identify a name: folded, legal form dropped, order ignored.

    Two names with equal tokens are the same payer to any reasonable engine
    (``KOVACS JANOS`` = ``Kovács János``, ``ALFA KFT`` = ``Alfa Korlátolt Felelősségű Társaság``).
    """
    words = _WORD.findall(fold(name))
    for suffix in _LEGAL_SUFFIXES:
        n = len(suffix)
        if len(words) > n and tuple(words[-n:]) == suffix:
            words = words[:-n]
            break
    return tuple(sorted(words))


def person(rng: random.Random, country: str) -> tuple[str, str]:
    """Return a random (given name, family name) pair, Polish family names in the right gender."""
    female = rng.random() < 0.45
    if country == "HU":
        return rng.choice(HU_FEMALE if female else HU_MALE), rng.choice(HU_SURNAMES)
    family = rng.choice(PL_SURNAMES)
    if female:
        for male_end, female_end in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
            if family.endswith(male_end):
                family = family[: -len(male_end)] + female_end
                break
    return rng.choice(PL_FEMALE if female else PL_MALE), family


def person_name(given: str, family: str, country: str) -> str:
    """Return a person's name in the country's order: ``Kovács János`` but ``Jan Kowalski``."""
    return f"{family} {given}" if country == "HU" else f"{given} {family}"


def company_core(rng: random.Random, country: str) -> str:
    """Return a random company name without its legal form (``Duna Építőipari``, ``Polmex``)."""
    r = rng.random()
    if country == "HU":
        if r < 0.6:
            return f"{rng.choice(HU_ROOTS)} {rng.choice(HU_ACTIVITIES)}"
        if r < 0.8:
            return f"{rng.choice(HU_ROOTS)}-{rng.choice(HU_ROOTS)}"
        return f"{rng.choice(HU_SURNAMES)} és Társa"
    if r < 0.55:
        return rng.choice(PL_SYLL1) + rng.choice(PL_SYLL2)
    if r < 0.75:
        return f"{rng.choice(PL_SYLL1)}-{rng.choice(PL_SYLL1)}"
    if r < 0.9:
        return f"P.H.U. {rng.choice(PL_SYLL1)}{rng.choice(PL_SYLL2)}"
    return f"{rng.choice(PL_SURNAMES)} i Syn"


def foreign_company(rng: random.Random) -> str:
    """Return a company name that no generated partner can have (used for unknown payers)."""
    return f"{rng.choice(FOREIGN_ROOTS)} {rng.choice(('Trading', 'Systems', 'Partners', 'Nordic'))} " + rng.choice(
        FOREIGN_FORMS
    )


def legal_rendering(legal: str, rng: random.Random, max_len: int | None = None, core: str = "") -> str:
    """Return the legal form as a bank might print it: as on the invoice, abbreviated or spelled out.

    With ``max_len`` the choice keeps ``core + " " + form`` within that length, falling
    back to the shortest abbreviation.
    """
    _, short, spelled, bank = LEGAL_FORMS[legal]
    options = [short, short, *bank, spelled]
    choice = rng.choice(options)
    if max_len is not None and len(core) + 1 + len(choice) > max_len:
        choice = min((short, *bank), key=len)
    return choice


def bank_name(
    p_kind: str,
    country: str,
    core: str,
    legal: str,
    given: str,
    family: str,
    rng: random.Random,
    clean: bool,
) -> str:
    """Return a partner's name the way a bank statement prints the counterparty.

    Upper case and dropped accents are common, the legal form may be abbreviated
    or spelled out, person names may come in either order. Unless ``clean``,
    the field is cut at 35 characters and Polish banks may append the address;
    a clean rendering only varies accents, case, legal form and name order.
    """
    if p_kind == "person":
        reverse = rng.random() < (0.2 if country == "HU" else 0.4)
        text = person_name(given, family, country)
        if reverse:
            text = f"{given} {family}" if country == "HU" else f"{family} {given}"
    else:
        base = core
        if p_kind == "sole" and not clean and rng.random() < 0.3:
            # Sole traders often bank under their own name only, without the trade name.
            base = f"{given} {family}" if country == "HU" else f"{family} {given}"
        if legal and (clean or rng.random() < 0.9):
            text = f"{base} {legal_rendering(legal, rng, 35 if clean else None, base)}"
        else:
            text = base
    r = rng.random()
    if r < 0.6:
        text = strip_accents(text).upper()
    elif r < 0.75:
        text = text.upper()
    if clean:
        return text
    if country == "PL" and rng.random() < 0.25:
        street = strip_accents(rng.choice(PL_STREETS)).upper()
        city = strip_accents(rng.choice(PL_CITIES)).upper()
        postcode = f"{rng.randint(10, 99)}-{rng.randint(100, 999)}"
        text = f"{text[:35].rstrip()} UL. {street} {rng.randint(1, 99)} {postcode} {city}"
        return text[:70].rstrip()
    return text[:35].rstrip()
