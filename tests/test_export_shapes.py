"""Export shapes (hypothesis): a small log, written as real exports write it, loads exactly.

A ground-truth log -- a few cases, activity and resource names beyond ASCII, instants to the
second or the millisecond, costs in cents -- is written in a random combination of the shapes
exports come in: delimiter, quoting, line ends, UTF-8 with or without a byte-order mark and UTF-16,
headers in seven languages, title lines above the table, a Total row below it, Excel's ``sep=``
line, blank lines, a trailing delimiter, timestamps as several locales write them in a local zone
(day or month first, 12-hour clocks, two-digit years, Excel serials with a decimal point or comma,
Unix seconds and milliseconds, offsets, a date column and a time column), costs as several locales
write them (groups of points, commas, spaces and no-break spaces, currency signs, SAP's trailing
minus), extra columns of awkward text, and workbooks with real date and number cells.  The importer
finds the roles itself, as on a first upload, and what it stores must be the truth: the cases, the
events, each case's activities in order, every instant, cost and resource.

This is the property-test form of an export-shape fuzzer.  Left out on purpose: rows with fewer
fields than the header (rejected by name, not guessed) and cells padded with spaces (kept as written,
with a quality note); left out for now, each noted where it is left out, because they do not load
exactly today: Windows code pages, one French cost header, a Total label in a date column beside a
time column.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from mining.ingest import IngestOptions, ingest_file
from mining.store import Store

UTC = dt.UTC
EXCEL_EPOCH = dt.datetime(1899, 12, 30)

ACTIVITIES = (
    "Prüfung",
    "Résolution",
    "Ověření",
    "Freigabe erteilen",
    "Clôture du dossier",
    "Aprobación",
    "Zgłoszenie przyjęte",
    "Zahlung gebucht",
    "Vyřízení žádosti",
    "Goedkeuring",
    "Schválení",
    "Weryfikacja",
)
RESOURCES = (
    "Jürgen Müller",
    "Zoë Lefèvre",
    "Łukasz Wójcik",
    "Tomáš Dvořák",
    "Ana Muñoz",
    "Émilie Côté",
    "Bot-42",
    "Peter de Vries",
)
REGIONS = ("Nord", "Süd", "Île-de-France", "Morava", "Andalucía")
# Free text as people type it: quotes, every delimiter, a line break, what a spreadsheet would
# take for a formula or an error.
COMMENTS = (
    "ok",
    'Kunde sagt: "bitte schnell"',
    "a, b, c",
    "multi\nline note",
    "",
    "l'été; déjà vu",
    "tab\there",
)
COMMENTS += ("=SUM(A1)", "#N/A", "50% done", "Prix: 12,50 €")

# Header names per language, as the systems of each country write them.
HEADERS = {
    "en": {
        "case": ("Case ID", "Ticket ID", "Order Number"),
        "act": ("Activity", "Event", "Task"),
        "ts": ("Timestamp", "Completed", "End Time"),
        "start": ("Start Time", "Started"),
        "res": ("Resource", "User", "Assignee"),
        "cost": ("Cost", "Costs"),
        "date": ("Date",),
        "time": ("Time",),
    },
    "de": {
        "case": ("Vorgang", "Fallnummer", "Auftragsnummer"),
        "act": ("Aktivität", "Tätigkeit", "Schritt"),
        "ts": ("Zeitstempel", "Zeitpunkt"),
        "start": ("Startzeit",),
        "res": ("Bearbeiter", "Benutzer", "Sachbearbeiter"),
        "cost": ("Kosten",),
        "date": ("Datum",),
        "time": ("Uhrzeit", "Zeit"),
    },
    "fr": {
        "case": ("Numéro de cas", "Dossier", "Numéro de commande"),
        "act": ("Activité", "Étape", "Tâche"),
        "ts": ("Horodatage", "Date/Heure"),
        "start": ("Début",),
        "res": ("Utilisateur", "Ressource", "Responsable"),
        "cost": ("Coût", "Coûts"),
        "date": ("Date",),
        "time": ("Heure",),
    },
    "es": {
        "case": ("Caso", "Número de caso", "Pedido"),
        "act": ("Actividad", "Tarea", "Paso"),
        "ts": ("Fecha y hora", "Marca de tiempo"),
        "start": ("Inicio",),
        "res": ("Usuario", "Recurso", "Empleado"),
        "cost": ("Coste", "Costo"),
        "date": ("Fecha",),
        "time": ("Hora",),
    },
    "nl": {
        "case": ("Zaaknummer", "Zaak", "Dossiernummer"),
        "act": ("Activiteit", "Stap", "Taak"),
        "ts": ("Tijdstempel", "Tijdstip"),
        "start": ("Starttijd",),
        "res": ("Medewerker", "Gebruiker", "Behandelaar"),
        "cost": ("Kosten",),
        "date": ("Datum",),
        "time": ("Tijd",),
    },
    "cs": {
        "case": ("Číslo případu", "Případ", "ID případu"),
        "act": ("Činnost", "Aktivita", "Úkon"),
        "ts": ("Datum a čas", "Časová značka"),
        "start": ("Začátek",),
        "res": ("Uživatel", "Řešitel", "Zpracovatel"),
        "cost": ("Náklady",),
        "date": ("Datum",),
        "time": ("Čas",),
    },
    "pl": {
        "case": ("Sprawa", "ID sprawy", "Numer zamówienia"),
        "act": ("Czynność", "Aktywność", "Zdarzenie"),
        "ts": ("Data i czas", "Znacznik czasu"),
        "start": ("Start Time",),
        "res": ("Użytkownik", "Pracownik", "Wykonawca"),
        "cost": ("Koszt", "Koszty"),
        "date": ("Data",),
        "time": ("Godzina",),
    },
}
EXTRA_HEADERS = {"region": "Region", "comment": "Comment", "docid": "Document ID", "life": "Lifecycle"}
TOTAL = {
    "en": "Total",
    "de": "Summe",
    "fr": "Total",
    "es": "Total",
    "nl": "Totaal",
    "cs": "Celkem",
    "pl": "Suma",
}

# Timestamp formats: those without an offset are local times in the shape's zone.
# A written zone (CET, EDT, IST) is an offset too; the shape's zone is passed, which settles IST.
WITH_OFFSET = ("iso_z", "iso_offset", "rfc_offset", "unix_s", "unix_ms", "http_gmt", "wd_dmy_zone")
NAIVE = ("iso_naive", "dmy_dot", "dmy_slash", "dmy_slash_yy", "mdy_ampm", "ymd_slash", "excel", "excel_comma")
NAIVE += ("wd_long_ampm", "us_js", "de_uhr")
SPLIT = ("split_dmy", "split_iso", "split_mdy_ampm")
TS_FORMATS = WITH_OFFSET + NAIVE + SPLIT
MILLIS = ("iso_z", "iso_offset", "iso_naive", "unix_ms")  # formats that carry milliseconds
ALWAYS_SECONDS = ("rfc_offset", "unix_s", "unix_ms", "http_gmt")
DAY_FIRST = ("dmy_dot", "dmy_slash", "dmy_slash_yy", "split_dmy", "wd_dmy_zone", "de_uhr")
MONTH_FIRST = ("mdy_ampm", "split_mdy_ampm", "us_js")

# Costs of 1234.56 as each locale writes them (a negative one is written -1234.56, but SAP's 1234.56-).
COSTS = ("plain", "comma", "us_groups", "de_groups", "fr_nbsp", "fr_narrow_nbsp", "euro_suffix", "dollar")
COSTS += ("euro_prefix", "koruna", "zloty", "trimmed", "sap_minus", "de_whole", "swiss")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
# Windows code pages are left out: on a file of a few rows the bytes do not settle which one wrote
# them, and the guess can fall on another (a 2 KB cp1252 file read as Baltic cp1257: "Clōture").
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16")


TITLES = ("Prozess-Export / Process export", "Erstellt am 05.01.2026 10:00", "")


@dataclass(frozen=True)
class Shape:
    kind: str  # csv / xlsx
    columns: tuple[tuple[str, str], ...]  # (role, header) in the file's order
    delimiter: str
    quote_all: bool
    crlf: bool
    encoding: str
    language: str
    titles: int  # lines above the header, the last of three blank
    total_row: bool
    ts_format: str
    zone: str
    seconds: bool
    millis: bool
    cost_format: str
    negatives: bool
    blank_lines: bool
    trailing_delimiter: bool
    sep_line: bool
    xlsx_dates: bool  # real date cells, not text
    xlsx_numbers: bool  # real number cells for costs and numeric case ids

    def has(self, role: str) -> bool:
        return any(r == role for r, _ in self.columns)


@dataclass(frozen=True)
class Event:
    case: str
    activity: str
    ts: dt.datetime  # UTC
    start: dt.datetime | None
    resource: str | None
    cents: int | None
    region: str
    comment: str
    docid: str


@st.composite
def shapes(draw, kind: str, ts_format: str | None = None, cost_format: str | None = None) -> Shape:
    encoding = "utf-8" if kind == "xlsx" else draw(st.sampled_from(ENCODINGS))
    language = draw(st.sampled_from(sorted(HEADERS)))
    names = {role: draw(st.sampled_from(options)) for role, options in HEADERS[language].items()}
    # 1.250 is 1250 in a file delimited by semicolons (German, Dutch or French Excel) and 1.25
    # elsewhere, by design: whole amounts with thousands points are written in such files only.
    delimiter = ";" if cost_format == "de_whole" else draw(st.sampled_from((",", ";", "\t", "|")))
    ts_format = ts_format or draw(st.sampled_from(TS_FORMATS))
    seconds = ts_format in ALWAYS_SECONDS or draw(st.booleans())
    millis = ts_format == "unix_ms" or (ts_format in MILLIS and seconds and draw(st.booleans()))
    costs = [f for f in COSTS if f != "de_whole" or (kind == "csv" and delimiter == ";")]
    columns = [("case", names["case"]), ("act", names["act"])]
    columns += [("date", names["date"])] if ts_format in SPLIT else [("ts", names["ts"])]
    # A cost column always when its format is given, else in three files of four, as a resource
    # column; the start and the extra columns in every other.
    columns += [("cost", names["cost"])] if cost_format or draw(st.integers(0, 3)) else []
    columns += [("res", names["res"])] if draw(st.integers(0, 3)) else []
    optional = [] if ts_format in SPLIT else [("start", names["start"])]
    columns += [c for c in optional + list(EXTRA_HEADERS.items()) if draw(st.booleans())]
    columns = list(draw(st.permutations(columns)))
    if ts_format in SPLIT:  # the time of day right after its date, as exports write them
        columns.insert([r for r, _ in columns].index("date") + 1, ("time", names["time"]))
    return Shape(
        kind=kind,
        columns=tuple(columns),
        delimiter=delimiter,
        quote_all=draw(st.booleans()),
        crlf=draw(st.booleans()),
        encoding=encoding,
        language=language,
        titles=draw(st.sampled_from((0, 0, 1, 2, 3))),
        total_row=draw(st.booleans()),
        ts_format=ts_format,
        zone=draw(st.sampled_from(ZONES)),
        seconds=seconds,
        millis=millis,
        cost_format=cost_format or draw(st.sampled_from(costs)),
        negatives=draw(st.booleans()),
        blank_lines=draw(st.booleans()),
        trailing_delimiter=draw(st.booleans()),
        sep_line=delimiter != "\t" and draw(st.booleans()),
        xlsx_dates=ts_format not in SPLIT and draw(st.booleans()),
        xlsx_numbers=draw(st.booleans()),
    )


def _wall_clock(shape: Shape) -> bool:
    """The file holds wall-clock times of the shape's zone, not instants."""
    return shape.ts_format not in WITH_OFFSET or (shape.kind == "xlsx" and shape.xlsx_dates)


