"""``switchboard doctor``'s provider check: each configured provider's key, reachability and models.

Reachability is a free call (``GET /models``), never a billed completion.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable

import anyio

from server.classify import TASK_TYPES
from server.config import ConfigError, SwitchboardConfig, load_config
from server.doctor.base import Check, DoctorContext
from server.providers.base import MissingKeyError, ProviderError
from server.providers.keys import KeyFileError
from server.providers.registry import ProviderSpec, Registry, split_model_id
from server.routing.rank import unlisted_model

__all__ = ["check_providers"]

LIST_TIMEOUT_S = 5.0


def check_providers(ctx: DoctorContext) -> Iterable[Check]:
    """One finding per provider, plus one per routing entry that names no configured provider."""
    try:
        config = load_config(ctx.settings, ctx.project)
    except ConfigError:
        return  # the config check reports it
    try:
        registry = Registry(config, cwd=ctx.project)
    except ValueError as exc:
        yield Check("providers", False, str(exc), "fix the provider's section in the config")
        return
    if not registry.specs:
        fix = "add a [providers.NAME] section (switchboard init writes a commented config with examples)"
        yield Check("providers", False, "no provider configured: delegate and consensus have nothing to call", fix)
    yield from _routing_checks(config, registry)
    findings = anyio.run(_probe_all, registry)
    for name, ok, detail, fix in findings:
        yield Check(f"provider {name}", ok, detail, fix)


def _routing_checks(config: SwitchboardConfig, registry: Registry) -> Iterable[Check]:

    for task_type in config.routing.task_types:
        if task_type not in TASK_TYPES:
            fix = f"use one of: {', '.join(TASK_TYPES)}"
            yield Check("routing", False, f"[routing.task_types] {task_type} is no task type", fix)
    lists = {"default": config.routing.default, **{f"task_types.{k}": v for k, v in config.routing.task_types.items()}}
    for where, ids in lists.items():
        for model_id in ids:
            try:
                provider, _model = split_model_id(model_id)
            except ValueError as exc:
                yield Check("routing", False, f"[routing] {where}: {exc}", "write models as 'provider:model'")
                continue
            if provider not in registry.specs:
                fix = f"add [providers.{provider}] to the config, or remove {model_id!r}"
                yield Check("routing", False, f"[routing] {where}: {model_id} names no configured provider", fix)
            elif (problem := unlisted_model(registry, model_id)) is not None:
                listed = ", ".join(registry.specs[provider].models)
                fix = f"use one of {listed}, or add {_model!r} to [providers.{provider}] models"
                yield Check("routing", False, f"[routing] {where}: {model_id}: {problem}; delegate skips it", fix)


async def _probe_all(registry: Registry) -> list[tuple[str, bool, str, str | None]]:
    results: list[tuple[str, bool, str, str | None]] = []
    for spec in registry.specs.values():
        results.append(await _probe(registry, spec))
    await registry.aclose()
    return results


async def _probe(registry: Registry, spec: ProviderSpec) -> tuple[str, bool, str, str | None]:
    if spec.descriptor.probe == "command":
        found = bool(spec.command) and shutil.which(spec.command[0]) is not None
        shown = spec.command[0] if spec.command else "(no command)"
        return spec.name, found, f"runs {shown}", None if found else f"install {shown} or fix command = [...]"
    try:
        provider = registry.get(spec.name)
        with anyio.fail_after(LIST_TIMEOUT_S + 1):
            offered = await provider.list_models(timeout_s=LIST_TIMEOUT_S)
    except KeyFileError as exc:
        return spec.name, False, str(exc), f"put the key alone on one line in {exc.path}"
    except MissingKeyError as exc:
        return spec.name, False, str(exc), f"set {exc.variable}"
    except ImportError as exc:
        return spec.name, False, str(exc), str(exc).rpartition(": ")[2]
    except (ProviderError, TimeoutError) as exc:
        where = spec.base_url or spec.kind
        # A provider may echo the key it was sent: the detail is scrubbed like a delegate error.
        detail = registry.scrub(f"{where} did not list its models: {exc}")
        return spec.name, False, detail, "check base_url, the key and the network"
    if offered is None:
        return spec.name, True, "configured (this kind offers no free model listing)", None
    missing = [m for m in spec.models if m not in offered]
    if missing:
        fix = "fix the model names in models = [...]; the endpoint offers: " + ", ".join(sorted(offered)[:20])
        return spec.name, False, f"reachable, but does not offer {', '.join(missing)}", fix
    return (
        spec.name,
        True,
        f"reachable; {len(offered)} models offered, the {len(spec.models)} configured all found",
        None,
    )
