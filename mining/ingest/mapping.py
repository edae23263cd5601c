"""Detecting which column plays which role, with a confidence and a reason.

A guess combines what the header says (``case:concept:name``, ``Ticket ID``,
``sys_updated_at``) with what the values show on the head of the file: a
case id repeats, an activity has few distinct values that change within a
case, a timestamp parses in one format and changes within a case.  Required
roles that stay unclear raise :class:`AmbiguousMapping` naming the candidates
and the flag to pass, rather than silently picking one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.errors import AmbiguousMapping, MissingColumn, Option, phrase
from mining.ingest.clockmarks import CLOCK_MARKS_NOTE
from mining.ingest.staging import Column
from mining.ingest.timestamps import (
    EPOCHS,
    EXCEL_DAYS,
    ISO,
    TimestampFormat,
    detect_format,
    parse_sql,
)
from mining.ingest.weekdays import WEEKDAY_NOTE
from mining.schema import RoleGuess
from mining.store import quote_ident

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["PROFILE_ROWS", "date_and_time_pairs", "detect_roles", "name_score"]

PROFILE_ROWS = 50_000
#: Up to this many columns, the profile counts distinct values exactly.
_EXACT_COLUMNS = 32

# (pattern over the normalised name, score, why).  First match wins per role.
_NAMES: dict[str, tuple[tuple[str, float, str], ...]] = {
    "case": (
        (r"caseconceptname", 1.0, "the XES case identifier"),
        (r"(case|caseid|caseidentifier|casenumber|casekey)", 0.95, "a case-id name"),
        (
            r"(ticketid|ticketnumber|ticket|incidentid|incidentnumber|incident|orderid|ordernumber|order|issuekey|"
            r"issueid|key|number|documentnumber|salesorder|purchaseorder|po|ponumber|requestid|request)",
            0.7,
            "a typical record-id name",
        ),
        (
            # German, Dutch, French and Spanish exports (SAP, Odoo, Exact, Sage) name it in their language.
            r"(vorgang|vorgangsschlussel|vorgangsid|fall|fallnummer|fallid|auftrag|auftragsnummer|bestellung|bestellnummer|"
            r"beleg|belegnummer|einkaufsbeleg|verkaufsbeleg|ticketnummer|vorgangsnummer|"
            r"zaak|zaaknummer|zaakid|dossier|dossiernummer|ordernummer|bestelnummer|cas|numerodecas|commande|"
            r"numerodecommande|caso|numerodecaso|idcaso|expediente|pedido|numerodepedido|"
            # Czech, Slovak, Polish and Hungarian (cp1250 exports, read by their encoding first).
            r"pripad|cislopripadu|idpripadu|pozadavek|poziadavka|objednavka|cisloobjednavky|sprawa|idsprawy|"
            r"zgloszenie|numerzgloszenia|zamowienie|numerzamowienia|eset|ugy|ugyszam|rendeles|rendelesszam|"
            # Italian, Portuguese, Nordic, Finnish, Croatian/Serbian/Slovene and Turkish.
            r"pratica|numeropratica|idpratica|richiesta|segnalazione|ordine|numeroordine|processo|numeroprocesso|"
            r"chamado|solicitacao|ordem|arende|arendenummer|arendeid|sag|sagsnummer|sagsid|sak|saksnummer|ordre|"
            r"ordrenummer|tapaus|tapausnumero|tilaus|tilausnumero|predmet|brojpredmeta|slucaj|zahtjev|zahtevek|"
            r"narudzba|nalog|vaka|vakano|talep|talepno|siparis|siparisno)",
            0.7,
            "a case-id name in another language",
        ),
        (r".*case.*", 0.6, "the name mentions a case"),
        (r".*(id|number|nr|no|key|nummer|numero)", 0.35, "an id-like name"),
    ),
    "activity": (
        (r"conceptname", 1.0, "the XES activity name"),
        (
            r"(activity|activityname|activityid|eventname|event|action|task|taskname|step|operation)",
            0.9,
            "an activity name",
        ),
        (
            r"(aktivitat|taetigkeit|tatigkeit|aktion|schritt|ereignis|aufgabe|activiteit|actie|stap|gebeurtenis|"
            r"taak|activite|action|etape|evenement|tache|actividad|accion|paso|evento|tarea|"
            r"cinnost|aktivita|udalost|ukon|krok|czynnosc|aktywnosc|zdarzenie|dzialanie|tevekenyseg|esemeny|lepes|"
            r"attivita|azione|operazione|passo|atividade|acao|etapa|tarefa|aktivitet|handelse|atgard|steg|uppgift|"
            r"haendelse|hendelse|handling|trin|opgave|oppgave|tapahtuma|aktiviteetti|toiminto|vaihe|tehtava|"
            r"aktivnost|dogadaj|dogodek|radnja|korak|zadatak|aktivite|faaliyet|olay|islem|adim|gorev)",
            0.85,
            "an activity name in another language",
        ),
        (r".*activity.*", 0.8, "the name mentions an activity"),
        (
            r"(status|state|stage|phase|incidentstate|ticketstatus|orderstatus|zustand|statut|etat|estado|fase)",
            0.6,
            "a status column",
        ),
        (r".*(state|status|stage).*", 0.5, "the name mentions a state or status"),
    ),
    "timestamp": (
        (r"timetimestamp", 1.0, "the XES timestamp"),
        (
            r"(timestamp|time|datetime|eventtime|eventtimestamp|completetimestamp|endtimestamp|endtime|end|"
            r"completetime|completed|complete|date|eventdate)",
            0.9,
            "a timestamp name",
        ),
        (
            r"(zeitstempel|zeitpunkt|datumzeit|datumuhrzeit|tijdstip|tijdstempel|datumtijd|horodatage|dateheure|"
            r"fechahora|marcadetiempo|fechayhora|fecha|datum|"
            # Czech "čas" is the time; French "cas" a case: the values settle which a column is.
            r"cas|casudalosti|datumacas|casovaznacka|czas|datagodzina|dataiczas|znacznikczasu|idopont|idobelyeg|"
            r"data|dataora|dataeora|orario|marcatemporale|datahora|horario|tidpunkt|tidsstampel|tidspunkt|"
            r"tidsstempel|dato|aikaleima|aika|paivamaara|vrijeme|vreme|vremenskaoznaka|datumivrijeme|"
            r"zaman|tarih|tarihsaat|zamandamgasi|"
            # The end of a step beside its start (Beginn/Ende, début/fin, inicio/fin, začátek/konec).
            r"ende|endzeit|endzeitpunkt|fin|heurefin|datefin|fechafin|horafin|fine|datafine|orafine|fim|einde|"
            r"eindtijd|konec|caskonce|koniec|zakonczenie|vege|befejezes|loppu|lopetus|bitis|kraj|zavrseno)",
            0.9,
            "a timestamp name in another language",
        ),
        (r".*(timestamp|updated|changed|modified).*", 0.7, "an event-time name"),
        (
            r".*(aktualisiert|geandert|bijgewerkt|gewijzigd|modifie|misajour|actualizado|modificado).*",
            0.7,
            "an event-time name in another language",
        ),
        (r"(ts|tsms|eventts|createdts|updatedts|modifiedts|changedts)", 0.7, "a timestamp abbreviation"),
        # Unix times are often named with their unit: created_at_ms, event_time_utc.
        (r".*(time|date|at|created|on)(ms|millis|sec|secs|utc|epoch|unix)?", 0.5, "a date-like name"),
    ),
    "start_timestamp": (
        (
            r"(starttimestamp|starttime|start|startdate|started|startedat|startat|begin|begintime)",
            0.9,
            "a start-time name",
        ),
        (
            # Beginn, Startzeit, début, inicio, inizio, início, aanvang, začátek, początek, kezdés, alku, Turkish başlangic.
            r"(beginn|startzeit|startzeitpunkt|anfang|debut|heuredebut|datedebut|inicio|fechainicio|horainicio|"
            r"inizio|datainizio|orainizio|aanvang|begintijd|starttijd|zacatek|caszacatku|poczatek|rozpoczecie|"
            r"czasrozpoczecia|kezdes|kezdete|alku|aloitus|alkuaika|baslangic|baslangiczamani|pocetak|zahajeni)",
            0.85,
            "a start-time name in another language",
        ),
        (r".*(start|beginn|debut|inicio|inizio).*", 0.6, "the name mentions a start"),
    ),
    "resource": (
        (r"orgresource", 1.0, "the XES resource"),
        (
            r"(resource|user|username|agent|performer|employee|owner|assignee|actor|operator|worker|handler|"
            r"changedby|updatedby|author)",
            0.9,
            "a resource name",
        ),
        (
            r"(bearbeiter|benutzer|mitarbeiter|sachbearbeiter|ressource|medewerker|gebruiker|behandelaar|"
            r"uitvoerder|utilisateur|employe|responsable|usuario|recurso|empleado|agente|"
            r"resitel|riesitel|uzivatel|pouzivatel|zamestnanec|pracovnik|zpracovatel|uzytkownik|pracownik|"
            r"wykonawca|felhasznalo|ugyintezo|dolgozo|"
            r"operatore|utente|risorsa|addetto|esecutore|dipendente|responsavel|funcionario|atendente|executor|"
            r"handlaggare|anvandare|resurs|ansvarig|utforare|medarbetare|sagsbehandler|saksbehandler|bruger|"
            r"bruker|medarbejder|medarbeider|ansvarlig|kasittelija|kayttaja|tekija|resurssi|tyontekija|"
            r"izvrsitelj|izvrsilac|izvajalec|korisnik|uporabnik|djelatnik|zaposlenik|referent|kullanici|sorumlu|"
            r"calisan|personel)",
            0.85,
            "a resource name in another language",
        ),
        (r".*(updatedby|changedby|modifiedby).*", 0.8, "who made the change"),
        (r"(orggroup|group|team|department|role|orgrole)", 0.55, "a group, used as resource"),
        (r".*(resource|user|agent|assignee|author).*", 0.5, "the name mentions a person"),
    ),
    "lifecycle": (
        (r"lifecycletransition", 1.0, "the XES lifecycle"),
        (r"(lifecycle|transition|eventtype|lifecyclestate)", 0.9, "a lifecycle name"),
    ),
    "cost": (
        (r"(costtotal|cost|costs|eventcost|activitycost)", 0.9, "a cost name"),
        (
            r"(kosten|cout|couts|coste|costes|costo|costos|naklady|koszt|koszty|koltseg|custo|custos|kostnad|"
            r"kostnader|omkostning|omkostninger|kustannus|kustannukset|trosak|troskovi|maliyet)",
            0.85,
            "a cost name in another language",
        ),
    ),
}


#: Letters no Unicode decomposition takes to ASCII: Polish "Zgłoszenie" is "zgloszenie", not "zgoszenie";
#: Turkish's dotless i (U+0131, as in the Turkish word for user) is an i.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ð": "d", "þ": "th", "\u0131": "i"}
)


def _norm(label: str) -> str:
    # Accents go before the rest: "Tätigkeit" is "tatigkeit", not "ttigkeit".
    plain = (
        unicodedata.normalize("NFKD", label.lower().translate(_UNDECOMPOSED))
        .encode("ascii", "ignore")
        .decode()
    )
    return re.sub(r"[^a-z0-9]", "", plain)


def name_score(role: str, label: str) -> float:
    """How surely the header ``label`` names ``role`` by its words alone (0 to 1), in any language known."""
    return _name_score(role, label)[0]


def _name_score(role: str, label: str) -> tuple[float, str]:
    # A field of a nested JSON record ("_source.event.action", "user.name") is also known by its last
    # parts: "event.action" is an action, "user.name" a user name.  Not by the weakest hints: every
    # nested object has an "id", and "fields.issuetype.id" is no case.
    parts = label.split(".")
    nested = len(parts) > 1
    names = [label] + ([".".join(parts[-2:]), parts[-1]] if nested else [])
    best = (0.0, "")
    for name in names:
        norm = _norm(name)
        for pattern, score, why in _NAMES[role]:
            if re.fullmatch(pattern, norm):
                if score > best[0] and not (nested and score < 0.5):
                    best = (score, why)
                break
    return best


@dataclass(frozen=True)
class _Profile:
    nonnull: int
    distinct: int
    exact: bool


def detect_roles(
    store: Store,
    table: str,
    columns: Sequence[Column],
    *,
    overrides: dict[str, str | None],
    file: str,
    dayfirst: bool | None,
    formats: dict[str, TimestampFormat],
) -> dict[str, RoleGuess]:
    """Guess every role; ``overrides`` (role -> header) win and are checked.

    ``formats`` maps a role to a user-given timestamp format; the detected
    formats of the chosen timestamp columns are added to it.
    """
    by_label = {c.label: c for c in columns}
    for role, label in overrides.items():
        if label is not None and label not in by_label:
            available = ", ".join(repr(c.label) for c in columns)
            msg = phrase(
                f"{file}: no column {label!r} for ", Option(role), f"; available columns: {available}"
            )
            raise MissingColumn(msg)

    store.execute(f"CREATE OR REPLACE TEMP TABLE _profile AS SELECT * FROM {table} LIMIT {PROFILE_ROWS}")
    total = int(store.scalar("SELECT count(*) FROM _profile"))
    prof = _profile(store, columns)
    guesses: dict[str, RoleGuess] = {}
    taken: set[str] = set()

    def fix(role: str) -> bool:
        if role not in overrides:
            return False
        label = overrides[role]
        guesses[role] = RoleGuess(role, label, 1.0, "your choice" if label else "switched off by you")
        if label:
            taken.add(label)
        return True

    # Case first: the others are judged by how they vary within a case.
    if not fix("case"):
        guesses["case"] = _pick(
            "case",
            columns,
            taken,
            file,
            required=True,
            score=lambda c: _case_score(c, prof[c.internal], total),
        )
        taken.add(guesses["case"].column or "")
    case_col = by_label[guesses["case"].column or ""].internal

    ts_formats: dict[str, TimestampFormat | None] = {}
    dates_only: dict[tuple[str, str], bool] = {}

    def ts_format(col: Column) -> TimestampFormat | None:
        if col.internal not in ts_formats:
            ts_formats[col.internal] = detect_format(
                store, "_profile", quote_ident(col.internal), label=col.label, file=file, dayfirst=dayfirst
            )
        return ts_formats[col.internal]

    def role_format(role: str, col: Column) -> TimestampFormat | None:
        given = formats.get(role)
        if given is None:
            return ts_format(col)
        # A format the user gave decides: the column qualifies if most of its values match it.
        parsed, params = parse_sql(given, quote_ident(col.internal), "fmt")
        ok, n = store.query(
            f"SELECT count({parsed}), count(nullif(trim({quote_ident(col.internal)}), '')) FROM _profile",
            params,
        ).rows[0]
        return given if n and ok >= 0.5 * n else None

    # How a column varies within cases is measured only where a role could use
    # it: columns with a role's name, and for a time column found by its values
    # the first columns whose values look like dates.  A wide export's other
    # columns are never grouped by case (that scales with columns x cases).
    named = {
        c.internal
        for c in columns
        if c.label not in taken
        and any(_name_score(r, c.label)[0] > 0 for r in ("timestamp", "start_timestamp", "activity"))
    }
    named |= _date_like(store, [c for c in columns if c.label not in taken])
    varies, multi = _within_case_variation(
        store, case_col, [c for c in columns if c.internal in named and c.label not in taken]
    )
    # With one event per case nothing can change within a case: the time column is then told by its name
    # and values alone (a first export of a few rows, say), not taken for a case attribute.
    one_event_each = multi == 0

    def ts_score(role: str, *, by_values: bool = False) -> object:
        def score(c: Column) -> tuple[float, str]:
            name, why = _name_score(role, c.label)
            if prof[c.internal].nonnull == 0 or (name == 0.0 and not by_values):
                return 0.0, ""
            if c.internal not in varies:
                return 0.0, ""  # neither named like a time nor looking like dates
            fmt = role_format(role, c)
            if fmt is None:
                return 0.0, ""
            if name == 0.0:
                if fmt.pattern in EPOCHS or fmt.pattern == EXCEL_DAYS:
                    return 0.0, ""  # numbers under a neutral name are as likely an id or an amount as a time
                name, why = 0.6, "not a timestamp name, but its values are times"
            v = varies.get(c.internal, 0.0)
            if c.label.lower().startswith("case:") or (v < 0.05 and not one_event_each):
                # Constant within a case: a case attribute (a case's start date), not an event time.
                return 0.0, ""
            factor = 0.5 + 0.5 * v
            # ts_score runs twice per column (once to tell by name, once to pick): read the dates once.
            if c.internal not in dates_only:
                dates_only[c.internal] = _dates_only(store, "_profile", c, fmt)
            if dates_only[c.internal]:
                # Of a date column and a timestamp column, both named so, the one with the times is it.
                return (
                    name * factor * 0.9,
                    f"{why}; dates without a time of day ({fmt.pattern}); changes within {v:.0%} of cases",
                )
            said = (
                WEEKDAY_NOTE if fmt.weekdays else "",
                CLOCK_MARKS_NOTE if fmt.marks else "",
                fmt.month_note,
                fmt.zone_note,
            )
            notes = "".join(f"; {n}" for n in said if n)
            return name * factor, f"{why}; parses as {fmt.pattern}{notes}; changes within {v:.0%} of cases"

        return score

    if not fix("timestamp"):
        named_score = ts_score("timestamp")
        free = [c for c in columns if c.label not in taken]
        # Exports name their time column in words no list holds ("wann", "momento", "quando"): with no
        # timestamp-like name at all, the one column whose values are times and change within cases is it.
        by_name = any(named_score(c)[0] >= 0.3 for c in free)
        score = named_score if by_name else ts_score("timestamp", by_values=True)
        guesses["timestamp"] = _pick("timestamp", columns, taken, file, required=True, score=score)
    taken.add(guesses["timestamp"].column or "")

    def activity_score(c: Column) -> tuple[float, str]:
        name, why = _name_score("activity", c.label)
        p = prof[c.internal]
        if name == 0.0 or p.nonnull == 0 or p.distinct < 1:
            return 0.0, ""
        few = p.distinct <= max(50, 0.05 * total) and p.distinct <= 5000
        v = varies.get(c.internal, 0.0)
        factor = (1.0 if few else 0.3) * (0.6 + 0.4 * v)
        return name * factor, f"{why}; {_distinct_words(p)}; changes within {v:.0%} of cases"

    if not fix("activity"):
        guesses["activity"] = _pick("activity", columns, taken, file, required=True, score=activity_score)
    taken.add(guesses["activity"].column or "")

    for role in ("start_timestamp", "resource", "lifecycle", "cost"):
        if fix(role):
            continue
        if role == "start_timestamp":
            score = ts_score("start_timestamp")
        elif role == "cost":

            def score(c: Column) -> tuple[float, str]:
                name, why = _name_score("cost", c.label)
                return name, why
        else:

            def score(c: Column, role: str = role) -> tuple[float, str]:
                name, why = _name_score(role, c.label)
                p = prof[c.internal]
                if name == 0.0 or p.nonnull == 0:
                    return 0.0, ""
                return name, f"{why}; {_distinct_words(p)}"

        guess = _pick(role, columns, taken, file, required=False, score=score)
        guesses[role] = guess
        if guess.column:
            taken.add(guess.column)

    for role in ("timestamp", "start_timestamp"):
        label = guesses[role].column
        if label and role not in formats:
            fmt = ts_format(by_label[label])
            if fmt is not None:
                formats[role] = fmt
    store.execute("DROP TABLE IF EXISTS _profile")
    return guesses


# A time of day: 9:05, 09:05:30, 09:05:30.250, 2:05 PM, or SAP's 090530 (and 0905).
_CLOCK_RE = r"([01]?[0-9]|2[0-3])(:[0-5][0-9]){1,2}([.,][0-9]+)?( ?[AaPp][Mm])?|([01][0-9]|2[0-3])[0-5][0-9]([0-5][0-9])?"
# Named as a time of day (SAP's UTIME, ERZET, CPUTM, UZEIT), not as a duration or a whole timestamp; in
# the languages beside a date: Polish godzina and czas, Czech čas, Italian ora, Nordic tid and klokkeslæt,
# Finnish aika, Turkish saat, Croatian vrijeme, Hungarian idő.
_CLOCK_NAME = (
    r".*(time|zeit|uhr|heure|hora|tijd|godzina|klockslag|klokkeslaet|klokkeslett|kellonaika).*"
    r"|erzet|cputm|uzeit|aezet|cas|czas|godz|ora|tid|aika|saat|vrijeme|vreme|ido|hodina"
)
# A whole timestamp fails the clock-time values; a duration written 01:30 passes them, so its name must tell.
_NOT_CLOCK_NAME = (
    r".*(dauer|duration|spent|lauf|bearbeitung|arbeit|warte|verweil|duree|duracion|duur|elapsed|total|"
    r"process|wait|lead|cycle|handl|respons|resolu|servic|idle|travel|runtime|work|length|taken|needed).*"
)


def date_and_time_pairs(
    store: Store,
    table: str,
    columns: Sequence[Column],
    *,
    file: str,
    dayfirst: bool | None,
    dates: Sequence[tuple[str, TimestampFormat]] | None = None,
) -> list[tuple[Column, Column, TimestampFormat]]:
    """Dates in one column and the times of day beside them, and the format of the two joined.

    SAP's change documents write UDATE and UTIME, many spreadsheets Date and Time: every event of a
    day would sit at midnight, or, when a case runs within a day, no column would change within cases
    and none would look like its time.  The time column is named as a time of day and holds clock
    times in nearly all rows; the dates are in the column next to it, in a format without a time
    (``dates``: the only candidates, with their formats, when already known), and the two joined
    parse in one format that has the time.
    """
    known = dict(dates) if dates is not None else None
    out = []
    for k, clock in enumerate(columns):
        beside = [
            columns[i]
            for i in (k - 1, k + 1)
            if 0 <= i < len(columns) and (known is None or columns[i].label in known)
        ]
        # The names first: the values are read only for a time-named column beside a candidate.
        if not beside or not _named_as_clock(clock.label) or not _holds_clock_times(store, table, clock):
            continue
        for date in beside:
            fmt = known[date.label] if known is not None else None
            if fmt is None:
                fmt = detect_format(
                    store, table, quote_ident(date.internal), label=date.label, file=file, dayfirst=dayfirst
                )
            if fmt is None or not _dates_only(store, table, date, fmt):
                continue
            joined = f"concat_ws(' ', nullif(trim({quote_ident(date.internal)}), ''), nullif(trim({quote_ident(clock.internal)}), ''))"
            both = detect_format(
                store, table, joined, label=f"{date.label}+{clock.label}", file=file, dayfirst=dayfirst
            )
            if both is not None and not _dates_only(store, table, None, both):
                out.append((date, clock, both))
    return out


def _named_as_clock(label: str) -> bool:
    norm = _norm(label)
    return bool(re.fullmatch(_CLOCK_NAME, norm)) and not re.fullmatch(_NOT_CLOCK_NAME, norm)


def _dates_only(store: Store, table: str, col: Column | None, fmt: TimestampFormat) -> bool:
    """Whether ``fmt`` reads dates without a time of day (for ISO, judged on ``col``'s values)."""
    if fmt.pattern in EPOCHS or fmt.pattern == EXCEL_DAYS:
        return False
    if fmt.pattern != ISO:
        return "%H" not in fmt.pattern and "%I" not in fmt.pattern
    if col is None:
        return False
    dated, filled = store.query(
        f"SELECT count(*) FILTER (WHERE regexp_full_match(v, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')), count(*) FROM "
        f"(SELECT trim({quote_ident(col.internal)}) AS v FROM {table} LIMIT {PROFILE_ROWS}) WHERE v <> ''"
    ).rows[0]
    # Nine in ten: a report's "Total" row in the date column is no time of day.
    return filled > 0 and dated >= 0.9 * filled


def _holds_clock_times(store: Store, table: str, col: Column) -> bool:
    clock, filled = store.query(
        f"SELECT count(*) FILTER (WHERE regexp_full_match(v, $re)), count(*) FROM "
        f"(SELECT trim({quote_ident(col.internal)}) AS v FROM {table} LIMIT {PROFILE_ROWS}) WHERE v <> ''",
        {"re": _CLOCK_RE},
    ).rows[0]
    return filled > 0 and clock >= 0.95 * filled


def _pick(
    role: str, columns: Sequence[Column], taken: set[str], file: str, *, required: bool, score
) -> RoleGuess:
    scored = []
    for c in columns:
        if c.label in taken:
            continue
        s, why = score(c)
        if s > 0:
            scored.append((s, c.label, why))
    scored.sort(key=lambda t: -t[0])
    if not scored or (scored[0][0] < 0.3):
        if required:
            msg = f"{file}: cannot tell which column is the {role.replace('_', ' ')}"
            raise AmbiguousMapping(msg, hint=phrase("pass ", Option(role, "COLUMN")), role=role)
        return RoleGuess(role, None, 0.0, "no column looks like one")
    best = scored[0]
    if required and len(scored) > 1 and scored[1][0] >= best[0] - 0.02:
        tied = ", ".join(repr(label) for s, label, _ in scored if s >= best[0] - 0.02)
        msg = f"{file}: the {role.replace('_', ' ')} could be any of {tied}"
        raise AmbiguousMapping(msg, hint=phrase("pass ", Option(role, "COLUMN"), " to choose"), role=role)
    margin = best[0] - (scored[1][0] if len(scored) > 1 else 0.0)
    confidence = round(min(1.0, best[0] * (0.7 + 0.3 * min(1.0, margin / 0.3))), 2)
    return RoleGuess(role, best[1], confidence, best[2])


def _profile(store: Store, columns: Sequence[Column]) -> dict[str, _Profile]:
    # Exact distinct counts keep a hash table per column: on a wide export the estimate stands in.
    exact = len(columns) <= _EXACT_COLUMNS
    distinct = "count(DISTINCT {})" if exact else "approx_count_distinct({})"
    parts = []
    for c in columns:
        q = quote_ident(c.internal)
        parts.append(f"count({q}), {distinct.format(q)}")
    row = store.query(f"SELECT {', '.join(parts)} FROM _profile").rows[0]
    return {c.internal: _Profile(int(row[2 * i]), int(row[2 * i + 1]), exact) for i, c in enumerate(columns)}


def _distinct_words(p: _Profile) -> str:
    # DuckDB's HyperLogLog estimate is off by one or two even for 40 values, and a figure that
    # disagrees with the summary's exact case count must say it is an estimate.
    if p.exact:
        return "1 distinct value" if p.distinct == 1 else f"{p.distinct:,} distinct values"
    return f"about {p.distinct:,} distinct values"


def _case_score(c: Column, p: _Profile, total: int) -> tuple[float, str]:
    name, why = _name_score("case", c.label)
    if name == 0.0 or p.nonnull == 0 or total == 0:
        return 0.0, ""
    # A case id repeats (several events per case) but is far from constant.
    # A clear name stands on its own (a log may hold one case, or one event per case).
    ratio = p.distinct / max(p.nonnull, 1)
    if name < 0.9 and (ratio > 0.9 or p.distinct < 2):
        return 0.0, ""
    return (
        name,
        f"{why}; {_distinct_words(p)} over {p.nonnull:,} rows ({p.nonnull / p.distinct:.1f} events each)",
    )


#: Columns measured per query when grouping by case: memory is groups x columns.
_VARIATION_BATCH = 32
#: Columns looked at for a time column found by its values alone (no column has a timestamp name).
MAX_VALUE_CANDIDATES = 64
#: Of a wide export, only the first columns are searched for date-like values.
_DATE_LIKE_COLUMNS = 512


def _date_like(store: Store, columns: Sequence[Column]) -> set[str]:
    """The first columns whose head values look like dates or times (digits with - / . or :)."""
    found: set[str] = set()
    for i in range(0, min(len(columns), _DATE_LIKE_COLUMNS), 256):
        batch = columns[i : i + 256]
        flags = ", ".join(
            f"count(*) FILTER (WHERE regexp_matches({quote_ident(c.internal)}, '[0-9][-/.:][0-9]'))"
            for c in batch
        )
        row = store.query(f"SELECT {flags} FROM (SELECT * FROM _profile LIMIT 200)").rows[0]
        found |= {c.internal for c, n in zip(batch, row, strict=True) if n}
        if len(found) >= MAX_VALUE_CANDIDATES:
            break
    return set(sorted(found, key=lambda x: int(x[1:]) if x[1:].isdigit() else 0)[:MAX_VALUE_CANDIDATES])


def _within_case_variation(
    store: Store, case_col: str, columns: Sequence[Column]
) -> tuple[dict[str, float], int | None]:
    """Per column, the share of multi-event cases in which its value changes; and how many cases have more
    than one event (``None`` when there is no column to look at)."""
    out: dict[str, float] = {}
    multi = None
    for i in range(0, len(columns), _VARIATION_BATCH):
        batch = columns[i : i + _VARIATION_BATCH]
        # min <> max is "more than one distinct value" with two values of state per group, not a set.
        flags = ", ".join(
            f"coalesce(min({quote_ident(c.internal)}) <> max({quote_ident(c.internal)}), false) AS v{k}"
            for k, c in enumerate(batch)
        )
        means = ", ".join(f"avg(v{k}::INT)" for k in range(len(batch)))
        sql = (
            f"SELECT count(*), {means} FROM (SELECT {flags} FROM _profile "
            f'WHERE "{case_col}" IS NOT NULL GROUP BY "{case_col}" HAVING count(*) > 1)'
        )
        multi, *row = store.query(sql).rows[0]
        out |= {c.internal: float(row[k] or 0.0) for k, c in enumerate(batch)}
    return out, multi
