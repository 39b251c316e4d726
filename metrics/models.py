"""The tables of metrics, for Django and the migrations: each subsystem keeps its models in its own
``models`` module (``metrics.rollups.models``, ``metrics.kpis.models``, ``metrics.dashboards.models``,
``metrics.scenarios.models``); import them from there. This list only makes them the app's models
(same app label, same tables) and keeps the choices the API schema names (``SPECTACULAR_SETTINGS``)
where it finds them."""

from metrics.dashboards.models import (
    ReportKind,
    ReportSend,
)
from metrics.kpis.models import (
    KpiDefinition,
    KpiDirection,
    KpiUnit,
)
from metrics.rollups.models import (
    CalendarBucket,
    Cell,
    CellSource,
    Dimension,
    DirtyMark,
    Grain,
    Measures,
    RefreshKind,
    RefreshRun,
    Rollup,
)
from metrics.scenarios.models import (
    FitStatus,
    ModelLevel,
    ModelOutcome,
    ResponseModel,
    Scenario,
    ScenarioKind,
    ScenarioLine,
    ScenarioStatus,
    ScenarioTransfer,
)

__all__ = [
    "CalendarBucket",
    "Cell",
    "CellSource",
    "Dimension",
    "DirtyMark",
    "FitStatus",
    "Grain",
    "KpiDefinition",
    "KpiDirection",
    "KpiUnit",
    "Measures",
    "ModelLevel",
    "ModelOutcome",
    "RefreshKind",
    "RefreshRun",
    "ReportKind",
    "ReportSend",
    "ResponseModel",
    "Rollup",
    "Scenario",
    "ScenarioKind",
    "ScenarioLine",
    "ScenarioStatus",
    "ScenarioTransfer",
]
