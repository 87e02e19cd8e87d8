"""Python requirement names, and the packages known to never need a compiler.

Which pip packages load a system library at run time is not here: that is the documented
table ``data/pip_system_libs.json`` (read through ``dockfix.images.runtime_data``), the
one source of those facts.

``PURE_OR_WHEELS`` lists popular packages that never compile on glibc amd64/arm64: pure
Python, or with manylinux wheels for every current CPython.  A requirement set made only
of them needs no compiler, so splitting a build stage off buys nothing.
"""

from __future__ import annotations

import re

from dockfix import lazy_re

#: Packages that never need a compiler on glibc amd64/arm64 (pure Python, or manylinux
#: wheels for every current CPython).
_PURE_OR_WHEELS_NAMES = """
    aiohttp alembic amqp anyio asgiref attrs babel bcrypt beautifulsoup4 billiard black
    boto3 botocore cachetools celery certifi cffi chardet charset-normalizer click
    colorama cryptography dataclasses-json django django-cors-headers django-environ
    djangorestframework dnspython email-validator et-xmlfile fastapi flask flask-cors
    flask-login flask-migrate flask-sqlalchemy flask-wtf gunicorn h11 httpcore httptools
    httpx idna importlib-metadata iniconfig itsdangerous jinja2 jmespath jsonschema kombu
    markdown markupsafe marshmallow numpy openpyxl orjson packaging pandas passlib pip
    pip-tools pluggy psycopg2-binary pydantic pydantic-core pydantic-settings pyjwt pymysql pytest
    python-dateutil python-dotenv python-multipart pytz redis requests rich s3transfer
    setuptools simplejson six sniffio sqlalchemy starlette tenacity toml tomli tqdm
    typing-extensions tzdata ujson urllib3 uvicorn uvloop vine watchfiles websockets
    werkzeug wheel whitenoise wtforms zipp
"""
PURE_OR_WHEELS: frozenset[str] = frozenset(_PURE_OR_WHEELS_NAMES.split())

_NAME = lazy_re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(text: str) -> tuple[str, str] | None:
    """``(name, extras)`` of a requirement (``psycopg[binary]>=3``), None for other lines."""
    match = _NAME.match(text)
    if match is None:
        return None
    return normalize(match.group(1)), (match.group(2) or "").lower()


#: A requirement whose version only is a variable (``tensorflow-gpu==${TF_VERSION}``,
#: quoted or not): the name is known, the shell supplies the version.
_VARIABLE_VERSION = lazy_re.compile(
    r'"?([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[A-Za-z0-9._,-]*\])?'
    r'(?:===|==|~=|!=|<=|>=)[A-Za-z0-9.*+!_-]*\$\{?[A-Za-z_][A-Za-z0-9_]*\}?[A-Za-z0-9.*+!_-]*"?'
)


def variable_version_name(text: str) -> tuple[str, str] | None:
    """``(name, extras)`` of a requirement written with a variable version, as the shell
    word's source text; None for anything else (a variable name, a path, a URL)."""
    match = _VARIABLE_VERSION.fullmatch(text)
    if match is None or text.startswith('"') != text.endswith('"'):
        return None
    return normalize(match.group(1)), (match.group(2) or "").lower()
