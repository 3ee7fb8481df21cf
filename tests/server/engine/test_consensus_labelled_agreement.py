"""The labelled agreement set (``data/agreement_pairs.json``) through ``vote``: agreement is about meaning.

Each pair is answered by two fake members. Short answers must be settled by normalising alone; long ones by one
call to a model that is not a member (here a fake that answers from the labels, as a perfect grouping model
would). With no such model, agreement is unmeasured, never guessed from the words.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from server.config import SwitchboardConfig
from server.engine.consensus.members import Member
from server.engine.consensus.run import ConsensusSpec, run_consensus
from server.engine.runtime import Runtime
from server.settings import Settings
from server.store.models import Delegation
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.recorded import recorded

pytestmark = pytest.mark.anyio

PAIRS: list[dict[str, Any]] = json.loads((Path(__file__).parent / "data" / "agreement_pairs.json").read_text())["pairs"]
MEMBERS = (Member("p1:m1"), Member("p2:m2"))
_BLOCK = re.compile(r"^### Answer (?P<label>[A-Z]+)\n(?P<text>.*?)(?=\n\n### Answer |\Z)", re.S | re.M)


def _labelled(a: str, b: str) -> bool | None:
    for pair in PAIRS:
        if {pair["a"], pair["b"]} == {a, b}:
            return bool(pair["agree"])
    return None


def grouping_oracle(body: dict[str, Any]) -> Reply | None:
    """A grouping model that knows the labels: it answers which of the shown answers agree."""
    if body.get("model") != "grouper":
        return None
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    shown = {m["label"]: m["text"].strip() for m in _BLOCK.finditer(user)}
    labels = sorted(shown)
    assert len(labels) == 2, user
    agree = _labelled(shown[labels[0]], shown[labels[1]])
    assert agree is not None, f"the grouping model was shown answers outside the set: {shown}"
    groups = [labels] if agree else [[label] for label in labels]
    return Reply(text=json.dumps({"groups": groups}))


def config_for(fake: FakeOpenAI, *, grouper: bool) -> SwitchboardConfig:
    models = {"p1": ("m1", 1.0), "p2": ("m2", 2.0)}
    if grouper:
        models |= {"px": ("dear", 9.0), "pg": ("grouper", 0.5)}
    providers = {
        name: {
            "kind": "openai-compatible",
            "base_url": fake.base_url,
            "models": [model],
            "prices": {model: {"input_per_mtok": price, "output_per_mtok": price}},
        }
        for name, (model, price) in models.items()
    }
    return SwitchboardConfig.model_validate({"providers": providers})


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["m1", "m2", "dear", "grouper"], responder=grouping_oracle) as server:
        yield server


async def _runtime(settings: Settings, engine: Engine, fake: FakeOpenAI, *, grouper: bool) -> AsyncIterator[Runtime]:
    runtime = Runtime.create(settings, config_for(fake, grouper=grouper), engine, environ={})
    yield runtime
    await runtime.aclose()


@pytest.fixture
async def runtime(settings: Settings, engine: Engine, fake: FakeOpenAI) -> AsyncIterator[Runtime]:
    async for made in _runtime(settings, engine, fake, grouper=True):
        yield made


@pytest.fixture
async def no_grouper(settings: Settings, engine: Engine, fake: FakeOpenAI) -> AsyncIterator[Runtime]:
    async for made in _runtime(settings, engine, fake, grouper=False):
        yield made


async def vote(runtime: Runtime, fake: FakeOpenAI, pair: dict[str, Any]) -> Any:
    fake.script("m1", Reply(text=pair["a"]))
    fake.script("m2", Reply(text=pair["b"]))
    with anyio.fail_after(20):
        return await run_consensus(runtime, ConsensusSpec(question="Q?", members=MEMBERS, strategy="vote"))


def test_the_labelled_set_has_thirty_pairs_of_every_kind_the_issue_names() -> None:
    kinds = {pair["kind"] for pair in PAIRS}
    assert len(PAIRS) >= 30
    assert {"paraphrase", "negation", "swapped number", "swapped name"} <= kinds
    assert any(pair["agree"] for pair in PAIRS) and any(not pair["agree"] for pair in PAIRS)


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p['kind']}:{p['a'][:30]}" for p in PAIRS])
async def test_vote_agreement_on_each_labelled_pair_is_its_label(
    runtime: Runtime, fake: FakeOpenAI, pair: dict[str, Any]
) -> None:
    result = await vote(runtime, fake, pair)
    assert result.status == "ok"
    assert result.agreement == (1.0 if pair["agree"] else 0.5), result.notes
    # Short answers are settled by normalising: the grouping model is asked only about long ones.
    assert fake.calls_for("grouper") == (1 if pair["form"] == "long" else 0)
    assert fake.calls_for("dear") == 0, "the grouping model is the cheapest configured one that is not a member"


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p['kind']}:{p['a'][:30]}" for p in PAIRS])
async def test_without_a_grouping_model_long_answers_leave_agreement_unmeasured(
    no_grouper: Runtime, engine: Engine, fake: FakeOpenAI, pair: dict[str, Any]
) -> None:
    result = await vote(no_grouper, fake, pair)
    assert result.status == "ok"
    if pair["form"] == "short":
        assert result.agreement == (1.0 if pair["agree"] else 0.5)
        return
    assert result.agreement is None
    assert any(note.startswith("agreement unmeasured") for note in result.notes), result.notes
    with recorded(engine) as db:
        rows = db.exec(select(Delegation).where(Delegation.consensus_run_id == result.run_id)).all()
    members = [row for row in rows if row.model in ("m1", "m2")]
    assert len(members) == 2 and all(row.quality is None for row in members), "no quality from a guess"


NEGATION = next(pair for pair in PAIRS if pair["kind"] == "negation")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(kind="status", status=500), "server_error"),
        (Reply(text="They mostly agree."), "no JSON"),
        (Reply(text='{"groups": [["A"], ["Z"]]}'), "not in the expected form"),
        (Reply(text=""), "empty"),
    ],
)
async def test_a_grouping_model_that_fails_or_answers_out_of_form_leaves_agreement_unmeasured_with_its_reason(
    runtime: Runtime, fake: FakeOpenAI, reply: Reply, reason: str
) -> None:
    fake.responder = None
    fake.script("grouper", reply)
    result = await vote(runtime, fake, NEGATION)
    assert result.status == "ok"
    assert result.agreement is None
    note = next(note for note in result.notes if note.startswith("agreement unmeasured"))
    assert reason in note
