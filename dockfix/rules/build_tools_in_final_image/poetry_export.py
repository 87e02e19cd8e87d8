"""The builder's export of a ``poetry install`` without a virtualenv (see ``poetry.py``).

One line of a ``python -c "..."`` (single quotes only, no ``$``, backquote or ``!``: it
stands in a double-quoted shell word), for Python 3.7 and later.  Run in the install's
folder right after it, with the file of pins to write as its argument, it:

* stops unless ``poetry config virtualenvs.create`` prints ``false`` (the value Poetry
  uses: its variable, the project's ``poetry.toml``, then the global file);
* reads ./poetry.lock with ``tomllib`` (3.11+), else ``tomli`` (Poetry 1.5+ depends on
  it before 3.11), else ``tomlkit`` (every Poetry depends on it: ``tomlkit
  (>=0.7.0,<1.0.0)`` in 1.1.15's metadata, ``tomlkit (>=0.11.4,<1.0.0)`` in 1.8.3's and
  2.x's), else stops: never guesses;
* stops when a package of the lock has a ``[package.source]`` (git, directory, file, url
  or another index: Poetry records one for every package not from PyPI);
* keeps the lock's packages installed in this Python at exactly the lock's version
  (``importlib.metadata``, ``importlib_metadata`` on 3.7, where Poetry 1.x depends on it,
  else ``pkg_resources``; versions compared with ``packaging``, which Poetry depends on,
  else pip's copy): what the install selected after groups, extras and markers, read
  from what it did rather than from Poetry's resolver; stops when none is;
* writes them (``name==version``) to the file, and builds a wheel of each into the
  file's folder (``/wheels``) with ``python -m pip wheel --no-deps``, with the lock's
  file hashes (``files`` in lock-version 2, ``[metadata.files]`` in 1.1) as ``--hash``
  where the lock lists them, so pip checks them.
"""

from __future__ import annotations

EXPORT = (
    "import importlib,importlib.util as u,os,re,subprocess,sys,tempfile;",
    "a=sys.argv[1:];",
    "W=os.path.dirname(a[0]);",
    "c=subprocess.check_output(['poetry','config','virtualenvs.create'])"
    ".decode().strip().splitlines()[-1:];",
    "c==['false'] or sys.exit('poetry config virtualenvs.create is not false here: "
    "poetry install used a virtualenv, not this Python');",
    "m=[x for x in ('tomllib','tomli','tomlkit') if u.find_spec(x)];",
    "m or sys.exit('no TOML reader (tomllib, tomli or tomlkit) to read poetry.lock');",
    "l=importlib.import_module(m[0]).loads(open('poetry.lock').read());",
    "p=list(l.get('package',[]));",
    "b=[x['name'] for x in p if x.get('source')];",
    "b and sys.exit('poetry.lock installs from a source other than PyPI: '+', '.join(b));",
    "N=lambda n:re.sub('[-_.]+','-',str(n)).lower();",
    "F=dict((N(k),v) for k,v in l.get('metadata',{}).get('files',{}).items());",
    "M=[x for x in ('importlib.metadata','importlib_metadata') if u.find_spec(x)];",
    "i={};",
    "[i.setdefault(N(d.metadata['Name'] or ''),set()).add(d.version) for d in "
    "importlib.import_module(M[0]).distributions()] if M else "
    "[i.setdefault(N(d.project_name),set()).add(d.version) for d in "
    "importlib.import_module('pkg_resources').working_set];",
    "P=importlib.import_module('packaging.version' if u.find_spec('packaging') "
    "else 'pip._vendor.packaging.version').parse;",
    "s=[x for x in p if [v for v in i.get(N(x['name']),()) "
    "if v==str(x['version']) or P(v)==P(str(x['version']))]];",
    "s or sys.exit('no package of poetry.lock is installed in this Python');",
    "r=lambda x:str(x['name'])+'=='+str(x['version']);",
    "H=lambda x:[str(y['hash']) for y in (x.get('files') or F.get(N(x['name'])) or []) "
    "if str(y.get('hash','')).split(':')[0] in ('sha256','sha384','sha512')];",
    "os.path.isdir(W) or os.makedirs(W);",
    "open(a[0],'w').write(''.join(r(x)+chr(10) for x in s));",
    "h=[r(x)+''.join(' --hash='+y for y in H(x)) for x in s if H(x)];",
    "w=[r(x) for x in s if not H(x)];",
    "T=tempfile.mkdtemp();",
    "R=((os.path.join(T,'hashed.txt'),h),(os.path.join(T,'unhashed.txt'),w));",
    "[open(f,'w').write(''.join(y+chr(10) for y in q)) for f,q in R];",
    "[subprocess.check_call([sys.executable,'-m','pip','wheel','--no-deps','--wheel-dir',"
    "W,'-r',f]) for f,q in R if q]",
)


def export_command(pins: str) -> str:
    """The builder's command after the ``poetry install``, writing ``pins``."""
    return f'python -c "{"".join(EXPORT)}" {pins}'
