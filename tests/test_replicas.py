"""Many replicas: the container `datasette package` would build serves what `serve` serves.

Docker is not on the test machines, so the build context is made with
Datasette's own code for `datasette package`, and its Dockerfile's steps are
run here as the container runs them, without Docker: its `pip install` line
into a new, empty virtual environment (so nothing of the checkout or of the
test's own environment is there: only the wheel and what it installs), then
`datasette inspect` and the CMD in the context directory, on 127.0.0.1."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from datasette.utils import temporary_docker_directory

from loader.metadata import METADATA_PATH
from loader.site.replicas import DOC_PATH, WHEEL_DIR, package_command, plugins, render, setting_options, wheel_path
from loader.site.worker import SETTINGS
from tests.support.site_helpers import free_port, wait_until_served
from tests.support.wheel import empty_venv, outside_env, pip_install


def test_the_document_is_rendered_from_serve_settings() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run python -m loader.site.replicas"
    for name, value in SETTINGS.items():
        assert f"--setting {name} {str(value).lower() if isinstance(value, bool) else value}" in render()
    assert {"datasette~=0.65.1", "datasette-atom~=0.9", "datasette-cluster-map~=0.18"} <= set(plugins())
    assert "--plugins-dir" not in package_command() and "--template-dir" not in package_command()


@pytest.mark.slow
def test_the_packaged_site_serves_the_settings_of_serve(published_db: Path, wheel: Path, tmp_path: Path) -> None:
    command = package_command(str(published_db))
    extra = command[command.index("--extra-options") + 1]
    assert extra.split() == setting_options()
    # `pip wheel . --no-deps -w wheel`, as the document says, in the directory the command runs in.
    checkout = tmp_path / "checkout"
    (checkout / WHEEL_DIR).mkdir(parents=True)
    shutil.copy(wheel, checkout / wheel_path())
    assert command[command.index("--static") + 1] == f"{WHEEL_DIR}:{WHEEL_DIR}"
    installs = [command[i + 1] for i, arg in enumerate(command) if arg == "--install"]
    assert installs == [wheel_path(), *plugins()]
    with (
        open(METADATA_PATH) as metadata,
        temporary_docker_directory(
            [str(published_db)],
            "event-store",
            metadata,
            extra,
            None,
            None,  # no template directory: the templates are the wheel's
            None,  # no plugins directory: the plugins are the wheel's
            [(WHEEL_DIR, str(checkout / WHEEL_DIR))],
            installs,
            False,
            None,
            "not-a-secret",
        ) as context,
    ):
        dockerfile = (Path(context) / "Dockerfile").read_text()
        install = re.search(r"^RUN (pip install .*)$", dockerfile, re.MULTILINE)
        assert install and shlex.split(install.group(1)) == ["pip", "install", "-U", "datasette", *installs]
        inspect = re.search(r"^RUN (datasette inspect .*)$", dockerfile, re.MULTILINE)
        cmd = re.search(r"^CMD (.*)$", dockerfile, re.MULTILINE)
        assert inspect and cmd
        # The image: an empty Python, then the Dockerfile's steps in /app, the context.
        bin_dir = empty_venv(tmp_path / "image")
        pip_install(bin_dir, *shlex.split(install.group(1))[2:], cwd=Path(context))
        env = outside_env()
        run = lambda args: [str(bin_dir / args[0]), *args[1:]]  # noqa: E731
        subprocess.run(run(shlex.split(inspect.group(1))), cwd=context, env=env, check=True)
        port = free_port()
        args = shlex.split(cmd.group(1).replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1"))
        assert args[:2] == ["datasette", "serve"]
        assert "--plugins-dir" not in args and "--template-dir" not in args
        process = subprocess.Popen(run(args), cwd=context, env=env, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            served = json.loads(wait_until_served(f"{base}/-/settings.json", process, 120))
            assert {name: served[name] for name in SETTINGS} == SETTINGS
            with urllib.request.urlopen(f"{base}/events/events/2025-08-19-paris-shaibani-dermer") as response:
                page = response.read().decode()
            assert 'id="history"' in page
            with urllib.request.urlopen(f"{base}/-/static-plugins/event-store/server_map.js") as response:
                assert b"window.SERVER_MAP" in response.read()
            with urllib.request.urlopen(f"{base}/-/databases.json") as response:
                databases = {d["name"]: d for d in json.load(response)}
            assert databases["events"]["is_mutable"] is False
        finally:
            process.terminate()
            process.wait(timeout=30)
