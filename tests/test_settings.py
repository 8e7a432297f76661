from pathlib import Path

import pytest
from labwright.settings import get_settings
from pydantic import ValidationError


def test_defaults_live_under_home(isolated_home):
    s = get_settings()
    assert s.home_dir == isolated_home
    assert s.checkpoint_path == isolated_home / "checkpoints.sqlite"
    assert s.audit_path == isolated_home / "audit.sqlite"
    assert s.knowledge_path == isolated_home / "knowledge.sqlite"
    assert not s.llm_configured


def test_environment_configures_llm_and_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("LABWRIGHT_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LABWRIGHT_MODEL", "local-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("LABWRIGHT_KNOWLEDGE_DB", str(tmp_path / "kg.db"))
    s = get_settings()
    assert s.llm_configured
    assert s.api_key.get_secret_value() == "sk-test"
    assert "sk-test" not in repr(s)
    assert s.knowledge_path == Path(tmp_path / "kg.db")


def test_negative_threshold_is_rejected(monkeypatch):
    monkeypatch.setenv("LABWRIGHT_APPROVAL_SECONDS", "-1")
    with pytest.raises(ValidationError, match="approval_seconds"):
        get_settings()


def test_database_url_selects_postgres_and_keeps_its_password_out_of_repr(monkeypatch):
    assert get_settings().database_url is None  # the embedded SQLite default
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", "postgresql://lab:s3cret@db.example:5432/labwright")
    s = get_settings()
    assert s.database_url == "postgresql://lab:s3cret@db.example:5432/labwright"
    assert "s3cret" not in repr(s)
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", "")
    assert get_settings().database_url is None


def test_database_url_that_is_not_postgres_is_rejected(monkeypatch):
    monkeypatch.setenv("LABWRIGHT_DATABASE_URL", "mysql://lab@db/labwright")
    with pytest.raises(ValidationError, match="database_url"):
        get_settings()
