import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mops.env import env_bool, env_currency, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("YES", True), ("off", False), ("0", False)]
)
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("MOPS_FLAG", raw)
    assert env_bool("MOPS_FLAG") is expected


def test_env_bool_refuses_a_value_that_is_not_boolean(monkeypatch):
    monkeypatch.setenv("MOPS_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="MOPS_FLAG='maybe' is not a boolean"):
        env_bool("MOPS_FLAG")


def test_env_int_refuses_text_and_out_of_range(monkeypatch):
    monkeypatch.setenv("MOPS_N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("MOPS_N", 1)
    monkeypatch.setenv("MOPS_N", "13")
    with pytest.raises(ImproperlyConfigured, match=r"outside 1\.\.12"):
        env_int("MOPS_N", 1, min_value=1, max_value=12)


def test_empty_values_count_as_unset(monkeypatch):
    monkeypatch.setenv("MOPS_EMPTY", "  ")
    assert env_str("MOPS_EMPTY", "fallback") == "fallback"
    assert env_list("MOPS_EMPTY", ["a"]) == ["a"]
    assert env_int("MOPS_EMPTY", 7) == 7


def test_env_str_without_default_is_required(monkeypatch):
    monkeypatch.delenv("MOPS_MISSING", raising=False)
    with pytest.raises(ImproperlyConfigured, match="Set the MOPS_MISSING"):
        env_str("MOPS_MISSING")


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("MOPS_HOSTS", "a.example, b.example ,")
    assert env_list("MOPS_HOSTS") == ["a.example", "b.example"]


def test_currency_must_be_iso_code(monkeypatch):
    monkeypatch.setenv("MOPS_CCY", "eur")
    assert env_currency("MOPS_CCY", "USD") == "EUR"
    monkeypatch.setenv("MOPS_CCY", "EURO")
    with pytest.raises(ImproperlyConfigured, match="ISO-4217"):
        env_currency("MOPS_CCY", "USD")


def _run_manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = _run_manage("check", DEBUG="false", MOPS_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_bad_fiscal_start_month_stops_the_process(tmp_path):
    result = _run_manage("check", DEBUG="true", FISCAL_YEAR_START_MONTH="13", MOPS_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "FISCAL_YEAR_START_MONTH=13 is outside 1..12" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="k8#Qz!w2@rT5yU7iO9pA1sD3fG6hJ8kL0zX4cV6bN8mQ2wE4rT6yU8i",
        ALLOWED_HOSTS="mops.example.com",
        MOPS_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_embedded_run_generates_and_keeps_a_secret_key(tmp_path):
    first = _run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        DEBUG="true",
        MOPS_VAR_DIR=str(tmp_path),
    )
    second = _run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        DEBUG="true",
        MOPS_VAR_DIR=str(tmp_path),
    )
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) >= 50
    assert first.stdout == second.stdout
