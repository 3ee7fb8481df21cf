"""The configured providers and their models; provider clients are built (and SDKs imported) on first use."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from server.catalog.kinds import KindDescriptor, kind
from server.catalog.presets import PRESETS
from server.config import ModelPrice, ProviderConfig, SwitchboardConfig
from server.providers.base import Provider
from server.providers.keys import require_key

__all__ = ["ModelInfo", "ProviderSpec", "Registry", "split_model_id"]


def _escaped_forms(secret: str) -> tuple[str, ...]:
    """``secret`` as it may appear in an error text: as is, JSON-escaped (once or twice), Python-escaped."""
    once = json.dumps(secret)[1:-1]
    return (secret, once, json.dumps(once)[1:-1], secret.encode("unicode_escape").decode("ascii"), repr(secret)[1:-1])


def split_model_id(model_id: str) -> tuple[str, str]:
    """``"groq:llama-3.3-70b"`` -> ``("groq", "llama-3.3-70b")``; the model part may itself hold colons.

    Raises:
        ValueError: ``model_id`` has no ``provider:`` prefix.
    """
    provider, sep, model = model_id.partition(":")
    if not sep or not provider or not model:
        raise ValueError(f"model id {model_id!r} is not of the form 'provider:model' (e.g. 'groq:llama-3.3-70b')")
    return provider, model


@dataclass(frozen=True)
class ModelInfo:
    """One routable model: ``id`` is ``provider:model``; ``price`` is the config's override, if any."""

    id: str
    provider: str
    model: str
    price: ModelPrice | None = None
    context_window: int | None = None
    pricing_provider: str | None = None
    """The genai-prices provider its tokens are priced as (a preset's, the kind's, or the configured one)."""
    reports_usage: bool = True
    """False: its calls return no token counts, so their cost is unknown (NULL)."""


@dataclass
class ProviderSpec:
    """A provider's config with its preset filled in."""

    name: str
    kind: str
    base_url: str | None
    api_key_env: str | None
    api_key_file: Path | None
    models: list[str]
    prices: dict[str, ModelPrice]
    context_windows: dict[str, int]
    timeout_s: float | None
    command: list[str] = field(default_factory=list[str])
    pricing_provider: str | None = None
    identity: str = ""
    """What the provider is, whatever its section is called: its preset (``groq`` for ``[providers.mygroq]
    preset = "groq"``, ``ollama``), else its kind. The built-in routing matrix is keyed by it."""

    @property
    def descriptor(self) -> KindDescriptor:
        return kind(self.kind)

    @classmethod
    def from_config(cls, name: str, config: ProviderConfig) -> ProviderSpec:
        preset = PRESETS.get(config.preset or name)
        if config.preset is not None and preset is None:
            known = ", ".join(sorted(PRESETS))
            raise ValueError(f"provider {name!r}: unknown preset {config.preset!r} (known: {known})")
        kind_given = "kind" in config.model_fields_set
        kind_name = config.kind if kind_given or preset is None else preset.kind
        preset_pricing = (preset.pricing_provider or config.preset or name) if preset else None
        pricing = config.pricing_provider or preset_pricing or kind(kind_name).pricing_provider or name
        return cls(
            name=name,
            kind=kind_name,
            identity=(config.preset or name) if preset else kind_name,
            pricing_provider=pricing,
            base_url=config.base_url or (preset.base_url if preset else None),
            api_key_env=config.api_key_env or (preset.api_key_env if preset else None),
            api_key_file=config.api_key_file,
            models=list(config.models or (preset.models if preset else [])),
            prices=dict(config.prices),
            context_windows={**(preset.context_windows if preset else {}), **config.context_windows},
            timeout_s=config.timeout_s,
            command=list(config.command or (preset.command if preset else [])),
        )


