"""mining: a process-mining workbench over a DuckDB workspace.

The top level imports nothing heavy; import the submodules you need
(``mining.store``, ``mining.ingest``, ``mining.catalog``).
"""

from mining.errors import MiningError

__all__ = ["MiningError", "__version__"]

__version__ = "0.1.0"
