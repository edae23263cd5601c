"""Monitoring: KPIs per period, before/after a change, control charts, alerts."""
