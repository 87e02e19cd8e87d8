"""What Python packages need from the system: one data table, easy to extend.

A package with C code that is built from source (an sdist, or a wheel built in a builder
stage) links the system libraries it found there: ``psycopg2`` links ``libpq.so.5``,
``lxml`` links libxml2 and libxslt.  The compiled module loads them at run time, so an
image that drops them (``python:3.x`` -> ``-slim``, or a builder/final split) fails on
``import``.  Each row names the Debian ``-dev`` packages the build compiles against;
``dockfix.images.runtime_libs`` maps each to the runtime package per Debian release
(``libpq-dev`` -> ``libpq5``), so one table keeps the release-specific names.

``wheels`` says whether PyPI has manylinux wheels for the usual platforms (those bundle
their libraries: pip builds from source only where no wheel fits, a new Python or an
unusual architecture); ``loads_at_run_time`` marks packages that load the library
themselves (``ctypes``) even when installed from a wheel.

``PURE_OR_WHEELS`` lists popular packages that never compile on glibc amd64/arm64: pure
Python, or with manylinux wheels for every current CPython.  A requirement set made only
of them needs no compiler, so splitting a build stage off buys nothing.

Facts come from the packages' own build documentation and setup scripts (psycopg2's
``pg_config``, mysqlclient's ``mysql_config``/``pkg-config``, lxml's ``xml2-config``,
Pillow's ``setup.py`` feature list, uWSGI's ``buildconf``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NativePackage:
    """A PyPI package with C code and the ``-dev`` packages its build links."""

    name: str
    dev: tuple[str, ...]
    wheels: bool
    loads_at_run_time: bool = False


def _native(name: str, dev: str, *, wheels: bool, loads: bool = False) -> NativePackage:
    return NativePackage(name, tuple(dev.split()), wheels, loads)


_ROWS = (
    # -- databases --------------------------------------------------------------------------
    _native("psycopg2", "libpq-dev", wheels=False),
    # psycopg 3 without [binary]/[c] is pure Python and loads libpq with ctypes.
    _native("psycopg", "libpq-dev", wheels=False, loads=True),
    _native("mysqlclient", "default-libmysqlclient-dev", wheels=False),
    _native("python-ldap", "libldap2-dev libsasl2-dev", wheels=False),
    _native("pyodbc", "unixodbc-dev", wheels=True),
    # -- XML, web servers -------------------------------------------------------------------
    _native("lxml", "libxml2-dev libxslt1-dev", wheels=True),
    _native("xmlsec", "libxmlsec1-dev libxml2-dev libxslt1-dev", wheels=False),
    _native("uwsgi", "libxml2-dev", wheels=False),
    _native("python-magic", "libmagic-dev", wheels=True, loads=True),
    # -- images -----------------------------------------------------------------------------
    _native(
        "pillow",
        "libjpeg-dev zlib1g-dev libtiff-dev libfreetype-dev liblcms2-dev libwebp-dev "
        "libopenjp2-7-dev",
        wheels=True,
    ),
    # -- others -----------------------------------------------------------------------------
    _native("pyyaml", "libyaml-dev", wheels=True),
    _native("gevent", "libev-dev", wheels=True),
    _native("pycurl", "libcurl4-openssl-dev", wheels=False),
    _native("python-snappy", "libsnappy-dev", wheels=True),
    _native("pyzmq", "libzmq3-dev", wheels=True),
)

NATIVE: dict[str, NativePackage] = {row.name: row for row in _ROWS}

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
    pluggy psycopg2-binary pydantic pydantic-core pydantic-settings pyjwt pymysql pytest
    python-dateutil python-dotenv python-multipart pytz redis requests rich s3transfer
    setuptools simplejson six sniffio sqlalchemy starlette tenacity toml tomli tqdm
    typing-extensions tzdata ujson urllib3 uvicorn uvloop vine watchfiles websockets
    werkzeug wheel whitenoise wtforms zipp
"""
PURE_OR_WHEELS: frozenset[str] = frozenset(_PURE_OR_WHEELS_NAMES.split())

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(text: str) -> tuple[str, str] | None:
    """``(name, extras)`` of a requirement (``psycopg[binary]>=3``), None for other lines."""
    match = _NAME.match(text)
    if match is None:
        return None
    return normalize(match.group(1)), (match.group(2) or "").lower()


def native(name: str, extras: str = "") -> NativePackage | None:
    """The table's row for a requirement; psycopg's ``[binary]`` extra bundles libpq."""
    row = NATIVE.get(normalize(name))
    if row is not None and row.name == "psycopg" and "binary" in extras:
        return None
    return row
