"""Configuration: one pydantic settings object read from the environment.

Variables use the ``LABWRIGHT_`` prefix (``LABWRIGHT_HOME``, ``LABWRIGHT_BASE_URL``, ``LABWRIGHT_MODEL``, ...), except
the API key, which is read from the conventional ``OPENAI_API_KEY``. Nothing is cached: call :func:`get_settings`
where you need it, so tests and long-lived processes see the environment as it is now.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "APPROVAL_RULE_HELP"]

# One text for the CLI help of --approve / --auto-approve and the settings field (the syntax lives in
# labwright.agents.policy.ApprovalRule); kept here because this module is light to import.
APPROVAL_RULE_HELP = (
    "non-interactive approval rule, recorded in the audit log: 'none' (ask a person; default), 'all', or clauses "
    "joined by commas: 'under=60s' approves READ-ONLY calls estimated under 60 s; 'writes' also approves store "
    "writes, 'external' external effects, 'tokens=N' calls estimated up to N LLM tokens (e.g. 'under=60s,writes')"
)


class Settings(BaseSettings):
    """labwright's settings. Paths default to files under :attr:`home`."""

    model_config = SettingsConfigDict(env_prefix="LABWRIGHT_", extra="ignore")

    home: Path = Field(
        default=Path("~/.labwright"),
        description="Folder for SQLite files (checkpoints, audit, knowledge) and run artifacts.",
    )
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    model: str | None = Field(default=None, description="Chat model name served at base_url.")
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "LABWRIGHT_API_KEY"),
        description="API key for the endpoint (read from OPENAI_API_KEY).",
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL database (postgresql://user@host/db) for checkpoints, ledger, audit log and knowledge"
        " store, shared by processes on several hosts (labwright[postgres]); None: the embedded SQLite files in HOME.",
        repr=False,  # may hold a password
    )
    checkpoint_db: Path | None = Field(
        default=None, description="LangGraph checkpoints; default HOME/checkpoints.sqlite"
    )
    audit_db: Path | None = Field(default=None, description="Hash-chained audit log; default HOME/audit.sqlite")
    audit_anchor: Path | None = Field(
        default=None,
        description="Append-only, HMAC-authenticated anchor of the audit chain (outside the database); default "
        "<audit_db>.anchor. Point it at append-only or other storage to survive a rewrite of LABWRIGHT_HOME.",
    )
    audit_key: Path | None = Field(
        default=None, description="HMAC key of the audit anchor (created with mode 0600); default <audit_db>.key"
    )
    knowledge_db: Path | None = Field(
        default=None, description="Hypergraph knowledge store; default HOME/knowledge.sqlite"
    )
    approval_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Tool calls estimated to take longer than this stop for human approval.",
    )
    approval_tokens: int = Field(
        default=20_000, ge=0, description="Tool calls estimated to spend more LLM tokens than this stop for approval."
    )
    compile_cache: bool = Field(
        default=True,
        description="Keep JAX's compiled programs in HOME/jax_cache so a new process skips recompiling them "
        "(LABWRIGHT_COMPILE_CACHE=0 turns it off).",
    )
    opsin: bool = Field(
        default=True,
        description="Resolve chemical names to structures with OPSIN during offline extraction when the py2opsin jar "
        "and a java runtime exist (LABWRIGHT_OPSIN=0 turns it off).",
    )
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout for the LLM endpoint.")
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster for the 'ray' backend of batch tools (also read from RAY_ADDRESS); None: a local "
        "cluster started on first use.",
    )
    ray_num_cpus: int | None = Field(
        default=None, ge=1, description="CPUs of a local Ray cluster started by labwright (default: all cores)."
    )
    context_tokens: int | None = Field(
        default=None, gt=0, description="The model's context window, tokens; default: asked of the server, else 8192."
    )
    tool_mode: Literal["auto", "native", "two_stage"] = Field(
        default="auto",
        description="How the model is asked for a tool call: 'native' (tool_choice auto), 'two_stage' (choose a tool, "
        "then fill its arguments, each request bounded by max_tokens), 'auto': two_stage for contexts up to 16,384 "
        "tokens (small local models; llama.cpp's chatml-function-calling ignores max_tokens under tool_choice auto).",
    )
    reply_tokens: int = Field(
        default=1024, gt=0, description="The most completion tokens one planner request asks the model for."
    )
    tool_llm_max_tokens: int = Field(
        default=1024,
        gt=0,
        description="max_tokens sent with every model request a tool makes (lowered to what the run's budget leaves).",
    )
    auto_approve: str | None = Field(
        default=None,
        description=APPROVAL_RULE_HELP[0].upper() + APPROVAL_RULE_HELP[1:] + ".",
    )
    approver: str | None = Field(
        default=None,
        description="Who answers approval questions in this session (audited as 'human:<name>'); default: the OS "
        "user. Never taken from an answer's payload.",
    )

    deadline_factor: float = Field(
        default=10.0,
        gt=0,
        description="A tool call is stopped after factor x its estimated seconds (clamped to the floor and cap).",
    )
    deadline_floor_s: float = Field(
        default=60.0, gt=0, description="Shortest deadline of a tool call, s (covers JIT compilation of a cheap call)."
    )
    deadline_cap_s: float = Field(
        default=6 * 3600.0, gt=0, description="Longest deadline of a tool call, s, however large its estimate."
    )
    allowed_roots: str | None = Field(
        default=None,
        description="Folders besides HOME that tools may read and write, separated by os.pathsep (':' on POSIX).",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # LABWRIGHT_DATABASE_URL= (empty) means the embedded default
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("database_url must be a postgresql:// URL (or unset for the embedded SQLite files)")
        return value

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def runs_dir(self) -> Path:
        return self.home_dir / "runs"

    def _db(self, explicit: Path | None, name: str) -> Path:
        return (explicit or self.home_dir / name).expanduser()

    @property
    def checkpoint_path(self) -> Path:
        return self._db(self.checkpoint_db, "checkpoints.sqlite")

    @property
    def audit_path(self) -> Path:
        return self._db(self.audit_db, "audit.sqlite")

    @property
    def ledger_path(self) -> Path:
        return self.home_dir / "ledger.sqlite"

    @property
    def checkpoint_target(self) -> str | Path:
        """Where LangGraph's checkpoints live: the PostgreSQL URL when set, else :attr:`checkpoint_path`."""
        return self.database_url or self.checkpoint_path

    @property
    def audit_target(self) -> str | Path:
        """Where the audit log lives: the PostgreSQL URL when set, else :attr:`audit_path`."""
        return self.database_url or self.audit_path

    @property
    def ledger_target(self) -> str | Path:
        """Where the ledger lives: the PostgreSQL URL when set, else :attr:`ledger_path`."""
        return self.database_url or self.ledger_path

    @property
    def knowledge_path(self) -> Path:
        return self._db(self.knowledge_db, "knowledge.sqlite")

    @property
    def llm_configured(self) -> bool:
        """True when an endpoint and a model are set; otherwise the offline planner drives the agents."""
        return bool(self.base_url and self.model)


def get_settings(**overrides) -> Settings:
    """Read settings from the environment now; keyword arguments override single fields."""
    return Settings(**overrides)
