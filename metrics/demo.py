"""Metrics' part of the demo: the rollups are rebuilt from the demo facts the other apps just created
(bulk-created facts announce nothing, so an incremental refresh would miss them), and the CMO asks
for one response model for the scenario pages. Returns the rows created (the model, once)."""

from django.contrib.auth import get_user_model

from metrics.rollups import services
from metrics.scenarios import services as scenario_services
from metrics.scenarios.models import ModelLevel, ModelOutcome, ResponseModel


def seed(log=print) -> int:
    run = services.rebuild_all(compare=True)
    log(f"metrics: rollups rebuilt ({run.cells_written} cells, {run.rollups_written} rollup rows).")
    return _seed_response_model(log)


def _seed_response_model(log) -> int:
    """Pipeline by program: the demo's year or so of weekly history is too short for its seven channels
    (the channel-level fit says so in words), but enough for its programs. Fitted after the demo commits."""
    cmo = get_user_model().objects.filter(username="cmo").first()
    if cmo is None or ResponseModel.objects.exists():
        return 0
    model = scenario_services.response_model_request(actor=cmo, outcome=ModelOutcome.PIPELINE, level=ModelLevel.PROGRAM)
    log(f"metrics: response model #{model.pk} (pipeline by program) asked for; it is fitted once the demo is saved.")
    return 1
