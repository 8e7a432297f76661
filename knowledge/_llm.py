"""The OpenAI-compatible chat client used by extraction and hypothesis prose (knowledge never imports agents)."""

from __future__ import annotations

from typing import Any

from ..errors import ExtractionFailed, InvalidInput
from ..metering import metered_request
from ..settings import Settings, get_settings

__all__ = ["chat", "embed", "llm_configured"]


def llm_configured(settings: Settings | None = None) -> bool:
    return (settings or get_settings()).llm_configured


def _client(settings: Settings):
    import openai

    key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
    return openai.OpenAI(base_url=settings.base_url, api_key=key, timeout=settings.llm_timeout_s, max_retries=1)


def chat(
    messages: list[dict[str, str]], *, settings: Settings | None = None, response_format: dict[str, Any] | None = None
) -> tuple[str, int]:
    """One chat-completions call; returns (message content, total tokens).

    Raises
    ------
    InvalidInput
        No endpoint/model is configured.
    ExtractionFailed
        The endpoint failed or returned no content.
    """
    settings = settings or get_settings()
    if not settings.llm_configured:
        raise InvalidInput("extractor", "no LLM is configured (set LABWRIGHT_BASE_URL and LABWRIGHT_MODEL)")
    import openai

    kwargs: dict[str, Any] = {"model": settings.model, "messages": messages, "temperature": 0}
    if response_format is not None:
        kwargs["response_format"] = response_format

    def send(max_tokens: int) -> tuple[Any, int]:
        resp = _client(settings).chat.completions.create(**kwargs, max_tokens=max_tokens)
        tokens = resp.usage.total_tokens if resp.usage is not None else 0
        # A server that reports no usage is still charged: ~4 characters per token of prompt and reply.
        return resp, int(tokens or 0) or _rough_tokens(messages, resp)

    try:  # metered: max_tokens always sent, tokens counted in the governed run this tool runs in
        resp = metered_request(
            send, max_tokens=settings.tool_llm_max_tokens, label="knowledge", prompt_tokens=_rough_tokens(messages)
        )
    except openai.OpenAIError as err:
        raise ExtractionFailed(f"LLM request to {settings.base_url} failed: {err}") from err
    if not resp.choices or resp.choices[0].message.content is None:
        raise ExtractionFailed("LLM reply had no message content")
    tokens = resp.usage.total_tokens if resp.usage is not None else 0
    return resp.choices[0].message.content, int(tokens or 0) or _rough_tokens(messages, resp)


def _rough_tokens(messages: list[dict[str, str]], resp: Any = None) -> int:
    """~4 characters per token of the prompt (and of the reply, when given)."""
    text = sum(len(str(m.get("content") or "")) for m in messages)
    if resp is not None and resp.choices:
        text += len(resp.choices[0].message.content or "")
    return max(1, text // 4)


def embed(texts: list[str], *, settings: Settings | None = None, model: str | None = None) -> list[list[float]]:
    """Embedding vectors of ``texts`` from the endpoint's OpenAI-compatible ``/v1/embeddings``.

    Metered: inside a governed call the tokens the server reports (its ``usage``) count in the run's budget, and a
    spent budget refuses the request (:class:`~labwright.metering.BudgetExhausted`).

    ``model`` defaults to ``LABWRIGHT_EMBEDDING_MODEL`` from the environment, else the chat model.

    Raises
    ------
    InvalidInput
        No endpoint is configured.
    ExtractionFailed
        The endpoint failed, or returned a different number of vectors.
    """
    import os

    import openai

    settings = settings or get_settings()
    if not settings.llm_configured:
        raise InvalidInput("extractor", "no LLM is configured (set LABWRIGHT_BASE_URL and LABWRIGHT_MODEL)")
    name = model or os.environ.get("LABWRIGHT_EMBEDDING_MODEL") or settings.model
    rough = max(1, sum(len(t) for t in texts) // 4)  # ~4 characters per token

    def send(_max_tokens: int) -> tuple[Any, int]:
        resp = _client(settings).embeddings.create(model=name, input=texts)
        usage = getattr(resp, "usage", None)
        tokens = (usage.total_tokens or usage.prompt_tokens) if usage is not None else 0
        return resp, int(tokens or 0) or rough  # a server that reports no usage is charged the estimate

    try:  # metered like a chat request: the input tokens count in the run; there is no reply to cap (max_tokens=1
        # only asks the meter whether the input still fits in the budget)
        resp = metered_request(send, max_tokens=1, label="knowledge-embeddings", prompt_tokens=rough)
    except openai.OpenAIError as err:
        raise ExtractionFailed(f"embedding request to {settings.base_url} failed: {err}") from err
    vectors = [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]
    if len(vectors) != len(texts):
        raise ExtractionFailed(f"embedding endpoint returned {len(vectors)} vectors for {len(texts)} texts")
    return vectors
