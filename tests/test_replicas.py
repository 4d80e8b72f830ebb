"""Many replicas: the container `datasette package` would build serves what `serve` serves.

Docker is not on the test machines, so the build context is made with
Datasette's own code for `datasette package`, and its Dockerfile's steps are
run here without Docker: `datasette inspect`, then the CMD, on 127.0.0.1."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from datasette.utils import temporary_docker_directory

from loader.site.replicas import DOC_PATH, package_command, plugins, render, setting_options
from loader.site.serve import METADATA_PATH, PLUGINS_PATH, SETTINGS, TEMPLATES_PATH
from tests.support.site_helpers import free_port, wait_until_served


def test_the_document_is_rendered_from_serve_settings() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run python -m loader.site.replicas"
    for name, value in SETTINGS.items():
        assert f"--setting {name} {str(value).lower() if isinstance(value, bool) else value}" in render()
    assert {"datasette~=0.65.1", "datasette-atom~=0.9", "datasette-cluster-map~=0.18"} <= set(plugins())


def test_the_packaged_site_serves_the_settings_of_serve(published_db: Path) -> None:
    command = package_command(str(published_db))
    extra = command[command.index("--extra-options") + 1]
    assert extra.split() == setting_options()
    with (
        open(METADATA_PATH) as metadata,
        temporary_docker_directory(
            [str(published_db)],
            "event-store",
            metadata,
            extra,
            None,
            str(TEMPLATES_PATH),
            str(PLUGINS_PATH),
            [],
            plugins(),
            False,
            None,
            "not-a-secret",
        ) as context,
    ):
        dockerfile = (Path(context) / "Dockerfile").read_text()
        install = re.search(r"^RUN (pip install .*)$", dockerfile, re.MULTILINE)
        assert install and shlex.split(install.group(1)) == ["pip", "install", "-U", "datasette", *plugins()]
        inspect = re.search(r"^RUN (datasette inspect .*)$", dockerfile, re.MULTILINE)
        cmd = re.search(r"^CMD (.*)$", dockerfile, re.MULTILINE)
        assert inspect and cmd
        subprocess.run([sys.executable, "-m", *shlex.split(inspect.group(1))], cwd=context, check=True)
        port = free_port()
        args = shlex.split(cmd.group(1).replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1"))
        assert args[:2] == ["datasette", "serve"]
        process = subprocess.Popen([sys.executable, "-m", *args], cwd=context, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            served = json.loads(wait_until_served(f"{base}/-/settings.json", process))
            assert {name: served[name] for name in SETTINGS} == SETTINGS
            with urllib.request.urlopen(f"{base}/events/events/2025-08-19-paris-shaibani-dermer") as response:
                page = response.read().decode()
            assert 'id="history"' in page
            with urllib.request.urlopen(f"{base}/-/databases.json") as response:
                databases = {d["name"]: d for d in json.load(response)}
            assert databases["events"]["is_mutable"] is False
        finally:
            process.terminate()
            process.wait(timeout=30)
