"""Column maps of the bank exports we read, one ``Profile`` per bank and format.

No real K&H or mBank CSV, nor a new-style OTP XLSX, was available while writing these: the
profiles are built from the documented headers (third-party parsers and bank format notes,
see ``shared/reference/providers.md`` B6), and the fixtures in ``tests/fixtures/statements``
were made to match them. Check them against a real export before relying on the details
marked *assumed* below.
"""

from __future__ import annotations

from reconbot.core.statements.tables import Column, Profile

KH_CSV = Profile(
    format="csv-kh",
    title="K&H Bank CSV export",
    columns=(
        Column("booking_date", ("Könyvelés dátuma", "Könyvelési dátum"), required=True),
        Column("value_date", ("Értéknap",)),
        Column("id", ("Tranzakció azonosító", "Tranzakcióazonosító")),
        Column("type", ("Típus",)),
        Column("account_iban", ("Könyvelési számla",)),
        Column("counterparty_iban", ("Partner számla", "Partner számlaszáma")),
        Column("counterparty_name", ("Partner elnevezése", "Partner neve")),
        # Assumed signed (negative = debit), as in the exports the third-party parsers read.
        Column("amount", ("Összeg",), required=True),
        Column("currency", ("Összeg devizaneme", "Deviza")),
        Column("reference", ("Közlemény",)),
    ),
    date_formats=("%Y.%m.%d.", "%Y.%m.%d", "%Y-%m-%d", "%Y%m%d"),
)

MBANK_CSV = Profile(
    format="csv-mbank",
    title="mBank CSV export",
    columns=(
        Column("operation_date", ("#Data operacji",), required=True),
        Column("booking_date", ("#Data księgowania",), required=True),
        Column("type", ("#Opis operacji",)),
        Column("reference", ("#Tytuł",)),
        Column("counterparty_name", ("#Nadawca/Odbiorca",)),
        Column("counterparty_iban", ("#Numer konta",)),
        Column("amount", ("#Kwota",), required=True),
        Column("balance", ("#Saldo po operacji",)),
    ),
    date_formats=("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"),
    # Assumed layout of the preamble: a "#Waluta" / "#Numer rachunku" label over its value.
    preamble={"currency": "#Waluta", "account_iban": "#Numer rachunku"},
    summary_marker="#",
)

# The new OTP netbank export names only its first two headers in the sources we have; the
# others are matched by likely names and otherwise by their documented position.
OTP_XLSX = Profile(
    format="xlsx-otp",
    title="OTP Bank XLSX export",
    columns=(
        Column("account_iban", ("Számlaszám",), required=True, position=0),
        Column("counterparty_iban", ("Ellenoldali számlaszám",), required=True, position=1),
        Column("counterparty_name", ("Ellenoldali név", "Ellenoldali neve", "Partner neve"), position=2),
        Column("type", ("Tranzakció típusa", "Típus", "Megnevezés"), position=3),
        Column("reference", ("Közlemény",), position=4),
        Column("category", ("Kategória",), position=5),
        Column("id", ("Tranzakció azonosító", "Banki tranzakció azonosító", "Azonosító"), position=6),
        Column("transaction_time", ("Tranzakció időpontja", "Tranzakció dátuma"), position=7),
        Column("booking_date", ("Könyvelés dátuma", "Könyvelési dátum"), position=8),
        Column("amount", ("Összeg",), position=9),
        Column("currency", ("Pénznem", "Devizanem", "Deviza"), position=10),
    ),
    date_formats=("%Y-%m-%d", "%Y.%m.%d.", "%Y.%m.%d"),
    skip_unbooked=True,
)

CSV_PROFILES = (KH_CSV, MBANK_CSV)
