"""A monitoring run as one self-contained HTML file.

The report opens with the manager's summary (:mod:`mining.monitor.summary`,
at most five sentences) on one screen; every detail follows in a collapsed
section.  Long tables are bounded: the newest :data:`TABLE_PERIODS` periods,
charts over the newest :data:`CHART_PERIODS`, the first :data:`TABLE_ROWS`
rows of any other list, each saying how many it leaves out (the JSON of
``mining monitor --json`` has them all).

No scripts, no web fonts, nothing fetched: the styles are inline and every
chart is an SVG drawn here, with axis titles and units.  The same run gives
the same bytes: no generation time, fixed ordering, and every number written
with a fixed format.  Every piece of text that comes from the data (log and
activity names, attribute values, messages) goes through ``html.escape``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mining.durations import duration_unit, format_duration
from mining.monitor.lean import pce_words, waste_words
from mining.monitor.periods import KpiInfo, PeriodKPIs
from mining.monitor.run import KpiChart, MonitorRun
from mining.monitor.summary import Summary, manager_summary
from mining.monitor.words import difference_words, format_value, interval_words, p_words, period_label

__all__ = ["CHART_PERIODS", "TABLE_PERIODS", "TABLE_ROWS", "render_html", "summary_html", "write_report"]

#: The KPI table shows the newest this many periods.
TABLE_PERIODS = 52
#: A control chart shows the newest this many periods.
CHART_PERIODS = 156
#: Any other list shows its first this many rows.
TABLE_ROWS = 30

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1b1f24;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f6f8fa}td.t,th.t{text-align:left}
.scroll{overflow-x:auto}.kpi td{white-space:nowrap}.kpi td:nth-child(2){white-space:normal;min-width:13rem}.muted{color:#57606a;font-size:.9rem}
.alert{border-left:4px solid #cf222e;background:#fff5f5;padding:.4rem .8rem;margin:.4rem 0}
.ok{border-left:4px solid #1a7f37;background:#f3fff5;padding:.4rem .8rem}
.warn{border-left:4px solid #bf8700;background:#fffbea;padding:.4rem .8rem;margin:.4rem 0}
svg{background:#fff;border:1px solid #d0d7de;margin:.4rem 0}
svg text{font-family:inherit;font-size:11px;fill:#1b1f24}
.summary{font-size:1.08rem;border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1.1rem;background:#f6f8fa}
.summary p{margin:.45rem 0}.facts{color:#57606a;font-size:.92rem;margin-top:0}
details{border-top:1px solid #d0d7de;padding:.3rem 0}details>summary{cursor:pointer;font-size:1.15rem;
font-weight:600;padding:.35rem 0}details>summary .muted{font-weight:400}
"""

_W, _H = 760, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 16, 28, 58


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(x: float) -> str:
    """A coordinate: one decimal, never ``-0.0``."""
    v = round(x, 1)
    return f"{0.0 if v == 0 else v:.1f}"


def _p(value: float | None) -> str:
    """A p-value."""
    if value is None:
        return "-"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


# -- charts ---------------------------------------------------------------------------


def _scale(unit: str, values: Sequence[float]) -> tuple[float, str]:
    """Divisor and axis unit so the numbers on the axis read naturally."""
    if unit == "seconds":
        per, name = duration_unit(max((abs(v) for v in values), default=0.0))
        return float(per), name
    if unit in {"share", "ratio"}:
        return 0.01, "%"
    if unit == "cases":
        return 1.0, "cases"
    if unit == "money":
        return 1.0, "cost per case"
    return 1.0, unit or "value"


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    span = hi - lo
    raw = span / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    out = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        out.append(round(first + k * step, 10))
        k += 1
    return out


