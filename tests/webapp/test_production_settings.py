"""Production settings come from the environment: HSTS, SSL redirect, the proxy's HTTPS header, framing; the
README's production variables pass ``check --deploy``; the development secret key is the owner's alone."""

import json
import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.settings import development_secret_key

REPO_ROOT = Path(__file__).resolve().parents[2]


def readme_production_environment() -> dict:
    """The variables of the README's production example, with a real random key for the placeholder."""
    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"### Production\n.*?```sh\n(.*?)```", readme, re.S).group(1)
    env = dict(line.split("=", 1) for line in block.strip().splitlines())
    env["SECRET_KEY"] = secrets.token_urlsafe(60)
    return env


def run_python(args: list[str], env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "X_FRAME", "HTTPS", "DEBUG"))
    }
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def settings_under(env: dict, *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    done = run_python(["-c", code], {"DJANGO_SETTINGS_MODULE": "webapp.settings", **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_readme_production_variables_pass_the_deploy_check():
    done = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], readme_production_environment()
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_deploy_check_warns_without_them():
    done = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {})
    assert done.returncode != 0 and "security.W004" in done.stderr + done.stdout


def test_hsts_ssl_redirect_and_the_proxy_header_come_from_the_environment():
    names = ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
             "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "X_FRAME_OPTIONS")  # fmt: skip
    assert settings_under({}, *names) == {
        "SECURE_HSTS_SECONDS": 0, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False, "SECURE_HSTS_PRELOAD": False,
        "SECURE_SSL_REDIRECT": False, "SECURE_PROXY_SSL_HEADER": None, "X_FRAME_OPTIONS": "DENY",
    }  # fmt: skip
    production = settings_under(readme_production_environment(), *names)
    assert production == {
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True,
        "SECURE_SSL_REDIRECT": True, "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "X_FRAME_OPTIONS": "DENY",
    }  # fmt: skip
    assert (
        settings_under({"X_FRAME_OPTIONS": "SAMEORIGIN"}, "X_FRAME_OPTIONS")["X_FRAME_OPTIONS"]
        == "SAMEORIGIN"
    )


def test_a_malformed_proxy_header_stops_the_start_with_its_name():
    done = run_python(["manage.py", "check"], {"SECURE_PROXY_SSL_HEADER": "https"})
    assert done.returncode != 0 and "SECURE_PROXY_SSL_HEADER" in done.stderr


@pytest.mark.django_db
def test_pages_refuse_framing_by_default(client):
    assert client.get("/login/")["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 600
    plain = client.get("/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200 and secure["Strict-Transport-Security"] == "max-age=600"


def test_the_development_secret_key_file_is_readable_by_its_owner_only(tmp_path):
    key = development_secret_key(tmp_path / "state")
    key_file = tmp_path / "state" / "secret_key"
    assert len(key) >= 50 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert development_secret_key(tmp_path / "state") == key


def test_an_older_world_readable_key_file_is_narrowed(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("old-key")
    key_file.chmod(0o644)
    assert development_secret_key(tmp_path) == "old-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