def _unclear(t: dt.datetime, zone: ZoneInfo) -> bool:
    """The wall-clock time of ``t`` falls in a DST gap or overlap: no such file names the instant."""
    wall = t.astimezone(zone).replace(tzinfo=None)
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC) != wall.replace(tzinfo=zone, fold=1).astimezone(
        UTC
    )


@st.composite
def exports(
    draw, kind: str, ts_format: str | None = None, cost_format: str | None = None
) -> tuple[Shape, list[Event]]:
    shape = draw(shapes(kind, ts_format, cost_format))
    zone = ZoneInfo(shape.zone)
    # Each case walks through the log's activities from a step of its own, so the activity changes
    # within every case, as a process's does (a column of one repeated value is no activity).
    names = draw(st.lists(st.sampled_from(ACTIVITIES), min_size=2, max_size=6, unique=True))
    ids = draw(st.lists(st.integers(1, 99999), min_size=3, max_size=6, unique=True))
    id_style = draw(st.sampled_from(("C-{:05d}", "{:06d}", "{}", "Fall {}/Ü")))
    base = dt.datetime(draw(st.integers(2024, 2026)), draw(st.integers(1, 12)), 1, 6, tzinfo=UTC)
    events = []
    for n, k in enumerate(ids):
        # Cases begin at moments of their own (case n at least n days and n x 37 minutes after the
        # first): a log whose cases all ran at the same times would make every column look alike.
        t = base + dt.timedelta(
            days=n + draw(st.integers(0, 200)), minutes=37 * n + draw(st.integers(0, 1440))
        )
        first = draw(st.integers(0, len(names) - 1))
        for step in range(draw(st.integers(2, 5))):
            # A case's events at least two minutes apart: their order is the truth's order.
            t += dt.timedelta(minutes=draw(st.integers(2, 3000)))
            t = t.replace(
                second=draw(st.integers(0, 59)) if shape.seconds else 0,
                microsecond=draw(st.integers(0, 999)) * 1000 if shape.millis else 0,
            )
            start = t - dt.timedelta(minutes=draw(st.integers(1, 60))) if shape.has("start") else None
            # A wall-clock time in a DST gap or overlap names no one instant: such an event moves on.
            while _wall_clock(shape) and (_unclear(t, zone) or (start is not None and _unclear(start, zone))):
                t += dt.timedelta(hours=3)
                start = None if start is None else start + dt.timedelta(hours=3)
            cents = None
            if shape.has("cost") and draw(st.integers(0, 9)):  # one cost in ten left empty
                cents = draw(st.one_of(st.integers(0, 9999), st.integers(100000, 250000000)))
                cents -= cents % 100 if shape.cost_format == "de_whole" else 0
                cents *= -1 if shape.negatives and draw(st.integers(0, 5)) == 0 else 1
            resource = None
            if shape.has("res") and draw(st.integers(0, 9)):  # one resource in ten left empty
                resource = draw(st.sampled_from(RESOURCES))
            events.append(
                Event(
                    case=id_style.format(k),
                    activity=names[(first + step) % len(names)],
                    ts=t,
                    start=start,
                    resource=resource,
                    cents=cents,
                    region=draw(st.sampled_from(REGIONS)),
                    comment=draw(st.sampled_from(COMMENTS)),
                    docid=str(draw(st.integers(4000000000, 4999999999))),
                )
            )
    return shape, draw(st.permutations(events))