def _tick_text(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _svg_chart(
    kc: KpiChart, kpi: KpiInfo, periods: Sequence[PeriodKPIs], period: str, timezone: str, change: Any
) -> str:
    chart = kc.chart
    first = max(0, len(chart.values) - CHART_PERIODS)
    values = chart.values[first:]
    shown = periods[first:]
    n = len(values)
    centers = [chart.center_at(i) for i in range(first, len(chart.values))]
    unit = kc.unit
    pts = [v for v in values if v is not None]
    lims = [v for v in (*chart.ucl[first:], *chart.lcl[first:]) if v is not None]
    div, axis_unit = _scale(unit, pts + lims + centers)
    scaled = [None if v is None else v / div for v in values]
    ucl = [None if v is None else v / div for v in chart.ucl[first:]]
    lcl = [None if v is None else v / div for v in chart.lcl[first:]]
    center = [c / div for c in centers]
    every = [
        *[s for s in scaled if s is not None],
        *[u for u in ucl if u is not None],
        *[u for u in lcl if u is not None],
        *center,
    ]
    lo, hi = min(every), max(every)
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    if min(every) >= 0 > lo:
        lo = 0.0
    pw, ph = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(i: float) -> float:
        return _LEFT + (i + 0.5) * pw / n

    def y(v: float) -> float:
        return _TOP + (hi - v) / (hi - lo) * ph

    title = f"{kc.label} ({chart.kind} chart" + (", per working day)" if chart.kind == "u" else ")")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
        f'role="img" aria-label="{_e(kc.label)} control chart">'
    ]
    out.append(f'<text x="{_LEFT}" y="16" font-weight="bold">{_e(title)}</text>')
    band = pw / n
    for i, p in enumerate(shown):
        # Periods the export cuts are shaded: shown, never judged.
        if p.cut:
            out.append(
                f'<rect x="{_n(x(i) - band / 2)}" y="{_TOP}" width="{_n(band)}" height="{ph}" fill="#eaeef2">'
                f"<title>{_e(period_label(p.start, period))}: not judged, {_e(p.cut)}</title></rect>"
            )
        elif p.holidays:
            out.append(
                f'<rect x="{_n(x(i) - band / 2)}" y="{_TOP + ph - 5}" width="{_n(band)}" height="5" '
                f'fill="#bf8700"><title>{_e(period_label(p.start, period))}: {_e("; ".join(p.holidays))}'
                "</title></rect>"
            )
    for t in _ticks(lo, hi):
        out.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_n(y(t))}" y2="{_n(y(t))}" stroke="#eaeef2"/>'
        )
        out.append(f'<text x="{_LEFT - 6}" y="{_n(y(t) + 4)}" text-anchor="end">{_e(_tick_text(t))}</text>')
    out.append(f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_TOP + ph}" stroke="#57606a"/>')
    out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_TOP + ph}" y2="{_TOP + ph}" stroke="#57606a"/>')
    step = max(1, math.ceil(n / 10))
    for i in range(0, n, step):
        out.append(
            f'<line x1="{_n(x(i))}" x2="{_n(x(i))}" y1="{_TOP + ph}" y2="{_TOP + ph + 4}" stroke="#57606a"/>'
        )
        out.append(
            f'<text x="{_n(x(i))}" y="{_TOP + ph + 16}" text-anchor="middle">'
            f"{_e(shown[i].start.isoformat())}</text>"
        )
    more = f"; the newest {n} of {len(chart.values)}" if first else ""
    out.append(
        f'<text x="{_n(_LEFT + pw / 2)}" y="{_H - 8}" text-anchor="middle">'
        f"Start of {_e(period)} ({_e(timezone)}{_e(more)}); grey: not judged</text>"
    )
    out.append(
        f'<text transform="translate(14,{_n(_TOP + ph / 2)}) rotate(-90)" text-anchor="middle">'
        f"{_e(axis_unit)}</text>"
    )
    if change is not None:
        for i, p in enumerate(shown):
            if p.start <= change < p.end:
                frac = (change - p.start).days / max((p.end - p.start).days, 1)
                cx = _LEFT + (i + frac) * pw / n
                out.append(
                    f'<line x1="{_n(cx)}" x2="{_n(cx)}" y1="{_TOP}" y2="{_TOP + ph}" stroke="#8250df" '
                    'stroke-dasharray="5,3"/>'
                )
                out.append(
                    f'<text x="{_n(cx + 4)}" y="{_TOP + 10}" fill="#8250df">change '
                    f"{_e(change.isoformat())}</text>"
                )
    path = _step_path(center, x, y, band)
    out.append(f'<path d="{path}" fill="none" stroke="#1a7f37" stroke-width="1.5"/>')
    for limits, name in ((ucl, "UCL"), (lcl, "LCL")):
        path = _step_path(limits, x, y, band)
        if path:
            out.append(f'<path d="{path}" fill="none" stroke="#cf222e" stroke-dasharray="4,3"/>')
        last = next((v for v in reversed(limits) if v is not None), None)
        if last is not None:
            out.append(
                f'<text x="{_W - _RIGHT - 2}" y="{_n(y(last) - 3)}" text-anchor="end" fill="#cf222e">'
                f"{name}</text>"
            )
    line = _line_path(scaled, x, y)
    if line:
        out.append(f'<path d="{line}" fill="none" stroke="#0969da" stroke-width="1.5"/>')
    flagged: dict[int, list[int]] = {}
    for s in chart.signals:
        flagged.setdefault(s.index - first, []).append(s.rule)
    for i, v in enumerate(scaled):
        if v is None:
            continue
        label = period_label(shown[i].start, period)
        tip = f"{label}: {format_value(values[i], unit)}"
        if i in flagged:
            rules = ", ".join(str(r) for r in sorted(set(flagged[i])))
            out.append(
                f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="4.5" fill="#cf222e">'
                f"<title>{_e(tip)}; rules {_e(rules)}</title></circle>"
            )
        else:
            out.append(
                f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="2.5" fill="#0969da">'
                f"<title>{_e(tip)}</title></circle>"
            )
    out.append("</svg>")
    return "".join(out)


