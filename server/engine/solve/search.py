"""The search of ``solve``: TreeQuest's AB-MCTS-A driven through its ask-tell interface, a few nodes at a time.

TreeQuest decides, by Thompson sampling, whether the next node goes wider (a fresh answer from the root) or
deeper (a refinement of an existing node), and which model writes it: the models are its actions (multi-LLM).
This module only keeps up to ``parallel`` expansions in flight, tells the library each result as it lands, and
stops when a node reaches the target or the caller refuses a further start. The algorithm's state holds only
:class:`NodeState` values (plain strings and floats), so it pickles like TreeQuest's checkpoints expect.

``treequest`` (with numpy and scipy) takes ~1.1 s to import here, so it is imported on a solve's first use, in a
worker thread (:func:`load_treequest`), never when the server starts.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from treequest import ABMCTSA
    from treequest.trial import Trial

__all__ = [
    "OPTIMISTIC_PRIOR",
    "SOLVE_EXTRA",
    "Expand",
    "MissingExtra",
    "NodeState",
    "Refused",
    "SearchEnd",
    "load_treequest",
    "search",
]


@dataclass(frozen=True)
class NodeState:
    """One node's answer as TreeQuest keeps it (plain data, so the search state pickles)."""

    node_id: str
    model: str
    answer: str
    score: float
    feedback: str
    """What the scorer said: the check's output tail and/or the judge's critique."""


class Refused(Exception):
    """Raised by an :data:`Expand` whose call may not start; the search stops asking.

    ``kind`` is the stop reason it gives: ``cost_cap`` (the run's cap) or ``budget`` (the daily or session one).
    """

    def __init__(self, reason: str, kind: str = "cost_cap") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


Expand = Callable[[str, "NodeState | None"], Awaitable[NodeState]]
"""``(model, parent)``: write one node (parent None: a fresh answer) and score it."""
MayStart = Callable[[], "str | None"]
"""Asked before each expansion: a stop reason (``max_calls``...), or None to go ahead."""


@dataclass
class SearchEnd:
    """How the search ended and what it cost in time of its own."""

    stop_reason: str
    """``target``, ``max_calls``, ``cost_cap``, ``budget`` or ``exhausted``; the caller adds ``deadline``."""
    search_ms: float
    """Time spent inside TreeQuest's ask and tell: the search's overhead beyond the model calls."""
    state: Any
    """TreeQuest's algorithm state (picklable), e.g. for a checkpoint."""


SOLVE_EXTRA = (
    "solve needs its tree search, an optional extra: pip install 'switchboard[solve]' (treequest, numpy, scipy)"
)


class MissingExtra(ImportError):
    """``treequest`` is not installed (the ``solve`` extra); the message is the install command."""


async def load_treequest() -> None:
    """Import ``treequest`` in a worker thread, so its ~1.1 s import never blocks the event loop.

    Raises:
        MissingExtra: the ``solve`` extra is not installed.
    """
    try:
        await anyio.to_thread.run_sync(importlib.import_module, "treequest")
    except ImportError as exc:
        raise MissingExtra(SOLVE_EXTRA) from exc


OPTIMISTIC_PRIOR = {"m": 1.0, "kappa": 0.05, "nu": 1.0, "tau_square": 0.01}
"""TreeQuest's Gaussian prior for every choice it has not yet seen pay off: as good as a perfect score (m=1),
held weakly (kappa=0.05, a twentieth of one observation), with little spread (tau²=0.01).

Measured on the benchmark's landscape (one-shot 0.5, each refinement +0.25; a second model 0.25, +0.05), 60 seeds,
10 calls (``bench/bench_solve.py`` prints the current figure): the library's default prior (m=0, kappa=1,
tau²=0.1) reached 0.95 in 9 of 60 runs, as it keeps going wider while refinements are unseen; this prior in 53 of
60. Optimism for the untried is the usual bandit remedy; TreeQuest takes it as configuration, the search is its own.
"""


def _algorithm() -> ABMCTSA[NodeState]:
    from treequest import ABMCTSA
    from treequest.algos.ab_mcts_a.prob_state import GaussianPrior, PriorConfig

    prior = GaussianPrior(**OPTIMISTIC_PRIOR)
    return ABMCTSA(prior_config=PriorConfig(dist_type="gaussian", prior=prior))


@dataclass
class _Loop:
    search_ms: float = 0.0
    inflight: int = 0
    stop_reason: str | None = None


async def search(
    actions: list[str],
    expand: Expand,
    *,
    parallel: int,
    may_start: MayStart,
    reached: Callable[[NodeState], bool],
) -> SearchEnd:
    """Expand nodes chosen by AB-MCTS-A until ``reached`` holds for one, or ``may_start`` (or a
    :class:`Refused` expansion) stops new starts and the ones in flight end.

    Cancelling the caller cancels every expansion in flight.
    """
    algo = _algorithm()
    loop = _Loop()
    state = algo.init_tree()
    send, receive = anyio.create_memory_object_stream[tuple["Trial[NodeState]", NodeState | Refused]](parallel)

    async def run(trial: Trial[NodeState]) -> None:
        try:
            result: NodeState | Refused = await expand(trial.action, trial.parent_state)
        except Refused as refused:
            result = refused
        await send.send((trial, result))

    async with anyio.create_task_group() as group, send, receive:
        while True:
            refused: str | None = None
            while loop.stop_reason is None and loop.inflight < parallel:
                # A refusal is final only with nothing in flight: a node that ends gives back calls it did not use.
                refused = may_start()
                if refused is not None:
                    break
                started = time.perf_counter()
                state, trials = algo.ask_batch(state, 1, actions)
                loop.search_ms += (time.perf_counter() - started) * 1000
                loop.inflight += 1
                group.start_soon(run, trials[0])
            if loop.inflight == 0:
                loop.stop_reason = loop.stop_reason or refused
                break
            trial, result = await receive.receive()
            loop.inflight -= 1
            if isinstance(result, Refused):
                loop.stop_reason = loop.stop_reason or result.kind
                continue
            started = time.perf_counter()
            state = algo.tell(state, trial.trial_id, (result, result.score))
            loop.search_ms += (time.perf_counter() - started) * 1000
            if reached(result):
                loop.stop_reason = "target"
                group.cancel_scope.cancel()
                break
    return SearchEnd(stop_reason=loop.stop_reason or "exhausted", search_ms=loop.search_ms, state=state)
