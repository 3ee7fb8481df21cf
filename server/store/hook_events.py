"""The names of Claude Code's hook events, for the installer to register and for ingest to recognise.

Taken from the event list inside Claude Code 2.1.328's own binary (the hooks reference on
code.claude.com lags it). Ingest keeps every event in ``raw_event`` whatever its name, so an event
missing here is stored, merely not registered by ``switchboard install``.
"""

from __future__ import annotations

__all__ = ["CAPTURE_EVENTS", "HOOK_EVENTS", "UNCAPTURED_EVENTS"]

HOOK_EVENTS: tuple[str, ...] = (
    "SessionStart",
    "Setup",
    "InstructionsLoaded",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "MessageDisplay",
    "SubagentStart",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "TeammateIdle",
    "TaskCreated",
    "TaskCompleted",
    "PreCompact",
    "PostCompact",
    "PreModelSwitch",
    "PostModelSwitch",
    "Elicitation",
    "ElicitationResult",
    "ConfigChange",
    "CwdChanged",
    "FileChanged",
    "DirectoryAdded",
    "WorktreeCreate",
    "WorktreeRemove",
    "SessionEnd",
)
"""Every hook event Claude Code 2.1.328 can fire, roughly in lifecycle order."""

UNCAPTURED_EVENTS: frozenset[str] = frozenset({"WorktreeCreate"})
"""Events whose hook *replaces* Claude Code's own behaviour: a ``WorktreeCreate`` hook must create the
worktree and print its path, so a capture hook there would break ``--worktree`` and isolated subagents."""

CAPTURE_EVENTS: tuple[str, ...] = tuple(name for name in HOOK_EVENTS if name not in UNCAPTURED_EVENTS)
"""The events ``switchboard install`` registers ``hooks/capture.sh`` for."""
