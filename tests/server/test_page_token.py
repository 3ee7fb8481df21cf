"""The page token: one private file under the home that every process reads the same."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from server.page_token import page_token, page_url
from server.token_file import TokenFileError


def test_the_page_token_is_made_once_private_and_read_back_the_same(tmp_path: Path) -> None:
    home = tmp_path / "home"
    token = page_token(home)
    assert len(token) >= 32 and page_token(home) == token
    assert (home / "page_token").stat().st_mode & 0o777 == 0o600
    assert home.stat().st_mode & 0o777 == 0o700


def test_processes_making_the_token_at_once_agree_on_one(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        tokens = set(pool.map(lambda _: page_token(tmp_path), range(32)))
    assert len(tokens) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page_token"]


def test_a_token_file_others_can_read_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "page_token"
    path.write_text("a-token-that-others-could-read-0123456789\n")
    os.chmod(path, 0o644)
    with pytest.raises(TokenFileError, match="not a private file") as caught:
        page_token(tmp_path)
    assert "a-token-that" not in str(caught.value)


def test_a_token_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("x" * 40)
    os.chmod(target, 0o600)
    (tmp_path / "page_token").symlink_to(target)
    with pytest.raises(OSError):
        page_token(tmp_path)


def test_the_page_url_carries_the_token_for_the_cookie_exchange() -> None:
    assert page_url(8765, "abc_DEF-123") == "http://127.0.0.1:8765/?token=abc_DEF-123"
    assert page_url(1, "t", host="::1") == "http://[::1]:1/?token=t"
