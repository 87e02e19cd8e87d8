"""The libraries the built packages link, found at build time (Debian splits).

Why: the data that names a build package's runtime libraries covers one Debian release,
and an image tag without a codename (``python:3.12-slim``) does not say which release it
is.  The builder knows: after installing, it lists the shared objects of the built wheels
(or of the virtualenv), resolves what they link with ``ldd`` and asks ``dpkg-query
--search`` which packages own those files; the final stage installs that list.  So the
final image has every library a compiled module links (``lightgbm`` -> ``libgomp1``,
``psycopg2`` -> ``libpq5``), whatever the release, and nothing the scan did not find.

The scan is a Python one-liner (2.7 or 3: the image's Python; no pipe, so no ``pipefail``
question and no hadolint DL4006), written without ``"``, ``$``, backticks or
backslashes so that it means the same inside ``/bin/sh`` double quotes and under any
Dockerfile escape character.  Files whose owner ``dpkg`` does not know (the image's own
Python under ``/usr/local``, libraries a wheel bundles) are left out.

A Debian release whose archive has left the mirrors (``python:2.7`` runs buster) gives
the final stage no ``apt-get``: its ``apt-get update`` fails.  There the scan also
writes a tar of the files of the packages it found (``dpkg -L``: files and symbolic
links, not folders; packages a pip package is known to load are added where the builder
has them) and the final stage unpacks it without replacing any file -slim has, then runs
``ldconfig``.  The builder is the full image, whose packages the original's builds
linked: the final image gets the same files, not listed by its ``dpkg``.

Alpine: the musl loader lists what each file links, and the list is of ``so:`` names
(``so:libpq.so.5``), which ``apk add`` resolves to the package providing them.  The RHEL
family (CentOS, Fedora, Amazon Linux, Rocky, Alma, UBI): ``ldd``, then ``rpm -qf`` names
the owning packages (``--queryformat`` gives the bare name, no version or arch); the
final stage installs them with the file's own ``yum``/``dnf``/``microdnf``.  Those
splits are not built in this project's CI: only PyPI, Debian and npm are reachable
from its machines, not Alpine's or Fedora's mirrors.
"""

from __future__ import annotations

from dockfix.lazy_dataclass import dataclass
from dockfix.syntax.document import Style

#: Where the builder writes the package list, and where the final stage mounts it.
LIST_IN_BUILDER = "/runtime-packages.txt"
LIST_MOUNTED = "/tmp/runtime-packages.txt"
#: Where the builder writes the packages' files when the final stage cannot install
#: them (see above), and where the final stage mounts them.
ARCHIVE_IN_BUILDER = "/runtime-libraries.tar"
ARCHIVE_MOUNTED = "/tmp/runtime-libraries.tar"

