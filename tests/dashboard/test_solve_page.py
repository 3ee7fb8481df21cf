"""The solve pages: the runs list and one run's tree (placed on the server, drawn as SVG under the CSP)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from dashboard import build_app
from server.settings import Settings
from server.store.models import SolveNode, SolveRun

RUN = "r" * 32


def node(seq: int, model: str, parent: str | None, score: float | None, status: str = "ok") -> SolveNode:
    depth = 1 if parent is None else int(parent[1:]) + 2  # ids are "n<seq>"; the tests' trees are chains
    return SolveNode(
        id=f"n{seq}",
        run_id=RUN,
        parent_id=parent,
        seq=seq,
        model=model,
        action="wider" if parent is None else "deeper",
        depth=depth,
        score=score,
        status=status,
        feedback="FAILED <script>alert(1)</script>" if status != "ok" else "checked",
    )


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    with Session(engine) as db:
        db.add(
            SolveRun(
                id=RUN,
                task="write the parser <b>now</b>",
                models="pf:good,pf:weak",
                check_name="tests",
                best_score=1.0,
                best_node_id="n2",
                stop_reason="target",
                calls=4,
                total_cost_usd=None,
                cost_known_usd=0.0,
                unpriced_calls=4,
            )
        )
        db.add_all(
            [
                node(0, "pf:good", None, 0.5),
                node(1, "pf:good", "n0", 0.75),
                node(2, "pf:good", "n1", 1.0),
                node(3, "pf:weak", None, 0.0, status="check_failed"),
            ]
        )
        db.commit()
    app = build_app(engine, settings, ingest=False, serve_stale_s=0)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_the_run_api_places_the_tree_and_marks_the_best_path(client: TestClient) -> None:
    view = client.get(f"/api/solve/{RUN}").json()
    nodes = {n["seq"]: n for n in view["nodes"]}
    assert [nodes[s]["best"] for s in range(4)] == [True, True, True, False]
    assert [nodes[s]["x"] for s in range(3)] == sorted(nodes[s]["x"] for s in range(3))  # deeper goes right
    assert nodes[1]["parent_x"] == nodes[0]["x"] and nodes[1]["parent_y"] == nodes[0]["y"]
    assert nodes[3]["y"] > nodes[0]["y"]  # the second model's fresh answer sits in a row of its own, below
    assert [nodes[s]["score_class"] for s in range(4)] == ["score-5", "score-8", "score-10", "score-none"]
    assert {n["model_class"] for n in view["nodes"] if n["model"] == "pf:good"} == {"model-0"}
    assert [(m["model"], m["nodes"], m["best_score"]) for m in view["models"]] == [
        ("pf:good", 3, 1.0),
        ("pf:weak", 1, 0.0),
    ]


def test_the_run_page_draws_the_tree_as_svg_without_inline_style_or_unescaped_text(client: TestClient) -> None:
    response = client.get(f"/solve/{RUN}")
    assert response.status_code == 200
    html = response.text
    assert '<svg class="solve-tree"' in html
    assert len(re.findall(r'class="solve-node score-\S+ model-\d best"', html)) == 3
    assert " style=" not in html and "<style" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>now</b>" not in html
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_the_runs_list_links_each_run_and_an_unknown_run_is_a_404(client: TestClient) -> None:
    html = client.get("/solve").text
    assert f'href="/solve/{RUN}"' in html and "4 unpriced" in html
    assert client.get("/solve/nope").status_code == 404
    assert client.get("/api/solve/nope").status_code == 404