def _svg_cusum(kc: KpiChart, periods: Sequence[PeriodKPIs], period: str) -> str:
    """The upper and lower CUSUM of a chart, in sigma, with the decision interval."""
    cs = kc.cusum
    if cs is None:
        return ""
    first = max(0, len(cs.upper) - CHART_PERIODS)
    up, down = cs.upper[first:], cs.lower[first:]
    shown = periods[first:]
    n = len(up)
    height = 170
    top, bottom = 24, 36
    ph = height - top - bottom
    pw = _W - _LEFT - _RIGHT
    peak = max([cs.h * 1.2, *[v for v in (*up, *down) if v is not None]])

    def x(i: float) -> float:
        return _LEFT + (i + 0.5) * pw / n

    def y(v: float) -> float:
        return top + ph / 2 - v / peak * ph / 2

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" viewBox="0 0 {_W} {height}" '
        f'role="img" aria-label="{_e(kc.label)} CUSUM">',
        f'<text x="{_LEFT}" y="16" font-weight="bold">{_e(kc.label)}: CUSUM (sums in sigma, up above, '
        "down below the axis)</text>",
        f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_n(y(0))}" y2="{_n(y(0))}" stroke="#57606a"/>',
    ]
    for h in (cs.h, -cs.h):
        out.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_n(y(h))}" y2="{_n(y(h))}" stroke="#cf222e" '
            'stroke-dasharray="4,3"/>'
        )
    out.append(f'<text x="{_LEFT - 6}" y="{_n(y(cs.h) + 4)}" text-anchor="end">h = {cs.h:g}</text>')
    for series, sign in ((up, 1.0), (down, -1.0)):
        path = _line_path([None if v is None else sign * v for v in series], x, y)
        if path:
            out.append(f'<path d="{path}" fill="none" stroke="#0969da" stroke-width="1.5"/>')
    for sig in cs.signals:
        i = sig.index - first
        if 0 <= i < n:
            v = up[i] if sig.direction == "up" else down[i]
            if v is not None:
                sign = 1.0 if sig.direction == "up" else -1.0
                out.append(
                    f'<circle cx="{_n(x(i))}" cy="{_n(y(sign * sig.statistic))}" r="4.5" fill="#cf222e">'
                    f"<title>{_e(period_label(shown[i].start, period))}: {_e(sig.description)}</title></circle>"
                )
    step = max(1, math.ceil(n / 10))
    for i in range(0, n, step):
        out.append(
            f'<text x="{_n(x(i))}" y="{height - 14}" text-anchor="middle">{_e(shown[i].start.isoformat())}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _line_path(values: Sequence[float | None], x: Any, y: Any) -> str:
    parts = []
    pen = False
    for i, v in enumerate(values):
        if v is None:
            pen = False
            continue
        parts.append(f"{'L' if pen else 'M'}{_n(x(i))},{_n(y(v))}")
        pen = True
    return " ".join(parts)


def _step_path(values: Sequence[float | None], x: Any, y: Any, width: float) -> str:
    parts = []
    for i, v in enumerate(values):
        if v is None:
            continue
        parts.append(f"M{_n(x(i) - width / 2)},{_n(y(v))} L{_n(x(i) + width / 2)},{_n(y(v))}")
    return " ".join(parts)


# -- sections ---------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], text: Sequence[int] = (0,)) -> str:
    """A table; the columns in ``text`` are left-aligned, the others (numbers) right-aligned."""

    def cell(tag: str, i: int, content: str) -> str:
        return f'<{tag} class="t">{content}</{tag}>' if i in text else f"<{tag}>{content}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _bounded(rows: Sequence[Any], what: str, limit: int = TABLE_ROWS) -> tuple[Sequence[Any], str]:
    """The first ``limit`` rows and a sentence on what is left out (empty when nothing is)."""
    if len(rows) <= limit:
        return rows, ""
    return rows[:limit], f'<p class="muted">The first {limit:,} of {len(rows):,} {_e(what)} are shown.</p>'


def _section(title: str, body: str, note: str = "", *, open_: bool = False) -> str:
    if not body:
        return ""
    extra = f' <span class="muted">{_e(note)}</span>' if note else ""
    return f"<details{' open' if open_ else ''}><summary>{_e(title)}{extra}</summary>{body}</details>"


def _when(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def summary_html(summary: Summary) -> str:
    """The manager's summary as the report and the digest show it: one paragraph per sentence."""
    return (
        '<section id="summary" class="summary">'
        + "".join(f"<p>{_e(s)}</p>" for s in summary.sentences)
        + "</section>"
    )


def _facts(run: MonitorRun) -> str:
    s = run.series
    o = run.options
    parts = [
        f"{s.cases:,} cases",
        f"{_when(s.first)[:10]} to {_when(s.as_of)[:10]}",
        f"{s.period}s in {s.timezone}",
    ]
    if o.change_date:
        parts.append(f"change date {o.change_date.isoformat()}")
    if s.sla_seconds is not None:
        parts.append(f"SLA {format_duration(s.sla_seconds)}")
    if s.calendar:
        parts.append(f"calendar {s.calendar}")
    if run.filters:
        parts.append("filters: " + "; ".join(run.filters))
    return f'<p class="facts">{_e(" · ".join(parts))}</p>'


def _run_table(run: MonitorRun) -> str:
    s = run.series
    o = run.options
    c = s.completeness
    rows = [
        ("Log", _e(run.log)),
        ("Data window", f"{_e(_when(s.first))} to {_e(_when(s.as_of))} (the last recorded instant)"),
        ("Cases", f"{s.cases:,} ({c.complete:,} complete, {c.open:,} open, {c.stalled:,} stalled)"),
        ("Ingest batches", f"{run.ingest_runs:,}"),
        ("Periods", f"{_e(s.period)}s in {_e(s.timezone)}"),
        ("Calendar", _e(s.calendar or "none: elapsed time")),
        ("SLA", _e(format_duration(s.sla_seconds)) if s.sla_seconds is not None else "none"),
        ("Filters", _e("; ".join(run.filters)) if run.filters else "none"),
        ("Change date", _e(o.change_date.isoformat()) if o.change_date else "none"),
        ("Run key", f"<code>{_e(run.key)}</code>"),
    ]
    return _table(["", ""], [(f"<b>{k}</b>", v) for k, v in rows], text=(0, 1))


def _quality(run: MonitorRun) -> str:
    s = run.series
    c = s.completeness
    parts = []
    if s.range_note:
        parts.append(f'<p class="warn">{_e(s.range_note)}</p>')
    cut = [p for p in s.periods if p.cut]
    if cut:
        shown, more = _bounded(cut, "periods the export cuts")
        parts.append(
            "<p>Shown but not judged, because the export cuts them:</p><ul>"
            + "".join(f"<li>{_e(period_label(p.start, s.period))}: {_e(p.cut)}</li>" for p in shown)
            + "</ul>"
            + more
        )
    if run.quality:
        shown, more = _bounded(run.quality, "findings")
        parts.append(
            "<p>Found at ingest:</p><ul>"
            + "".join(
                f"<li>{_e(q.message)}"
                + (f' <span class="muted">e.g. {_e("; ".join(q.examples[:3]))}</span>' if q.examples else "")
                + "</li>"
                for q in shown
            )
            + "</ul>"
            + more
        )
    else:
        parts.append("<p>No data-quality findings were recorded at ingest.</p>")
    parts.append(
        f"<p>{c.open:,} cases are still open and {c.stalled:,} stalled; they are counted per period "
        "and left out of the cycle times (see the method).</p>"
    )
    return "".join(parts)


def _alerts(run: MonitorRun) -> str:
    if not run.alerts:
        return '<p class="ok">No alert: no rule fired on the newest judged period of any chart.</p>'
    return "".join(f'<div class="alert">{_e(a.sentence)}</div>' for a in run.alerts)


def _kpi_table(run: MonitorRun) -> str:
    s = run.series
    kpis = list(s.kpis)
    header = [
        f"{_e(s.period.capitalize())} starting",
        "Not judged because",
        "Working days",
        *(_e(k.label) for k in kpis),
    ]
    rows = []
    periods = s.periods[-TABLE_PERIODS:]
    for p in reversed(periods):
        days = f"{p.working_days:g}" + (f" ({_e('; '.join(p.holidays))})" if p.holidays else "")
        rows.append(
            [
                _e(p.start.isoformat()),
                _e(p.cut),
                days,
                *(_e(format_value(p.value(k.name), k.unit)) for k in kpis),
            ]
        )
    more = (
        f'<p class="muted">The newest {len(periods):,} of {len(s.periods):,} periods, newest first; '
        "<code>mining monitor --json</code> has them all.</p>"
        if len(periods) < len(s.periods)
        else '<p class="muted">Newest first.</p>'
    )
    return (
        f'<p class="muted">{_e(s.note)} {_e(s.working_days_method)}</p>'
        + more
        + f'<div class="kpi">{_table(header, rows, text=(0, 1, 2))}</div>'
    )


def _charts(run: MonitorRun) -> str:
    s = run.series
    parts = [f'<p class="muted">{_e(run.method)}</p>']
    for kc in run.charts:
        kpi = s.kpi(kc.kpi)
        parts.append(f"<h3>{_e(kc.label)}</h3>")
        parts.append(_svg_chart(kc, kpi, s.periods, s.period, s.timezone, run.options.change_date))
        parts.append(f'<p class="muted">{_e(kc.chart.note)} {_e(kc.note[:1].upper() + kc.note[1:])}.</p>')
        if kc.cusum is not None:
            parts.append(_svg_cusum(kc, s.periods, s.period))
            parts.append(f'<p class="muted">{_e(kc.cusum.note)}</p>')
        signals = list(reversed(kc.chart.signals))
        if signals:
            shown, more = _bounded(signals, "signals of this chart (newest first)")
            parts.append(
                "<ul>"
                + "".join(f"<li>Rule {s_.rule} ({_e(s_.name)}): {_e(s_.description)}</li>" for s_ in shown)
                + "</ul>"
                + more
            )
        if kc.moving_range is not None and kc.moving_range.signals:
            shown, more = _bounded(list(reversed(kc.moving_range.signals)), "moving-range signals")
            parts.append(
                "<p>Moving range:</p><ul>"
                + "".join(f"<li>{_e(s_.description)}</li>" for s_ in shown)
                + "</ul>"
                + more
            )
    for note in run.notes:
        parts.append(f'<p class="muted">{_e(note)}</p>')
    return "".join(parts)


def _comparison(run: MonitorRun) -> str:
    c = run.comparison
    if c is None:
        return ""
    rows = []
    for k in c.kpis:
        unit = k.unit
        ci = _e(interval_words(k.ci_low, k.ci_high, unit))
        rel = "-" if k.relative is None else f"{k.relative:+.1%}"
        if k.adjustment == "applied":
            adjusted = (
                f"{_e(difference_words(k.adjusted_difference, unit))} ({k.adjusted_coverage:.0%} of cases)"
            )
        elif k.adjustment == "does not apply":
            adjusted = "does not apply"
        else:
            adjusted = "-"
        rows.append(
            [
                _e(k.label),
                _e(format_value(k.before, unit)),
                _e(format_value(k.after, unit)),
                _e(difference_words(k.difference, unit, short=True)),
                rel,
                ci,
                _e(p_words(k.p_value, c.resamples)),
                f"{k.n_before:,} / {k.n_after:,}",
                adjusted,
            ]
        )
    parts = [
        f"<p>{c.before_cases:,} cases started before the change and {c.after_cases:,} from it on "
        f"({c.before_periods} and {c.after_periods} whole periods). Differences of rates are in percentage "
        "points (pp); relative changes in percent of the value before. Volumes are means per period.</p>",
        _table(
            [
                "KPI",
                "Before",
                "After",
                "Difference",
                "Relative",
                f"{c.confidence:.0%} interval",
                "p-value",
                "n before / after",
                "Mix-adjusted difference",
            ],
            rows,
        ),
    ]
    notes = sorted({k.adjustment_note for k in c.kpis if k.adjustment == "does not apply"})
    for note in notes:
        parts.append(f'<p class="muted">{_e(note)}</p>')
    for w in c.warnings:
        parts.append(f'<p class="warn">{_e(w)}</p>')
    mix = c.mix
    if not mix.shifted:
        parts.append(f"<p>{_e(mix.note)}</p>")
    if mix.chosen:
        parts.append(f'<p class="muted">{_e(mix.chosen)}</p>')
    mix_rows = []
    tb, ta = sum(mix.before) or 1, sum(mix.after) or 1
    for name, b, a in zip(mix.strata, mix.before, mix.after, strict=True):
        mix_rows.append([_e(name), f"{b:,}", f"{b / tb:.1%}", f"{a:,}", f"{a / ta:.1%}"])
    parts.append(f"<h3>Case mix by {_e(mix.by)}</h3>")
    parts.append(_table(["Stratum", "Cases before", "Share before", "Cases after", "Share after"], mix_rows))
    return "".join(parts)


def _capability(run: MonitorRun) -> str:
    cap = run.capability
    if cap is None:
        return ""

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    rows = [
        ["Cases", f"{cap.n:,}"],
        ["Cp", f(cap.cp)],
        ["Cpk", f(cap.cpk)],
        ["Pp", f(cap.pp)],
        ["Ppk", f(cap.ppk)],
        ["Sigma level", f(cap.sigma_level)],
        ["Observed breach rate", f"{cap.defect_rate:.1%}"],
    ]
    return _table(["Index", "Value"], rows) + f'<p class="muted">{_e(cap.note)}</p>'


def _rules(run: MonitorRun) -> str:
    if not run.rules:
        return ""
    ranked = sorted(run.rules, key=lambda r: (-r.violations, r.name))
    shown, more = _bounded(ranked, "rules, most violated first")
    rows = [
        [_e(r.name), f"{r.violations:,}", f"{r.activated:,}", f"{r.rate:.1%}", _e(r.sentence)] for r in shown
    ]
    return _table(["Rule", "Violations", "Judged cases", "Rate", "In words"], rows, text=(0, 4)) + more


def _lean(run: MonitorRun) -> str:
    v = run.lean
    if v is None:
        return ""
    shown, more = _bounded(v.steps, "steps of the main variant")
    steps = [
        [
            str(s.position),
            _e(s.activity),
            f"{s.cases:,}",
            _e(format_duration(s.waiting_median)),
            _e(format_duration(s.processing_median)),
        ]
        for s in shown
    ]
    pce = pce_words(v)
    wastes = [
        [
            _e(w.kind),
            _e(waste_words(w, v.business_time)[0]),
            _e(waste_words(w, v.business_time)[1]),
            "-" if w.cost is None else f"{w.cost:,.2f}",
            f"{w.cases:,}",
            _e(w.explanation),
        ]
        for w in v.wastes
    ]
    path = list(v.main_variant)
    trail = path if len(path) <= 12 else [*path[:6], "…", *path[-5:]]
    return (
        f"<p>Main variant: {_e(' → '.join(trail))} ({v.main_variant_cases:,} cases, "
        f"{v.main_variant_share:.1%}); median lead time {_e(format_duration(v.lead_time_median))}; "
        f"process cycle efficiency {pce}.</p>"
        + _table(
            ["Step", "Activity", "Cases", "Median waiting before", "Median processing"], steps, text=(1,)
        )
        + more
        + "<h3>Waste</h3>"
        + _table(["Kind", "Time", "Per case", "Cost", "Cases", "How"], wastes, text=(0, 5))
        + f'<p class="muted">{_e(v.note)}</p>'
    )


def _methods(run: MonitorRun) -> str:
    s = run.series
    items = [
        f"<li><b>Complete, open and stalled cases.</b> {_e(s.completeness.method)}</li>",
        f"<li><b>Periods.</b> {_e(s.note)} {_e(s.working_days_method)}</li>",
    ]
    items += [f"<li><b>{_e(k.label)}.</b> {_e(k.method)}</li>" for k in s.kpis]
    if run.comparison is not None:
        items.append(f"<li><b>Before and after.</b> {_e(run.comparison.method)}</li>")
        items += [
            f"<li><b>{_e(k.label)} (before/after).</b> Test: {_e(k.test)}.</li>" for k in run.comparison.kpis
        ]
    items.append(f"<li><b>Control charts and alerts.</b> {_e(run.method)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def render_html(run: MonitorRun) -> str:
    """The report as HTML text (see the module docstring)."""
    title = f"Monitoring report: {run.log}"
    summary = manager_summary(run)
    s = run.series
    cut = sum(1 for p in s.periods if p.cut)
    c = run.comparison
    body = [
        f"<h1>{_e(title)}</h1>",
        _facts(run),
        summary_html(summary),
        _section("Alerts", _alerts(run), f"{len(run.alerts) or 'none'} on the newest judged periods"),
        _section(
            f"Before and after {c.change_date.isoformat()}" if c else "",
            _comparison(run),
            f"{len(c.kpis)} KPIs, {c.confidence:.0%} intervals" if c else "",
        ),
        _section("Control charts", _charts(run), f"{len(run.charts)} charts"),
        _section(
            "KPIs per period",
            _kpi_table(run),
            f"{min(len(s.periods), TABLE_PERIODS):,} of {len(s.periods):,} {s.period}s",
        ),
        _section("Data quality and what is not judged", _quality(run), f"{cut} periods not judged"),
        _section("Capability against the SLA", _capability(run)),
        _section("Rules", _rules(run)),
        _section("Lean view", _lean(run)),
        _section("How each figure was computed", _methods(run)),
        _section("This run", _run_table(run)),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(b for b in body if b)
        + "\n</body>\n</html>\n"
    )


def write_report(run: MonitorRun, path: str | Path) -> Path:
    """Write the report to ``path`` (UTF-8) and return it."""
    path = Path(path)
    path.write_text(render_html(run), encoding="utf-8", newline="\n")
    return path