# --------------------------------------------------------------------------- writing


def _timestamp(t: dt.datetime, shape: Shape, part: str = "") -> str:
    f = shape.ts_format
    if f == "unix_s":
        return str(int(t.timestamp()))
    if f == "unix_ms":
        return str(int(t.timestamp()) * 1000 + t.microsecond // 1000)
    local = t.astimezone(UTC if f == "iso_z" else ZoneInfo(shape.zone))
    sec = ":%S" if shape.seconds else ""
    ms = f".{t.microsecond // 1000:03d}" if shape.millis else ""
    if f == "iso_z":
        return local.strftime("%Y-%m-%dT%H:%M" + sec) + ms + "Z"
    if f == "iso_offset":
        offset = local.strftime("%z")
        return local.strftime("%Y-%m-%dT%H:%M" + sec) + ms + offset[:3] + ":" + offset[3:]
    if f == "rfc_offset":
        return local.strftime("%Y-%m-%d %H:%M:%S %z")
    if f == "http_gmt":  # HTTP's and e-mail's date: the weekday first, GMT last
        return t.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    if f == "wd_dmy_zone":  # a report's: Wed 13/03/2024 09:15 CET
        return local.strftime("%a %d/%m/%Y %H:%M" + sec) + " " + str(local.tzname())
    if f in ("excel", "excel_comma"):
        serial = repr(round((local.replace(tzinfo=None) - EXCEL_EPOCH).total_seconds() / 86400, 10))
        return serial.replace(".", ",") if f == "excel_comma" else serial
    pattern = {
        "iso_naive": "%Y-%m-%d %H:%M" + sec,
        "dmy_dot": "%d.%m.%Y %H:%M" + sec,
        "dmy_slash": "%d/%m/%Y %H:%M" + sec,
        "dmy_slash_yy": "%d/%m/%y %H:%M" + sec,
        "mdy_ampm": "%-m/%-d/%Y %-I:%M" + sec + " %p",
        "wd_long_ampm": "%A, %B %d, %Y %I:%M" + sec + " %p",
        "us_js": "%-m/%-d/%Y, %-I:%M" + sec + " %p",  # JavaScript's toLocaleString()
        "de_uhr": "%d.%m.%Y %H:%M" + sec + " Uhr",
        "ymd_slash": "%Y/%m/%d %H:%M" + sec,
        "split_dmy": {"date": "%d.%m.%Y", "time": "%H:%M" + sec},
        "split_iso": {"date": "%Y-%m-%d", "time": "%H:%M" + sec},
        "split_mdy_ampm": {"date": "%m/%d/%Y", "time": "%I:%M" + sec + " %p"},
    }[f]
    return local.strftime(pattern[part] if isinstance(pattern, dict) else pattern) + ms


def _cost_text(cents: int | None, f: str) -> str:
    if cents is None:
        return ""
    whole, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""

    def grouped(sep: str) -> str:
        return f"{whole:,}".replace(",", sep)

    texts = {
        "plain": f"{whole}.{rest:02d}",
        "comma": f"{whole},{rest:02d}",
        "us_groups": f"{grouped(',')}.{rest:02d}",
        "de_groups": f"{grouped('.')},{rest:02d}",
        "fr_nbsp": f"{grouped(chr(0xA0))},{rest:02d}",
        "fr_narrow_nbsp": f"{grouped(chr(0x202F))},{rest:02d}",
        "euro_suffix": f"{grouped('.')},{rest:02d} €",
        "dollar": f"${grouped(',')}.{rest:02d}",
        "euro_prefix": f"€ {grouped(',')}.{rest:02d}",
        "koruna": f"{grouped(' ')},{rest:02d} Kč",
        "zloty": f"{grouped(' ')},{rest:02d} zł",
        "trimmed": f"{whole}.{rest:02d}".rstrip("0").rstrip("."),  # 12.5 for 12.50, 12 for 12.00
        "de_whole": grouped("."),
        "swiss": f"{grouped(chr(39))}.{rest:02d}",
    }
    if f == "sap_minus":  # SAP writes the sign after the amount
        return f"{grouped('.')},{rest:02d}{sign}"
    return sign + texts[f]


def _cell(e: Event, role: str, shape: Shape) -> str:
    if role in ("ts", "date", "time"):
        return _timestamp(e.ts, shape, role)
    if role == "start":
        return "" if e.start is None else _timestamp(e.start, shape)
    if role == "cost":
        return _cost_text(e.cents, shape.cost_format)
    texts = {"case": e.case, "act": e.activity, "res": e.resource or "", "life": "complete"}
    return {**texts, "region": e.region, "comment": e.comment, "docid": e.docid}[role]


def _total(events: list[Event], shape: Shape) -> list[str]:
    """A report's last line: a label in the first column and the sum of the costs."""
    values = [""] * len(shape.columns)
    values[0] = TOTAL[shape.language]
    if shape.has("cost"):
        at = [r for r, _ in shape.columns].index("cost")
        values[at] = _cost_text(sum(e.cents or 0 for e in events), shape.cost_format)
    return values


def write_csv(path: Path, shape: Shape, events: list[Event]) -> None:
    d = shape.delimiter

    def line(values: list[str]) -> str:
        quoted = [
            '"' + v.replace('"', '""') + '"'
            if shape.quote_all or any(c in v for c in (d, '"', "\n", "\r"))
            else v
            for v in values
        ]
        return d.join(quoted) + (d if shape.trailing_delimiter else "")

    lines = [f"sep={d}"] if shape.sep_line else []
    lines += TITLES[: shape.titles]
    lines.append(line([h for _, h in shape.columns]))
    for i, e in enumerate(events):
        lines.append(line([_cell(e, role, shape) for role, _ in shape.columns]))
        if shape.blank_lines and i % 5 == 2:
            lines.append("")
    if shape.total_row:
        lines.append(line(_total(events, shape)))
    nl = "\r\n" if shape.crlf else "\n"
    path.write_bytes((nl.join(lines) + nl).encode(shape.encoding))  # utf-16 and utf-8-sig begin with a BOM


def write_xlsx(path: Path, shape: Shape, events: list[Event]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Export")
    when = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm:ss"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    zone = ZoneInfo(shape.zone)
    for row, title in enumerate(TITLES[: shape.titles]):
        if title:
            sheet.write_string(row, 0, title)
    top = shape.titles
    for col, (_, header) in enumerate(shape.columns):
        sheet.write_string(top, col, header)
    row = top
    for i, e in enumerate(events):
        row += 2 if shape.blank_lines and i % 5 == 3 else 1
        for col, (role, _) in enumerate(shape.columns):
            at = {"ts": e.ts, "start": e.start}.get(role)
            if role in ("ts", "start") and shape.xlsx_dates and at is not None:
                sheet.write_datetime(row, col, at.astimezone(zone).replace(tzinfo=None), when)
            elif role == "cost" and shape.xlsx_numbers and e.cents is not None:
                sheet.write_number(row, col, e.cents / 100, money)
            elif role == "case" and shape.xlsx_numbers and e.case.isdigit() and not e.case.startswith("0"):
                sheet.write_number(row, col, int(e.case))
            elif text := _cell(e, role, shape):
                sheet.write_string(row, col, text)  # never write(): "=SUM(A1)" is text, not a formula
    if shape.total_row:
        for col, text in enumerate(_total(events, shape)):
            if text:
                sheet.write_string(row + 1, col, text)
    workbook.close()


# --------------------------------------------------------------------------- the property


def _options(shape: Shape, events: list[Event]) -> IngestOptions:
    """What a user passes: the zone of wall-clock times, the day order when no day above 12 proves it,
    and room for the Total row."""
    zone = ZoneInfo(shape.zone)
    dayfirst = None
    text_dates = shape.kind == "csv" or not shape.xlsx_dates
    if text_dates and shape.ts_format in DAY_FIRST + MONTH_FIRST:
        moments = [e.ts for e in events] + [e.start for e in events if e.start is not None]
        if max(m.astimezone(zone).day for m in moments) <= 12:
            dayfirst = shape.ts_format in DAY_FIRST
    named = shape.ts_format == "wd_dmy_zone"
    timezone = shape.zone if (_wall_clock(shape) or named) and shape.zone != "UTC" else None
    # A Total row is one rejected row; in a file of fewer than twenty rows that is more than the
    # default 5 % allows, and the user raises --max-rejects, as the refusal says.
    max_rejects = 0.2 if shape.total_row else 0.05
    return IngestOptions(timezone=timezone, dayfirst=dayfirst, max_rejects=max_rejects)


def _by_case(rows) -> dict[str, list[tuple]]:
    cases: dict[str, list[tuple]] = {}
    for row in rows:
        cases.setdefault(row[0], []).append(row[1:])
    return cases


def check_loads_exactly(path: Path, shape: Shape, events: list[Event]) -> None:
    """Write the export, load it as a first upload does (roles found by the importer), compare with the truth."""
    (write_xlsx if shape.kind == "xlsx" else write_csv)(path, shape, events)
    with Store() as store:
        summary = ingest_file(store, path, _options(shape, events))
        rows = store.query(
            "SELECT case_id, activity, ts, start_ts, resource, cost FROM events ORDER BY case_id, ts, row_no"
        ).rows
    got = _by_case(
        (
            c,
            a,
            ts.astimezone(UTC),
            None if s is None else s.astimezone(UTC),
            r,
            None if x is None else round(x * 100, 6),
        )
        for c, a, ts, s, r, x in rows
    )
    want = _by_case(
        (e.case, e.activity, e.ts, e.start, e.resource, e.cents)
        for e in sorted(events, key=lambda e: (e.case, e.ts))
    )
    # The Total row is the one row rejected (a row without a case or an activity), by name.
    assert (summary.cases, summary.events, summary.rejected_rows) == (
        len(want),
        len(events),
        int(shape.total_row),
    )
    assert sorted(got) == sorted(want)  # case ids as written: 000123 is not 123
    for field, name in enumerate(("activity", "timestamp", "start", "resource", "cost in cents")):
        assert {c: [e[field] for e in evs] for c, evs in got.items()} == {
            c: [e[field] for e in evs] for c, evs in want.items()
        }, name


#: Every timestamp format with a cost format, the costs in turn: each of both on every run.
PAIRS = list(zip(TS_FORMATS, itertools.cycle(COSTS), strict=False))


@pytest.mark.parametrize(("ts_format", "cost_format"), PAIRS, ids=[f"{t}-{c}" for t, c in PAIRS])
def test_a_text_export_in_any_shape_loads_the_log_it_holds(tmp_path, ts_format, cost_format):
    # A seed per pair keeps the examples the same from run to run, and each pair's its own
    # (derandomize would give every pair the same draws).
    @seed(TS_FORMATS.index(ts_format))
    @settings(max_examples=3, deadline=None)
    @given(export=exports("csv", ts_format, cost_format))
    def loads_exactly(export):
        shape, events = export
        check_loads_exactly(tmp_path / "export.csv", shape, events)

    loads_exactly()


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(export=exports("xlsx"))
def test_a_workbook_export_in_any_shape_loads_the_log_it_holds(tmp_path, export):
    shape, events = export
    check_loads_exactly(tmp_path / "export.xlsx", shape, events)
