"""reconbot installs one top-level name, and never imports a bare ``core``, ``bot``, ``handlers`` or ``admin``.

The layers live in the repository's top-level folders and are linked into the package ``reconbot``
(README, "Architecture"); these tests check what a user gets: the wheel, and the program run from a
folder that has packages of those names of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("core", "bot", "handlers", "admin")


def _tracked_tree(into: Path) -> Path:
    """Copy the files git knows (committed or not, links kept as links) to ``into``; return it."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source, target = REPO / name, into / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return into


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout")
    tree = _tracked_tree(tmp_path_factory.mktemp("tree"))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(tree)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("reconbot-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_installs_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"reconbot"}
    (listed,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    assert wheel.read(listed).decode().split() == ["reconbot"]


def test_the_wheel_holds_every_layer_as_files_with_their_data(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for layer in LAYERS:
        assert f"reconbot/{layer}/__init__.py" in names
    expected = [
        "reconbot/core/services/banks/sync.py",
        "reconbot/core/persistence/migrations/env.py",
        "reconbot/core/persistence/migrations/script.py.mako",
        "reconbot/core/persistence/migrations/versions/0001_initial.py",
        "reconbot/admin/templates/base.html",
        "reconbot/samples/demo_statement.xml",
        "reconbot/samples/demo_invoices.csv",
        "reconbot/cli/main.py",
    ]
    assert [name for name in expected if name not in names] == []
    # Links are followed at build time: a link's target, not the link, is what a user installs.
    links = [info.filename for info in wheel.infolist() if (info.external_attr >> 16) & 0o170000 == 0o120000]
    assert links == []


FOREIGN = "raise SystemExit('imported the foreign {name!r} package from the current folder')\n"


def test_the_program_ignores_packages_named_like_its_layers_in_the_current_folder(tmp_path: Path) -> None:
    """A Django project has its own ``core/``; reconbot run from there must import only its own code."""
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text(FOREIGN.format(name=layer))
    env = {**os.environ, "RECONBOT_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    env.pop("RECONBOT_DATABASE_URL", None)
    # Every module of the package, imported from that folder: one bare import anywhere would end the program.
    every = (
        "import pkgutil, importlib, reconbot\n"
        "for module in pkgutil.walk_packages(reconbot.__path__, 'reconbot.'):\n"
        "    if '.migrations' not in module.name and not module.name.endswith('__main__'):\n"
        "        importlib.import_module(module.name)\n"
        "print('imported', len(list(pkgutil.walk_packages(reconbot.__path__, 'reconbot.'))))\n"
    )
    imported = subprocess.run([sys.executable, "-c", every], cwd=tmp_path, env=env, capture_output=True, text=True,
                              check=False, timeout=120)  # fmt: skip
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert int(imported.stdout.split()[-1]) > 150
    demo = subprocess.run([sys.executable, "-m", "reconbot", "demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, check=False, timeout=120)  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "Who paid what" in demo.stdout and "E-KERT-2025-1" in demo.stdout