_RUN = "s.Popen(%s,stdout=s.PIPE,stderr=e,universal_newlines=True).communicate()[0]"
#: Statements of the scan; argv: the directory to scan (wheels are unpacked), the output.
#: Python 2.7 and 3 alike (``Popen``, no f-strings): system pythons of old releases run it.
_SCAN = (
    "import glob,os,subprocess as s,sys,tempfile,zipfile",
    "d,o=sys.argv[1:3]",
    "t=tempfile.mkdtemp()",
    "e=open(os.devnull,'w')",
    "[zipfile.ZipFile(os.path.join(d,w)).extractall(t) for w in os.listdir(d)"
    " if w.endswith('.whl')]",
    "f=[p for r in (d,t) for a,_,n in os.walk(r) for p in [os.path.join(a,x) for x in n]"
    " if os.path.isfile(p) and not os.path.islink(p) and open(p,'rb').read(4)[1:]==b'ELF']",
)
#: Where the builder keeps each replayed Node install's marker, list and tar (see
#: ``replay``).
REPLAY_DIR = "/dockfix-replay"
#: With replayed Node installs: also the ELF files their lists name (NUL-separated, as
#: ``find -print0`` writes them), the addons they compiled.
_REPLAYED = (
    f"f+=[p for x in glob.glob('{REPLAY_DIR}/*.list') for p in open(x).read().split(chr(0))"
    " if p and os.path.isfile(p) and not os.path.islink(p) and open(p,'rb').read(4)[1:]==b'ELF']",
)
#: ``ldd`` on glibc takes many files at once.
_LDD = "l=''.join(" + _RUN % "['ldd']+f[i:i+200]" + " for i in range(0,len(f),200))"
#: musl's loader lists one file per run; called directly, it needs no ``musl-utils``.
_MUSL_LDD = (
    "m=glob.glob('/lib/ld-musl-*.so.1')[0]",
    "l=''.join(" + _RUN % "[m,'--list',p]" + " for p in f)",
)
#: Debian: the packages owning the files the builds link, by ``dpkg-query``.
_DEBIAN = (
    "q={y for x in l.splitlines() if ' => /' in x"
    " for y in (x.split()[2],os.path.realpath(x.split()[2]))}",
    "q|={'/usr'+x for x in q if x.startswith('/lib')}"
    "|{x[4:] for x in q if x.startswith('/usr/lib')}",
    "r=" + _RUN % "['dpkg-query','--search']+sorted(q)" + " if q else ''",
    "k={n.strip().split(':')[0] for x in r.splitlines()"
    " if ': /' in x and not x.startswith('diversion') for n in x.split(': /')[0].split(',')}",
)
#: The RHEL family: the packages owning the files the builds link, by ``rpm -qf``.  The
#: query format marks each name (``@glibc``): a file no package owns prints a sentence
#: instead, whose words never start with ``@``; no ``\\n`` is needed (no backslash).
_RPM = (
    "q={y for x in l.splitlines() if ' => /' in x"
    " for y in (x.split()[2],os.path.realpath(x.split()[2]))}",
    "r=" + _RUN % "['rpm','-qf','--queryformat','@%{NAME} ']+sorted(q)" + " if q else ''",
    "k={w[1:] for w in r.split() if w.startswith('@') and len(w)>1}",
)
#: Alpine: ``so:`` names of the libraries the builds link outside the image's own
#: Python (``/usr/local``) and the wheels; ``apk add so:libpq.so.5`` finds the package.
_ALPINE = (
    "k={'so:'+x.split()[0] for x in l.splitlines() if ' => /' in x"
    " and not x.split()[2].startswith(('/usr/local/',t,d))}",
)
_WRITE = ("open(o,'w').write(''.join(n+chr(10) for n in sorted(k)))",)
#: Debian, copied: the files (and symbolic links; folders are made as tar unpacks) of
#: each package found, in a tar.  ``dpkg -L`` per package: one the builder lacks (a
#: known loader's library the full image does not have) adds nothing and fails nothing.
_ARCHIVE = (
    "import tarfile",
    "P={p for n in sorted(k) for p in " + _RUN % "['dpkg','-L',n]" + ".splitlines()"
    " if p.startswith('/') and os.path.lexists(p) and (os.path.islink(p) or not"
    " os.path.isdir(p))}",
    "z=tarfile.open(o,'w')",
    "[z.add(p,recursive=False) for p in sorted(P)]",
    "z.close()",
)
#: How the libraries are found, by the scan's ``family``.
_FOUND = {
    "debian": (_LDD, *_DEBIAN),
    "alpine": (*_MUSL_LDD, *_ALPINE),
    "rhel": (_LDD, *_RPM),
}


@dataclass(frozen=True)
class Installer:
    """How the final stage installs the scanned list with one package manager: the one
    place that knows each manager's commands."""

    #: Commands before the install (``apt-get update``).
    before: tuple[str, ...]
    #: The install command, to which ``xargs`` adds the names.
    install: str
    #: Commands after it, dropping the manager's lists or caches as the files do.
    after: tuple[str, ...]
    #: The install fails when given no name (``apk add``, ``yum install``): ``xargs -r``
    #: skips it for an empty list.
    needs_names: bool


