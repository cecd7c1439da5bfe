"""A shared DVC remote on a real server: a WebDAV server (wsgidav) started here on localhost,
password protected. One clone pushes its outputs and run-cache, a fresh clone of the git
history pulls them and `dvc repro` then has nothing to do; an experiment travels with
`dvc exp push/pull`. The password lives only in each clone's .dvc/config.local, and the remote
never holds the store's real files (docs/remote.md)."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REAL_DATA_DIR, clone_project, dvc, git

USER = "oneclick"
REMOTE = "shared"


@pytest.fixture(scope="module")
def webdav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """(url, password, the directory it serves) of a wsgidav server on a free local port,
    running in a thread of this process while the test's DVC commands talk HTTP to it."""
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    storage = tmp_path_factory.mktemp("webdav")
    password = secrets.token_hex(8)
    config = {
        "provider_mapping": {"/": str(storage)},
        "http_authenticator": {"accept_basic": True, "accept_digest": False},
        "simple_dc": {"user_mapping": {"*": {USER: {"password": password}}}},
        "verbose": 0,
        "logging": {"enable": False},
    }
    (storage / "dvc").mkdir()  # the remote's folder: DVC creates what is inside, not it
    server = wsgi.Server(("127.0.0.1", 0), WsgiDAVApp(config), numthreads=8)
    server.prepare()  # binds: the port is known from here on
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"webdav://127.0.0.1:{server.bind_addr[1]}/dvc", password, storage
    finally:
        server.stop()
        thread.join(timeout=10)


def use_remote(repo: Path, url: str, password: str | None) -> None:
    """The remote in .dvc/config (committed: url only), the credentials in .dvc/config.local."""
    if url:
        dvc(["remote", "add", "--default", REMOTE, url], repo)
    if password is not None:
        dvc(["remote", "modify", "--local", REMOTE, "user", USER], repo)
        dvc(["remote", "modify", "--local", REMOTE, "password", password], repo)


def stored_hashes(storage: Path) -> set[str]:
    """md5 of every object on the remote (files/md5/ab/cdef... -> abcdef...)."""
    return {p.parent.name + p.name for p in (storage / "dvc" / "files" / "md5").glob("*/*")}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pushed(
    reproduced_project: Path, webdav, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(origin: a bare git repo as the team's git server, the clone that pushed to both)."""
    url, password, _ = webdav
    home = tmp_path_factory.mktemp("team")
    origin = home / "origin.git"
    git(["init", "-q", "--bare", "-b", "main", str(origin)], home)
    first = clone_project(reproduced_project, home / "first")
    use_remote(first, url, password)
    git(["commit", "-q", "-am", "the team's WebDAV remote"], first)
    git(["remote", "add", "origin", str(origin)], first)
    git(["push", "-q", "origin", "main"], first)
    dvc(["push", "--run-cache"], first)
    return origin, first


@pytest.mark.slow  # a push, a pull and a no-op repro over HTTP
def test_a_fresh_clone_pulls_everything_and_repro_has_nothing_to_do(
    pushed, webdav, tmp_path: Path
) -> None:
    origin, first = pushed
    url, password, storage = webdav
    committed = git(["show", "HEAD:.dvc/config"], first).stdout
    assert url in committed and password not in committed and "config.local" not in committed
    assert password in (first / ".dvc" / "config.local").read_text(encoding="utf-8")

    git(["clone", "-q", str(origin), str(tmp_path / "fresh")], tmp_path)
    fresh = tmp_path / "fresh"
    refused = dvc(["pull"], fresh, check=False)  # no credentials yet: the server says no
    assert refused.returncode != 0
    use_remote(fresh, "", password)
    dvc(["pull", "--run-cache"], fresh)
    assert (fresh / ".dvc" / "cache" / "runs").is_dir()  # the run-cache came too
    repro = dvc(["repro"], fresh)
    assert "Running stage" not in repro.stdout, repro.stdout
    assert "Data and pipelines are up to date" in dvc(["status"], fresh).stdout
    assert git(["status", "--porcelain"], fresh).stdout == ""
    scores = "data/predictions/scores.csv"
    assert (fresh / scores).read_bytes() == (first / scores).read_bytes()
    assert md5(first / scores) in stored_hashes(storage)


@pytest.mark.slow  # one cheap stage in an experiment, pushed and pulled
def test_an_experiment_travels_through_the_remotes(pushed, webdav, tmp_path: Path) -> None:
    origin, first = pushed
    _, password, _ = webdav
    dvc(["exp", "run", "segment", "-n", "reseeded", "-S", "campaign.seed=7"], first)
    dvc(["exp", "push", "origin", "reseeded"], first)  # git refs to origin, outputs to WebDAV

    git(["clone", "-q", str(origin), str(tmp_path / "fresh")], tmp_path)
    fresh = tmp_path / "fresh"
    use_remote(fresh, "", password)
    dvc(["exp", "pull", "origin", "reseeded"], fresh)
    assert "reseeded" in dvc(["exp", "list", "--name-only"], fresh).stdout
    dvc(["exp", "apply", "reseeded"], fresh)
    assert "seed: 7" in (fresh / "params.yaml").read_text(encoding="utf-8")
    customers = "data/segment/customers.csv"
    assert (fresh / customers).read_bytes() == (first / customers).read_bytes()


def test_the_remote_never_holds_the_real_files(pushed, webdav) -> None:
    """The pipeline ran on the sample: none of the store's real files' md5 is on the remote
    (and the sample's own files are, so the check can see a file that is there)."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real data not present at {REAL_DATA_DIR}")
    _, first = pushed
    stored = stored_hashes(webdav[2])
    assert {md5(p) for p in (first / "data" / "sample").glob("*.csv")} <= stored
    real = {md5(p) for p in REAL_DATA_DIR.rglob("*") if p.is_file()}
    assert real and not real & stored