class Registry:
    """Providers named in the config (enabled ones), their models, and lazily built clients.

    Args:
        config: The loaded config.
        environ: Where keys are looked up (default: the process environment).
        cwd: The project directory whose ``.env`` is consulted.
    """

    def __init__(
        self, config: SwitchboardConfig, *, environ: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.specs = {
            name: ProviderSpec.from_config(name, cfg) for name, cfg in config.providers.items() if cfg.enabled
        }
        self.environ = environ
        self._cwd = cwd
        self._secrets: set[str] = set()
        self._clients: dict[str, Provider] = {}
        self._fingerprints: dict[str, str] = {}
        self._build_lock = threading.Lock()

    def models(self) -> list[ModelInfo]:
        """Every configured model, in config order."""
        return [self._info(spec, model) for spec in self.specs.values() for model in spec.models]

    def model(self, model_id: str) -> ModelInfo | None:
        """The model ``provider:model`` if its provider is configured (listed models or not), else None."""
        provider, model = split_model_id(model_id)
        spec = self.specs.get(provider)
        return None if spec is None else self._info(spec, model)

    def timeout_for(self, provider: str, default: float) -> float:
        spec = self.specs.get(provider)
        return spec.timeout_s if spec and spec.timeout_s else default

    def get(self, name: str) -> Provider:
        """The client for provider ``name``, built on first use.

        Raises:
            KeyError: no such provider is configured.
            MissingKeyError: its API key is nowhere to be found.
        """
        client = self._clients.get(name)
        if client is None:
            with self._build_lock:  # built from worker threads: two first calls must not build two clients
                client = self._clients.get(name)
                if client is None:
                    client = self._clients[name] = self._build(self.specs[name])
        return client

    def built(self, name: str) -> Provider | None:
        """The client of ``name`` if it is built already (no SDK import, no key lookup), else None."""
        return self._clients.get(name)

    def identity(self, name: str) -> str:
        """Who answers for provider ``name``: its kind, base URL, command and a fingerprint of the key its client
        was built with (a digest, never the key). Two sessions share a cached answer only when this is equal.

        Before the client is built the key is unknown, and this matches no cached answer (every answer is cached
        after its client was built), so a first call always asks the provider with this session's own key.
        """
        spec = self.specs.get(name)
        described = {
            "name": name,
            "kind": spec.kind if spec else None,
            "base_url": spec.base_url if spec else None,
            "command": spec.command if spec else None,
            "key": self._fingerprints.get(name),
        }
        return json.dumps(described, sort_keys=True)

    def add(self, provider: Provider) -> None:
        """Use ``provider`` as the client of its name (tests and embedders inject clients here)."""
        self._clients[provider.name] = provider
        self._fingerprints[provider.name] = f"injected {id(provider)}"

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def _info(self, spec: ProviderSpec, model: str) -> ModelInfo:
        return ModelInfo(
            id=f"{spec.name}:{model}",
            provider=spec.name,
            model=model,
            price=spec.prices.get(model),
            context_window=spec.context_windows.get(model),
            pricing_provider=spec.pricing_provider,
            reports_usage=spec.descriptor.reports_usage,
        )

    def scrub(self, text: str) -> str:
        """``text`` without any key this registry handed to a client, nor anything shaped like a credential."""
        # Here, not at the top: importing server.store loads SQLAlchemy, which the MCP server defers past start-up.
        from server.redact import REDACTED, redact_text

        for form in sorted({f for secret in self._secrets for f in _escaped_forms(secret)}, key=len, reverse=True):
            text = text.replace(form, REDACTED)
        return redact_text(text)

    def _key(self, spec: ProviderSpec) -> str:
        key = require_key(spec.name, spec.api_key_env, spec.api_key_file, environ=self.environ, cwd=self._cwd)
        if len(key) >= 8:  # shorter "keys" are placeholders; replacing them would mangle ordinary words
            self._secrets.add(key)
        return key

    def _build(self, spec: ProviderSpec) -> Provider:
        descriptor = spec.descriptor
        factory = descriptor.provider_class()
        if descriptor.transport == "command":
            return factory(spec.name, command=spec.command, cwd=self._cwd)
        configured = spec.api_key_env is not None or spec.api_key_file is not None
        needs_key = descriptor.key == "required" or (descriptor.key == "optional" and configured)
        key = self._key(spec) if needs_key else "not-needed"  # local servers accept any placeholder
        self._fingerprints[spec.name] = hashlib.sha256(key.encode()).hexdigest()
        return factory(spec.name, api_key=key, base_url=spec.base_url)
