"""The tables of metrics, for Django and the migrations: each subsystem keeps its models in its own
``models`` module (``metrics.rollups.models``, ``metrics.kpis.models``, ``metrics.scenarios.models``);
import them from there. This list only makes them the app's models (same app label, same tables)."""
