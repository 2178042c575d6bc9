"""Every sentence the bot says, in English, Hungarian and Polish, and amounts in the reader's format.

A plain catalogue rather than gettext files: three languages, a hundred short strings, and a test
(tests/chat/test_texts.py) checks that every key exists in every language with the same placeholders.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reconbot.core.money import format_money

LANGUAGES = ("en", "hu", "pl")

TEXTS: dict[str, dict[str, str]] = {
    # Notifications
    "paid.title": {
        "en": "Payment received: {amount} from {payer}",
        "hu": "Befizetés érkezett: {amount}, befizető: {payer}",
        "pl": "Otrzymano płatność: {amount} od {payer}",
    },
    "partial.title": {
        "en": "Partial payment: {amount} from {payer}",
        "hu": "Részfizetés: {amount}, befizető: {payer}",
        "pl": "Częściowa płatność: {amount} od {payer}",
    },
    "over.title": {
        "en": "Overpayment: {amount} from {payer}",
        "hu": "Túlfizetés: {amount}, befizető: {payer}",
        "pl": "Nadpłata: {amount} od {payer}",
    },
    "double.title": {
        "en": "Possible double payment: {amount} from {payer}",
        "hu": "Lehetséges dupla fizetés: {amount}, befizető: {payer}",
        "pl": "Możliwa podwójna płatność: {amount} od {payer}",
    },
    "unmatched.title": {
        "en": "Unmatched payment: {amount} from {payer}",
        "hu": "Párosítatlan tétel: {amount}, partner: {payer}",
        "pl": "Nieprzypisana płatność: {amount} od {payer}",
    },
    "unmatched.out.title": {
        "en": "Unmatched outgoing payment: {amount} to {payer}",
        "hu": "Párosítatlan kifizetés: {amount}, kedvezményezett: {payer}",
        "pl": "Nieprzypisany przelew wychodzący: {amount} do {payer}",
    },
    "field.invoice": {"en": "Invoice", "hu": "Számla", "pl": "Faktura"},
    "field.open": {"en": "Still open", "hu": "Még nyitott", "pl": "Pozostało"},
    "field.reference": {"en": "Reference", "hu": "Közlemény", "pl": "Tytuł"},
    "field.date": {"en": "Booked", "hu": "Könyvelve", "pl": "Data"},
    "field.surplus": {"en": "Surplus", "hu": "Többlet", "pl": "Nadwyżka"},
    "fully_paid": {"en": "paid in full", "hu": "teljesen kifizetve", "pl": "opłacona w całości"},
    "matched.auto": {"en": "Paired automatically", "hu": "Automatikusan párosítva", "pl": "Przypisano automatycznie"},
    "matched.by": {"en": "Paired by {who}", "hu": "Párosította: {who}", "pl": "Przypisał(a): {who}"},
    "candidates": {"en": "Which invoice is it?", "hu": "Melyik számla ez?", "pl": "Której faktury dotyczy?"},
    "no_candidates": {"en": "No invoice fits.", "hu": "Nincs illeszkedő számla.", "pl": "Żadna faktura nie pasuje."},
    "candidate": {"en": "{numbers} ({reason})", "hu": "{numbers} ({reason})", "pl": "{numbers} ({reason})"},
    "consent_expiring.title": {
        "en": "Bank access to {bank} ends in {days} days",
        "hu": "A(z) {bank} banki hozzáférés {days} nap múlva lejár",
        "pl": "Dostęp do banku {bank} wygasa za {days} dni",
    },
    "consent_expiring.line": {
        "en": "Renew it before {date}, or payments stop arriving.",
        "hu": "Újítsa meg {date} előtt, különben nem érkeznek új tételek.",
        "pl": "Odnów go przed {date}, inaczej płatności przestaną napływać.",
    },
    "consent_expired.title": {
        "en": "Bank access to {bank} has ended",
        "hu": "A(z) {bank} banki hozzáférés lejárt",
        "pl": "Dostęp do banku {bank} wygasł",
    },
    "consent_expired.line": {
        "en": "No new payments arrive until it is renewed.",
        "hu": "Megújításig nem érkeznek új tételek.",
        "pl": "Do czasu odnowienia nie pojawią się nowe płatności.",
    },
    "bank_connected.title": {
        "en": "{bank} is connected ({accounts} accounts)",
        "hu": "{bank} csatlakoztatva ({accounts} számla)",
        "pl": "{bank} połączony ({accounts} rachunki)",
    },
    "sync_failing.title": {
        "en": "Bank sync is failing: {bank}",
        "hu": "Hibás banki szinkron: {bank}",
        "pl": "Synchronizacja z bankiem nie działa: {bank}",
    },
    "sync_recovered.title": {
        "en": "Bank sync works again: {bank}",
        "hu": "A banki szinkron újra működik: {bank}",
        "pl": "Synchronizacja z bankiem znów działa: {bank}",
    },
    "field.error": {"en": "Error", "hu": "Hiba", "pl": "Błąd"},
    "field.since": {"en": "Since", "hu": "Mióta", "pl": "Od"},
    "proforma.title": {
        "en": "Proforma {number} is paid",
        "hu": "A(z) {number} díjbekérő ki van fizetve",
        "pl": "Faktura proforma {number} została opłacona",
    },
    "proforma.manual": {
        "en": "Issue its final invoice?",
        "hu": "Kiállítja a végszámlát?",
        "pl": "Wystawić fakturę końcową?",
    },
    "proforma.auto": {
        "en": "Its final invoice is being issued.",
        "hu": "A végszámla kiállítása folyamatban.",
        "pl": "Faktura końcowa jest wystawiana.",
    },
    "proforma.elsewhere": {
        "en": "Issue its final invoice in {source}.",
        "hu": "A végszámlát a(z) {source} rendszerben állítsa ki.",
        "pl": "Wystaw fakturę końcową w {source}.",
    },
    "final.title": {
        "en": "Final invoice {number} issued",
        "hu": "Kiállítva a(z) {number} végszámla",
        "pl": "Wystawiono fakturę końcową {number}",
    },
    "final.line": {
        "en": "for proforma {proforma}, {amount}",
        "hu": "a(z) {proforma} díjbekérőhöz, {amount}",
        "pl": "do proformy {proforma}, {amount}",
    },
    "sale_paid.title": {
        "en": "Sale {sale} is paid: {amount}",
        "hu": "Kifizetett eladás ({sale}): {amount}",
        "pl": "Sprzedaż {sale} opłacona: {amount}",
    },
    "sale_invoiced.title": {
        "en": "Invoice {number} issued for sale {sale}",
        "hu": "Kiállítva a(z) {number} számla a(z) {sale} eladáshoz",
        "pl": "Wystawiono fakturę {number} do sprzedaży {sale}",
    },
    "write_back_failed.title": {
        "en": "Could not update {number} in {source}",
        "hu": "Nem sikerült frissíteni: {number} ({source})",
        "pl": "Nie udało się zaktualizować {number} w {source}",
    },
    "field.customer": {"en": "Customer", "hu": "Vevő", "pl": "Klient"},
    "field.attempts": {"en": "Attempts", "hu": "Próbálkozások", "pl": "Próby"},
    # Buttons
    "button.pair": {"en": "Pair with {numbers}", "hu": "Párosítás: {numbers}", "pl": "Przypisz do {numbers}"},
    "button.find": {"en": "Find invoice…", "hu": "Számla keresése…", "pl": "Znajdź fakturę…"},
    "button.ignore": {"en": "Not an invoice payment", "hu": "Nem számlafizetés", "pl": "To nie płatność faktury"},
    "button.undo": {"en": "Undo", "hu": "Visszavonás", "pl": "Cofnij"},
    "button.final": {"en": "Generate final invoice", "hu": "Végszámla kiállítása", "pl": "Wystaw fakturę końcową"},
    "button.sale": {"en": "Generate invoice", "hu": "Számla kiállítása", "pl": "Wystaw fakturę"},
    "button.retry": {"en": "Retry", "hu": "Újra", "pl": "Ponów"},
    "button.renew": {"en": "Renew", "hu": "Megújítás", "pl": "Odnów"},
    "button.show_all": {"en": "Show all", "hu": "Összes mutatása", "pl": "Pokaż wszystko"},
    "button.open_bank": {"en": "Open the bank", "hu": "Bank megnyitása", "pl": "Otwórz bank"},
    # Outcomes (the note of an edited message) and answers to presses
    "done.paired": {
        "en": "Paired with {numbers} by {who}",
        "hu": "Párosítva ({numbers}), párosította: {who}",
        "pl": "Przypisano do {numbers}, przez: {who}",
    },
    "done.ignored": {
        "en": "Marked as not an invoice payment by {who}",
        "hu": "Nem számlafizetés – jelölte: {who}",
        "pl": "Oznaczono jako nie płatność faktury, przez: {who}",
    },
    "done.undone": {
        "en": "Pairing undone by {who}",
        "hu": "Párosítás visszavonva, visszavonta: {who}",
        "pl": "Przypisanie cofnięte przez: {who}",
    },
    "done.final": {
        "en": "Final invoice {number} issued by {who}",
        "hu": "{number} végszámla kiállítva, kiállította: {who}",
        "pl": "Faktura końcowa {number} wystawiona przez: {who}",
    },
    "done.sale": {
        "en": "Invoice {number} issued by {who}",
        "hu": "{number} számla kiállítva, kiállította: {who}",
        "pl": "Faktura {number} wystawiona przez: {who}",
    },
    "done.retried": {
        "en": "{number} updated in {source} after a retry by {who}",
        "hu": "{number} frissítve ({source}) – újrapróbálta: {who}",
        "pl": "{number} zaktualizowano w {source} po ponowieniu przez: {who}",
    },
    "handoff_failed.title": {
        "en": "Could not hand {number} over to the accountant ({receiver})",
        "hu": "Nem sikerült átadni a könyvelőnek: {number} ({receiver})",
        "pl": "Nie udało się przekazać księgowemu: {number} ({receiver})",
    },
    "button.send_again": {"en": "Send again", "hu": "Újraküldés", "pl": "Wyślij ponownie"},
    "button.hand_over": {
        "en": "Send {number} to the accountant",
        "hu": "{number} küldése a könyvelőnek",
        "pl": "Wyślij {number} księgowemu",
    },
    "done.send_again": {
        "en": "Marked to be sent again by {who}",
        "hu": "Újraküldésre jelölte: {who}",
        "pl": "Oznaczone do ponownej wysyłki przez: {who}",
    },
    "done.retry_queued": {
        "en": "Retry queued by {who}",
        "hu": "Újrapróbálás elindítva, indította: {who}",
        "pl": "Ponowienie zlecone przez: {who}",
    },
    "already_done": {
        "en": "Already done by {who}: {outcome}",
        "hu": "Már elintézte {who}: {outcome}",
        "pl": "Już zrobione przez {who}: {outcome}",
    },
    "action.unknown": {
        "en": "This button no longer works.",
        "hu": "Ez a gomb már nem működik.",
        "pl": "Ten przycisk już nie działa.",
    },
    "action.failed": {"en": "Could not do it: {error}", "hu": "Nem sikerült: {error}", "pl": "Nie udało się: {error}"},
    "not_linked": {
        "en": "Your chat account is not linked to a reconbot member; ask the owner for a link.",
        "hu": "A chat-fiókja nincs reconbot-taghoz kapcsolva; kérjen linket a tulajdonostól.",
        "pl": "Twoje konto czatu nie jest powiązane z członkiem reconbot; poproś właściciela o link.",
    },
    "refused": {
        "en": "Sorry, your role ({role}) may not do this.",
        "hu": "Sajnáljuk, az Ön szerepköre ({role}) ezt nem teheti meg.",
        "pl": "Przepraszamy, Twoja rola ({role}) nie pozwala na to.",
    },
    "ask_number": {
        "en": "Reply with the invoice number",
        "hu": "Válaszában írja meg a számla sorszámát",
        "pl": "Odpowiedz numerem faktury",
    },
    "error.logged": {
        "en": "Something went wrong; the error is logged.",
        "hu": "Valami hiba történt; a hibát naplóztuk.",
        "pl": "Coś poszło nie tak; błąd został zapisany.",
    },
    "telegram.sent_privately": {
        "en": "I sent you the answer in a private chat.",
        "hu": "A választ privát üzenetben küldtem el.",
        "pl": "Odpowiedź wysłałem na czacie prywatnym.",
    },
    "telegram.open_private": {
        "en": "I can only show this in a private chat: open https://t.me/{bot}, press Start, then ask again.",
        "hu": "Ezt csak privát beszélgetésben mutathatom meg: nyissa meg a https://t.me/{bot} linket, "
        "nyomja meg a Start gombot, majd kérdezzen újra.",
        "pl": "Mogę to pokazać tylko na czacie prywatnym: otwórz https://t.me/{bot}, naciśnij Start "
        "i zapytaj ponownie.",
    },
    "find.label": {"en": "Invoice number", "hu": "Számlaszám", "pl": "Numer faktury"},
    "find.title": {"en": "Find invoice", "hu": "Számla keresése", "pl": "Znajdź fakturę"},
    "renew.title": {
        "en": "Renew bank access to {bank}",
        "hu": "{bank} banki hozzáférés megújítása",
        "pl": "Odnów dostęp do banku {bank}",
    },
    "renew.line": {
        "en": "Open the bank and confirm; reconbot takes it from there.",
        "hu": "Nyissa meg a bankot és hagyja jóvá; a többit a reconbot intézi.",
        "pl": "Otwórz bank i potwierdź; resztą zajmie się reconbot.",
    },
    # Digest
    "digest.title": {
        "en": "{count} new bank events",
        "hu": "{count} új banki esemény",
        "pl": "{count} nowych zdarzeń bankowych",
    },
    "digest.matched": {
        "en": "Paired: {count} ({amount})",
        "hu": "Párosítva: {count} ({amount})",
        "pl": "Przypisane: {count} ({amount})",
    },
    "digest.unmatched": {"en": "Waiting for you: {count}", "hu": "Önre vár: {count}", "pl": "Czeka na Ciebie: {count}"},
    "digest.other": {"en": "Other: {count}", "hu": "Egyéb: {count}", "pl": "Inne: {count}"},
    "digest.top": {
        "en": "Largest unmatched:",
        "hu": "Legnagyobb párosítatlan tételek:",
        "pl": "Największe nieprzypisane:",
    },
    # Commands
    "help": {
        "en": "Commands: status, unmatched, paid <invoice number>, balance, here (send notifications to this chat)",
        "hu": "Parancsok: status, unmatched, paid <számlaszám>, balance, here (értesítések ebbe a csatornába)",
        "pl": "Polecenia: status, unmatched, paid <numer faktury>, balance, here (powiadomienia na ten czat)",
    },
    "status.title": {"en": "reconbot status", "hu": "reconbot állapot", "pl": "Stan reconbot"},
    "status.account": {
        "en": "{account}: last sync {when}",
        "hu": "{account}: utolsó szinkron {when}",
        "pl": "{account}: ostatnia synchronizacja {when}",
    },
    "status.never": {"en": "never", "hu": "még nem volt", "pl": "nigdy"},
    "status.consent": {
        "en": "{bank}: access ends {date} ({days} days)",
        "hu": "{bank}: hozzáférés lejár {date} ({days} nap)",
        "pl": "{bank}: dostęp wygasa {date} ({days} dni)",
    },
    "status.unmatched": {
        "en": "Unmatched transactions: {count}",
        "hu": "Párosítatlan tételek: {count}",
        "pl": "Nieprzypisane transakcje: {count}",
    },
    "status.channel_problem": {
        "en": "Cannot post to {channel}: {problem}",
        "hu": "Nem tudok írni ide: {channel}: {problem}",
        "pl": "Nie mogę pisać do {channel}: {problem}",
    },
    "status.no_accounts": {
        "en": "No bank account yet.",
        "hu": "Még nincs bankszámla.",
        "pl": "Brak rachunków bankowych.",
    },
    "unmatched.none": {"en": "Nothing waits for you.", "hu": "Nincs teendő.", "pl": "Nic nie czeka."},
    "unmatched.list_title": {
        "en": "Unmatched transactions ({count})",
        "hu": "Párosítatlan tételek ({count})",
        "pl": "Nieprzypisane transakcje ({count})",
    },
    "unmatched.more": {
        "en": "…and {count} more in the admin panel",
        "hu": "…és még {count} az adminfelületen",
        "pl": "…i {count} więcej w panelu",
    },
    "paid.usage": {
        "en": "Usage: paid <invoice number>",
        "hu": "Használat: paid <számlaszám>",
        "pl": "Użycie: paid <numer faktury>",
    },
    "paid.unknown": {
        "en": "There is no invoice {number}.",
        "hu": "Nincs {number} számú számla.",
        "pl": "Nie ma faktury {number}.",
    },
    "paid.yes": {
        "en": "{number} ({partner}) is paid: {paid} of {gross}",
        "hu": "{number} ({partner}) kifizetve: {paid} / {gross}",
        "pl": "{number} ({partner}) opłacona: {paid} z {gross}",
    },
    "paid.partly": {
        "en": "{number} ({partner}) is partly paid: {paid} of {gross}",
        "hu": "{number} ({partner}) részben fizetve: {paid} / {gross}",
        "pl": "{number} ({partner}) opłacona częściowo: {paid} z {gross}",
    },
    "paid.no": {
        "en": "{number} ({partner}) is not paid yet: {gross}, due {due}",
        "hu": "{number} ({partner}) még nincs kifizetve: {gross}, esedékes {due}",
        "pl": "{number} ({partner}) nie jest jeszcze opłacona: {gross}, termin {due}",
    },
    "paid.by": {
        "en": "Paid by {payer} on {date}",
        "hu": "Fizette: {payer}, {date}",
        "pl": "Zapłacił(a): {payer}, {date}",
    },
    "balance.title": {"en": "Balances", "hu": "Egyenlegek", "pl": "Salda"},
    "balance.none": {"en": "No balance known yet.", "hu": "Még nincs ismert egyenleg.", "pl": "Brak znanego salda."},
    "private_only": {
        "en": "I send bank data only in a private chat with you; ask me there.",
        "hu": "Banki adatot csak privát beszélgetésben küldök; ott kérdezzen.",
        "pl": "Dane bankowe wysyłam tylko na czacie prywatnym; zapytaj mnie tam.",
    },
    "here.done": {
        "en": "Notifications will come to this chat.",
        "hu": "Az értesítések ide érkeznek.",
        "pl": "Powiadomienia będą przychodzić na ten czat.",
    },
    "here.bank": {
        "en": "Bank data is sent here only if the owner allows it in the admin panel.",
        "hu": "Banki adat csak akkor érkezik ide, ha a tulajdonos engedélyezi az adminfelületen.",
        "pl": "Dane bankowe trafią tu tylko, jeśli właściciel zezwoli w panelu.",
    },
    "unknown_command": {
        "en": "I don't know “{command}”.",
        "hu": "Nem ismerem: „{command}”.",
        "pl": "Nie znam „{command}”.",
    },
    "start.hello": {
        "en": "Hello! Ask the workspace owner for your personal link to connect this chat.",
        "hu": "Üdvözlöm! Kérje el a tulajdonostól a személyes linkjét a csatlakozáshoz.",
        "pl": "Cześć! Poproś właściciela o osobisty link, aby połączyć ten czat.",
    },
    "start.linked": {
        "en": "Linked: you are {name} ({role}) in {workspace}",
        "hu": "Összekapcsolva: Ön {name} ({role}) – {workspace}",
        "pl": "Połączono: jesteś {name} ({role}) w {workspace}",
    },
    # A test message sent from the admin panel
    "test.title": {
        "en": "reconbot test message for {workspace}",
        "hu": "reconbot tesztüzenet – {workspace}",
        "pl": "Wiadomość testowa reconbot – {workspace}",
    },
    "test.line": {
        "en": "Notifications reach this chat. Sent by {who}.",
        "hu": "Az értesítések megérkeznek ide. Küldte: {who}.",
        "pl": "Powiadomienia docierają do tego czatu. Wysłał(a): {who}.",
    },
}


def text(language: str, key: str, **values: Any) -> str:
    """Return the sentence ``key`` in ``language`` (English when the language has none) with ``values`` filled in."""
    forms = TEXTS[key]
    return forms.get(language, forms["en"]).format(**values)


def money(amount: Decimal | str, currency: str, language: str) -> str:
    """Return an amount as readers of ``language`` write it ("127 000 Ft", "1 230,00 zł", "€1,230.00")."""
    locale = {"hu": "hu_HU", "pl": "pl_PL"}.get(language, "en")
    return format_money(Decimal(amount), currency, locale)