INSTALLERS: dict[str, Installer] = {
    "apt-get": Installer(
        ("apt-get update",),
        "apt-get install -y --no-install-recommends",
        ("rm -rf /var/lib/apt/lists/*",),
        needs_names=False,
    ),
    "apk": Installer((), "apk add --no-cache", (), needs_names=True),
    "yum": Installer((), "yum install -y", ("yum clean all",), needs_names=True),
    "dnf": Installer((), "dnf install -y", ("dnf clean all",), needs_names=True),
    "microdnf": Installer((), "microdnf install -y", ("microdnf clean all",), needs_names=True),
}


def scan_command(
    directory: str,
    style: Style,
    python: str = "python",
    *,
    alpine: bool = False,
    family: str | None = None,
    copied: tuple[str, ...] | None = None,
    replayed: bool = False,
) -> str:
    """The shell command that writes the list of packages the files in ``directory``
    (and the wheels there) link, one statement per continuation line.  ``family``:
    ``debian`` (the default), ``alpine`` (also ``alpine=True``) or ``rhel``;
    ``replayed``: also the files replayed Node installs wrote (see ``replay``).  With
    ``copied`` (Debian only), it writes the tar of those packages' files instead, with
    the packages named there added (see above)."""
    joint = f";{style.escape}{style.eol}{style.indent}"
    found = _FOUND[family or ("alpine" if alpine else "debian")]
    scan = (*_SCAN, *_REPLAYED) if replayed else _SCAN
    output = written_by_scan(copied is not None)[0]
    if copied is None:
        statements = (*scan, *found, *_WRITE)
    elif found is not _FOUND["debian"]:
        raise ValueError("only a Debian scan copies the packages' files")
    else:
        named = ("k|={" + ",".join(f"'{name}'" for name in copied) + "}",) if copied else ()
        statements = (*scan, *found, *named, *_ARCHIVE)
    return f'{python} -c "{joint.join(statements)}" {directory} {output}'


def install_commands(
    linked: tuple[str, ...], *, alpine: bool = False, manager: str | None = None
) -> list[str]:
    """The final stage's commands: install the scanned list (and ``linked``, packages a
    pip package is known to load itself) with ``manager`` (``apt-get`` by default,
    ``apk`` with ``alpine``), then drop its lists as the files do.  ``xargs`` without
    ``-r`` runs the install once even for an empty list (apt-get installs nothing);
    where the install fails without a name, ``-r`` skips it for an empty list."""
    installer = INSTALLERS[manager or ("apk" if alpine else "apt-get")]
    named = "".join(f" {name}" for name in linked)
    skip = "-r " if installer.needs_names and not linked else ""
    install = f"xargs {skip}{installer.install}{named} < {LIST_MOUNTED}"
    return [*installer.before, install, *installer.after]


def copy_commands() -> list[str]:
    """The final stage's commands when it cannot install packages: unpack the builder's
    tar of their files, keeping every file -slim has (``--skip-old-files``, GNU tar 1.27,
    jessie's), and let the loader find the libraries."""
    return [f"tar -xf {ARCHIVE_MOUNTED} -C / --skip-old-files", "ldconfig"]


def written_by_scan(copied: bool) -> tuple[str, str]:
    """Where the scan writes in the builder, and where the final stage mounts it: the
    package list, or (``copied``) the tar of the packages' files."""
    return (ARCHIVE_IN_BUILDER, ARCHIVE_MOUNTED) if copied else (LIST_IN_BUILDER, LIST_MOUNTED)


def bind_flag(alias: str, source: str, target: str) -> str:
    """``RUN``'s read-only mount of ``source`` in the stage ``alias`` at ``target``."""
    return f"--mount=type=bind,from={alias},source={source},target={target}"


def mount_flag(alias: str, *, copied: bool = False) -> str:
    """The final stage's mount of what the builder's scan wrote."""
    return bind_flag(alias, *written_by_scan(copied))
