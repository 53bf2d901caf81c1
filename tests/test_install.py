"""A regular (non-editable) install keeps its data where the README says: ``./instance`` or ``TASKLINK_INSTANCE_PATH``.

Flask's own default for an installed package is ``<venv>/var/api-instance``:
rebuilding the venv would delete the SQLite file and the clicks still waiting
in the click log. This builds a real wheel install in a fresh virtualenv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import json; from api import create_app, clicklog; app = create_app(); "
    "print(json.dumps({'module': __import__('api').__file__, 'instance': app.instance_path, "
    "'log': str(clicklog.of(app).directory), 'db': app.config['DATABASE_URL']}))"
)


@pytest.mark.slow
def test_a_non_editable_install_keeps_the_instance_folder_in_the_working_directory(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    # The test environment's packages are visible; only Tasklink itself is installed anew, from a wheel.
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(ROOT)], check=True, cwd=tmp_path, capture_output=True
    )
    work = tmp_path / "deploy"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKLINK_")} | {"TASKLINK_DEMO": "1"}
    env.pop("PYTHONPATH", None)

    def probe(extra: dict[str, str]) -> dict[str, str]:
        out = subprocess.run(
            [python, "-c", PROBE], check=True, cwd=work, env=env | extra, capture_output=True, text=True
        ).stdout
        return json.loads(out.strip().splitlines()[-1])

    found = probe({})
    assert str(env_dir) in found["module"] and str(ROOT) not in found["module"]  # really the installed copy
    assert found["instance"] == str(work / "instance")
    assert found["log"] == str(work / "instance" / "click-log")
    assert found["db"] == f"sqlite:///{work / 'instance' / 'tasklink.db'}"
    elsewhere = probe({"TASKLINK_INSTANCE_PATH": str(tmp_path / "data")})
    assert elsewhere["instance"] == str(tmp_path / "data")
    assert elsewhere["log"] == str(tmp_path / "data" / "click-log")
    assert sys.prefix != str(env_dir)
