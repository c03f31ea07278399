"""Production settings pass Django's deployment checklist, and `.env.example` documents
every variable the settings read."""

import ast
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "leadnexus" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"


def _settings_variables() -> set[str]:
    """Names passed as the first argument to `env(...)`, `env.bool(...)`, `env.db(...)`..."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def _check_deploy(static_root: Path) -> subprocess.CompletedProcess:
    # A production environment: the essentials only, every other setting at its default.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    env.update(
        DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="example.com", STATIC_ROOT=str(static_root)
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_environment(tmp_path):
    # given a production environment whose static files were collected
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')

    # when Django's deployment checklist runs
    result = _check_deploy(tmp_path)

    # then it finds nothing to warn about
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output
    assert "WARNING" not in output, output


def test_check_deploy_says_when_static_files_were_not_collected(tmp_path):
    result = _check_deploy(tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "leadnexus.E001" in output, output
    assert "collectstatic" in output, output


def test_env_example_lists_every_setting():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    read = _settings_variables()

    assert read, "no env(...) calls found in settings.py"
    assert read <= documented, f"add to .env.example: {sorted(read - documented)}"
