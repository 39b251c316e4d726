from types import SimpleNamespace

import pytest

from workflows import registry
from workflows.models import TemplateStep
from workflows.selectors import step_applies


def test_business_apps_register_their_subjects():
    keys = {t.key for t in registry.all_types()}
    assert {"general_request", "campaign_launch", "asset_review", "budget_allocation", "budget_transfer"} <= keys


def test_registering_a_different_subject_under_a_taken_key_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.SubjectType(key="general_request", label="Impostor"))


def test_unknown_subject_type_is_a_clear_error():
    with pytest.raises(LookupError, match="No workflow subject type 'nope'"):
        registry.get("nope")


def test_callbacks_fire_by_event_name(monkeypatch):
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))  # leave the real registry as it was
    seen = []
    registry.register(
        registry.SubjectType(key="test_callbacks", label="Test", on_approved=seen.append, on_rejected=None)
    )
    first, second = SimpleNamespace(pk=1), SimpleNamespace(pk=2)
    registry.fire("test_callbacks", "approved", first, actor="alice")
    registry.fire("test_callbacks", "rejected", second)  # no callback: nothing happens
    assert seen == [first]
    assert first.actor == "alice"  # the callback knows who fired it


@pytest.mark.parametrize(
    ("operator", "value", "amount", "applies"),
    [
        ("gte", "50000", "50000", True),
        ("gte", "50000", "49999.99", False),
        ("gt", "50000", "50000", False),
        ("lt", "100", "99", True),
        ("lte", "100", "100.00", True),
        ("eq", "100", "100.0", True),
        ("ne", "100", "100", False),
        ("gte", "50000", None, False),  # no value: the step does not apply
    ],
)
def test_numeric_conditions(operator, value, amount, applies):
    step = TemplateStep(condition_attribute="amount", condition_operator=operator, condition_value=value)
    assert step_applies(step, "general_request", {"amount": amount}) is applies


def test_no_condition_always_applies():
    assert step_applies(TemplateStep(), "general_request", {}) is True
