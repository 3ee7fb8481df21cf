"""``files`` stays inside the project: client roots only narrow it, system folders and links out are refused,
and the size cap holds for files that report size 0."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine.files import FileRefused, attach_files, readable_roots


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('app')\n")
    (root / "README.md").write_text("readme\n")
    (tmp_path / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    return root


def test_a_client_root_of_the_whole_disk_does_not_widen_the_project(project: Path) -> None:
    assert readable_roots([project], [Path("/")]) == [project.resolve()]
    with pytest.raises(FileRefused, match="outside the project root"):
        attach_files(["/etc/passwd"], [project], [Path("/")])
    with pytest.raises(FileRefused, match="outside the project root"):
        attach_files([str(project.parent / "id_rsa")], [project], [Path("/"), project.parent])


def test_a_client_root_inside_the_project_narrows_it(project: Path) -> None:
    assert readable_roots([project], [project / "src"]) == [(project / "src").resolve()]
    assert "print('app')" in attach_files(["src/app.py"], [project], [project / "src"])
    with pytest.raises(FileRefused, match="outside the project root"):
        attach_files(["README.md"], [project], [project / "src"])


def test_a_client_root_elsewhere_leaves_nothing_readable(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_text("x")
    assert readable_roots([project], [elsewhere]) == []
    with pytest.raises(FileRefused, match="outside the project root"):
        attach_files([str(elsewhere / "x.txt")], [project], [elsewhere])


def test_relative_paths_resolve_against_the_project_root_not_the_working_directory(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("the wrong one\n")
    assert "readme" in attach_files(["README.md"], [project])


@pytest.mark.parametrize("path", ["/proc/self/environ", "/proc/self/status", "/sys/kernel/osrelease", "/dev/zero"])
def test_system_folders_are_refused_even_under_a_root_of_the_whole_disk(path: str) -> None:
    with pytest.raises(FileRefused, match="/proc, /sys, /dev are never sent"):
        attach_files([path], [Path("/")])


def test_a_link_into_proc_is_refused(project: Path) -> None:
    os.symlink("/proc/self/environ", project / "env.txt")
    with pytest.raises(FileRefused, match="never sent"):
        attach_files(["env.txt"], [project])


def test_the_size_cap_holds_for_a_file_that_reports_size_0() -> None:
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0 and len(status.read_bytes()) > 100
    with pytest.raises(FileRefused, match="over the 100-byte cap"):
        attach_files([str(status)], [Path("/proc/self")], max_file_bytes=100, refused_dirs=())


@pytest.mark.anyio
async def test_a_fifo_in_the_project_is_refused_without_waiting_for_a_writer(project: Path) -> None:
    os.mkfifo(project / "pipe")
    with anyio.fail_after(5), pytest.raises(FileRefused, match="not a regular file"):
        await anyio.to_thread.run_sync(lambda: attach_files(["pipe"], [project]), abandon_on_cancel=True)


def test_a_directory_is_refused_as_not_a_regular_file(project: Path) -> None:
    with pytest.raises(FileRefused, match="not a regular file"):
        attach_files(["src"], [project])


def test_without_a_project_root_no_file_is_sent(project: Path) -> None:
    with pytest.raises(FileRefused, match="--root"):
        attach_files([str(project / "README.md")], [])


SEGMENTS = [
    *("..", ".", "", "src", "app.py", "README.md", "out", "link.txt", "secret.txt", "etc", "passwd", "proc"),
    *("self", "environ", "~", "root", "dev", "zero"),
]


@pytest.fixture(scope="module")
def maze(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with files inside, and links that lead out of it to a secret beside it."""
    base = tmp_path_factory.mktemp("maze")
    root = base / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("INSIDE app")
    (root / "README.md").write_text("INSIDE readme")
    (base / "secret.txt").write_text("OUTSIDE secret")
    os.symlink(base, root / "out")
    os.symlink(base / "secret.txt", root / "link.txt")
    os.symlink("/proc/self", root / "src" / "proc")
    return root


@given(
    start=st.sampled_from(["", "/", "~/", "PROJECT/", "PROJECT/src/"]),
    segments=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=6),
    client=st.sampled_from([None, "/", "PROJECT", "PROJECT/src", "BASE"]),
)
def test_whatever_the_path_and_the_client_roots_only_project_files_are_sent(
    maze: Path, start: str, segments: list[str], client: str | None
) -> None:
    def placed(text: str) -> str:
        return text.replace("PROJECT", str(maze)).replace("BASE", str(maze.parent))

    path = placed(start) + "/".join(segments)
    client_roots = None if client is None else [Path(placed(client))]
    try:
        attached = attach_files([path], [maze], client_roots)
    except FileRefused:
        return
    assert "OUTSIDE" not in attached
    assert attached.count("INSIDE") == 1
