"""A module whose import takes three seconds, for tests/test_app_limits.py.

A child that must preload it cannot be ready within a one-second limit,
however warm the machine's file cache: the usual modules alone (the
monitoring run's are light) sometimes load in under a second.
"""

from __future__ import annotations

import time

time.sleep(3)
