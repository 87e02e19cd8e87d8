r"""DF202 build-tools-in-final-image: compilers kept in the image only to build Python packages.

What it does
    Finds a final stage that has compilers and headers (installed with ``apt-get``, or
    brought by the full ``python:3.x`` image) only so that ``pip install`` can build
    packages, and splits it in two (practices 1 and 17 of the source article):

    * a ``builder`` stage from the same base (inserted just above the final stage; other
      stages of the file stay as they are): the original steps up to the last such
      ``pip install``, with the build tools, where ``pip install`` becomes ``pip wheel
      --wheel-dir /wheels`` (strategy ``wheels``, the default) or runs in a virtualenv
      made with ``python -m venv /opt/venv`` (strategy ``venv``).  After the last
      install the builder lists the packages owning the shared objects its builds link
      (``ldd`` + ``dpkg-query --search``, see ``runtime_scan.py``);
    * the final stage: the original stage, in the same order, with comments where they
      were, except that the build packages are gone from ``apt-get install``, replaced by
      every library package they brought (``gcc`` -> ``libgomp1`` ..., ``libpq-dev`` ->
      ``libpq5`` ...; generated data, Debian bookworm), an ``apt-get install`` of the
      builder's list (plus the libraries the documented pip table names, e.g. a
      ``ctypes`` loader's) comes before the first install, and each ``pip install``
      installs what the builder built::

        RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
            pip install --no-index --find-links=/wheels -r requirements.txt

      or, for ``venv``, ``COPY --from=builder /opt/venv /opt/venv`` and
      ``ENV PATH=/opt/venv/bin:$PATH`` take the place of the first install.
      On a full ``python`` base the final stage moves to ``-slim`` (``python`` and
      ``python:latest`` -> ``python:slim``, ``3.7-stretch`` -> ``3.7-slim-stretch``
      from jessie on; ``python:${PY}`` -> ``python:${PY}-slim``): DF203's fix, made with
      the split.

    Bases: official Debian ``python`` images (also with the version given by an ARG, as
    in ``python:${PY}-slim``, whose literal rest keeps it a Debian python image; or, as
    in ``python:${PY}``, by the image the ARG's default names: the split is planned for
    that image, and the reason says what another value does),
    Debian-family images (known, or revealed by the stage's ``apt-get install``) whose
    Python comes from apt (the scan runs the system Python, 2.7 or 3, and the builder
    also installs ``python3-wheel``/``python-wheel``, which older pips need), and the
    official ``python:*-alpine`` images: there the scan lists ``so:`` names, which
    ``apk add`` resolves (Alpine's package index was not read, so no names are
    generated), and ``build-base``/``*-dev`` simply leave.

    Debian-family bases whose Python does not come from apt (an image the table does
    not know, a ``${base}`` ARG, an earlier stage, conda installed by the stage) are
    split too (see ``unknown_base.py``): the builder repeats the stage's steps on the
    same base, so it runs the stage's own pip; it first installs the ``wheel`` package
    with that pip (older pips need it for ``pip wheel``), and the scan runs the first
    Python found (next to a pip given by path, ``python3``, ``python``).  A variable
    base is split when the stage's own ``apt-get`` makes it Debian or Ubuntu for any
    value that builds.  conda's installer in batch mode (``miniconda.sh -b -p ...``)
    unpacks binaries and does not need the build tools.

    Alpine's own Python (``apk add python3 py3-pip``) and RHEL-family images (CentOS,
    Fedora, Amazon Linux, Rocky, Alma, UBI) whose stage installs Python with
    ``yum``/``dnf``/``microdnf`` are split when the pip the stage runs is known to be 9
    or newer: the stage upgrades it before using it (``pip install -U pip``, or
    ``pip==N`` with N >= 9), or the table of distribution pips
    (``dockfix/images/system_pip.py``: release, package, command) says so, and nothing
    of the stage may bring another pip (``get-pip.py``, a Python built from source,
    ``ENV PATH`` ...; see ``distro_pip.py``); the reason names the table's row.  The
    builder installs
    ``wheel`` with that pip, the scan runs ``python3`` (``python2`` for Python 2) and
    lists ``so:`` names (Alpine) or ``rpm -qf`` owners (RHEL), and the final stage
    installs them with the file's own manager (``yum clean all`` after it, as the files
    do; see ``base.py`` and ``runtime_scan.py``).  These splits are not built in this
    project's CI: Alpine's and Fedora's package mirrors are not reachable from its
    machines (only PyPI, Debian and npm are).

    ``uv sync`` (a project's environment in ``<WORKDIR>/.venv``, from ``uv.lock``) is
    split in the ``venv`` shape whatever the strategy (see ``managers.py``): the builder
    runs the stage up to the last ``uv sync``, and the final stage gets ``COPY
    --from=builder <WORKDIR>/.venv <WORKDIR>/.venv`` in its place (after the runtime
    libraries' install); an earlier ``uv sync --no-install-project`` leaves the final
    stage, and so does ``pip install uv``, which only served the builder (uv copied from
    its image stays).  The project's files are read from the build context: the Python
    uv picks must be the base image's (``requires-python`` and ``.python-version``
    accept its version; the environment links to ``/usr/local/bin``, which ``-slim`` of
    the same version has), and the project's editable install (a ``.pth`` naming its
    source folder, which the final stage copies from the context as the original did)
    must come from a pure-Python backend with no build hook (hatchling, uv_build,
    flit-core, poetry-core), unless ``--no-editable``/``--no-install-project``.

    ``pipenv install --system`` on an official python image is split with the pip
    installs (see ``pipenv.py``): the builder runs it as it is (with the stage's ``pip
    install pipenv``), then reads the Pipfile.lock it used and builds a wheel of every
    pin it selected with the stage's pip (hashes checked on download); the final stage
    keeps its ``pip install pipenv`` and installs exactly those pins from the wheels
    (``pip install --no-deps --no-index --find-links=/wheels -r /wheels/pipenv.txt``)
    in place of ``pipenv install``.  The Pipfile and Pipfile.lock are read from the
    build context.  ``poetry install`` with ``virtualenvs.create`` false (``poetry
    config``, ``POETRY_VIRTUALENVS_CREATE`` or the project's poetry.toml) is split the
    same way (see ``poetry.py``): the builder runs the stage's ``pip install poetry``
    and ``poetry install`` as written, then builds a wheel of every package of
    poetry.lock installed in the image's Python at the lock's version (hashes checked
    on download); the final stage keeps ``pip install poetry`` and installs those
    wheels (``-r /wheels/poetry.txt``) in place of ``poetry install``.  When the
    install also installs the project itself (no ``--no-root``, or ``--only-root``),
    the builder builds the project's PEP 660 editable wheel with the poetry-core its
    Poetry runs with, and the final stage installs it with pip: the same ``.pth``
    naming the source folder (which the stage's COPY brings, as before) and the same
    console scripts (see ``poetry_root.py``).

    ``pipenv install`` without ``--system`` (into the virtualenv pipenv makes) is split
    like ``uv sync`` (see ``pipenv_venv.py``): the builder runs the stage as written and
    scans the virtualenv's folder; the final stage keeps ``pip install pipenv`` (``pipenv
    run`` in its CMD still works), drops only ``pipenv install`` from its RUN and gets
    ``COPY --from=builder <folder> <folder>`` above it: ``<WORKDIR>/.venv`` when
    ``PIPENV_VENV_IN_PROJECT`` is ``1``/``true``/``yes``/``on``, else the absolute
    ``WORKON_HOME`` (or ``$XDG_DATA_HOME/virtualenvs``, or root's
    ``~/.local/share/virtualenvs``), copied whole so that the hash in the virtualenv's
    name need not be computed.  On official python images only, with the Pipfile's
    ``[requires]`` naming the image's Python or none.

    A Python program that builds nothing between two pip installs (``python -m spacy
    download``, ``python manage.py collectstatic``) runs in the builder after it
    installs its wheels of the installs before it (``pip wheel ... && pip install
    --no-index --find-links=/wheels ...``), as the final stage does at the original
    places, so it sees the packages the original had.  So does a build without build
    isolation (``--no-build-isolation``, ``--no-use-pep517``, or ``PIP_NO_BUILD_ISOLATION``,
    ``PIP_USE_PEP517`` or ``PIP_NO_USE_PEP517`` set to any value, by ENV, ARG, inline or
    ``export``): it imports what the installs before it installed (numpy, Cython), so the
    builder installs its wheels of every install before the last such build (see
    ``isolation.py``).  With ``venv`` the installs run in order in the virtualenv, which
    holds only ensurepip's seed packages: a build without isolation is split there only on
    an official python image of 3.12 or newer, whose Python has no setuptools or
    ``wheel`` either; elsewhere (the image's Python has ``wheel``, the virtualenv not, and
    setuptools before 70.1 needs it to build a wheel) it is refused.

    Programs that a requirement runs, by the pip table's ``debian_programs`` (GitPython
    runs ``git``, see ``programs.py``): the final stage keeps the stage's own install of
    ``git`` (a build package that would leave), and on the move to -slim installs the
    program's package when the full image had it (the reason says so, and that git's
    ssh transport, ``openssh-client``, is not installed).

    pip run as a user (``USER app`` + ``pip install --user``, a virtualenv or conda the
    user owns): the builder repeats the stage in order, ``USER`` lines and the user's
    creation included, so ``pip wheel`` runs as that user with its environment and
    ``apt-get`` as root.  Right before the last switch from root to that user, the
    builder makes ``/wheels`` and the scan's list writable by every user (a user cannot
    create them at ``/``; root's wheels already there included, which the user's ``pip
    wheel`` may rewrite), and the final stage installs the runtime libraries there
    (``apt-get`` needs root); its installs run as the user, as before, reading the wheels
    through the bind mount.

    An ``apt-get install`` left with no package is removed with the ``apt-get update``
    and list clean-up that served it; a RUN left empty is removed, its comment lines go
    with its copy in the builder.  Comment lines between a RUN's continued lines (``#
    Pillow dependencies`` inside an ``apk add`` list; BuildKit drops them before the
    shell reads the text) stay: one whose words leave goes back at the start of the next
    continued line, or of the RUN's last line, or, when the RUN is left with one line,
    directly above it (``dockfix.kept_comments``).

    Why wheels through a bind mount: ``COPY --from=builder /wheels /wheels`` followed by
    ``rm -rf /wheels`` leaves the wheels in the COPY layer, so the image keeps them;
    a bind mount never enters a layer.  ``RUN --mount=type=bind,from=`` works with
    BuildKit (the ``# syntax=docker/dockerfile:1`` line is added when missing, as DF110
    does) and with buildah/podman (1.28 included), which support RUN mounts but not
    ``COPY --link`` or heredocs; neither is used.  The builder keeps dependencies
    (no ``--no-deps``, unlike the article) so that ``--no-index`` finds every wheel, and
    the final install keeps the original arguments, so extras, markers and constraints
    mean what they meant (a version given by a variable, ``psycopg2==${VERSION}``, too:
    the builder repeats the stage's ``ARG``/``ENV`` lines, so its ``pip wheel`` sees the
    same value).

    Editable installs (``pip install -e .``, ``python setup.py develop``) become installs
    of the project's built wheel, as ``pip install .`` does (``project.py`` says why not
    ``-e`` in the final stage: it would build the project there, with the backend and
    compilers the split removes); the reason says what changes.  On the full image,
    requirement files that could not be read only because the build context is not on
    disk, and local projects copied in (whose setup.py/pyproject.toml are not read), are a
    caveat of the reason: the builder's scan finds every library compiled code links,
    but not one loaded with ctypes/dlopen or a program of the full image that a package
    runs.

    A stage that declares an ``ONBUILD RUN`` is a base for other images: the trigger
    runs in each of their builds, on this image, and may need the build tools the
    split removes, so it is reported without a fix.  So is a Dockerfile in a
    ``.devcontainer/`` folder (a development environment, where people build), and a
    final stage whose own ``CMD``/``ENTRYPOINT`` compiles or builds (``pip install`` at
    start-up, ``make``, ``cmake``, ``pip-compile``, ``pre-commit``: ``rules/_runtime_builds.py``).

    A download among the steps the builder repeats (``git clone`` of a branch, ``wget``
    of a tarball, ``ADD <url>``) happens once in each stage: the reason says that the
    final stage installs what the builder built from its own copy (``fetches.py``).

Why is this bad?
    Compilers, headers and their dependencies are hundreds of megabytes that the
    application never uses at run time (the article measures 259 MB -> 156 MB for a web
    app and 969 MB -> 357 MB for a data-science image), and every tool in the image is
    attack surface.

Example
    ``FROM python:3.12-slim`` + ``RUN apt-get update && apt-get install -y gcc
    libpq-dev`` + ``COPY requirements.txt .`` + ``RUN pip install -r requirements.txt``
    + ``COPY . .`` becomes a builder with those steps (``pip wheel``) and a final stage
    that installs the libraries the wheels link (``libpq5``) and the wheels, then copies
    the source.

Fix safety
    Unsafe: the final image no longer has the compilers and headers, so anything that
    compiles at run time breaks (``pip install`` at start-up, pyximport, extensions
    built on first import).  Where the release has no generated data (a tag without a
    codename, bullseye, Ubuntu), the libraries kept are those the built code links and
    those the pip table names: one loaded only with ``dlopen``/``ctypes`` by a package
    the table does not know is not.  Report only (with the reason) when:

    * the base image is a variable or unknown and not revealed as Debian by the stage
      (its ``apt-get``, no other package manager), Alpine's own Python or
      RHEL-family whose pip is not known to be 9 or newer (not upgraded by the stage,
      and not 9 or newer by the table of distribution pips for that release, package
      and command, or another pip may come first: older pips need the ``wheel``
      package for ``pip wheel``, and ``pip install wheel`` picks one for Python 2 only
      from pip 9), in a virtualenv the stage makes,
      or with ``setup.py install``; CentOS 5/6; ``microdnf install`` without ``-y``;
      known to have no Python while the stage shows no source of its pip
      (apt, ``get-pip.py``, ``ensurepip``, a pip given by path or a ``PATH`` it sets),
      or one whose Python is older than 2.7; the ``venv`` strategy on any Python but
      the official image's (``python3-venv`` may not be there); a pip install after
      ``||`` or followed by ``||`` on a base whose pip is not known (the builder's
      install of ``wheel`` cannot go before it);
    * a Python install is not a ``pip install`` of requirement files, named packages or
      sources to build (a local wheel file is installed as the original does, with
      what it needs from ``/wheels``): ``--no-binary``, hash-checking mode,
      ``uv pip install`` (uv builds no wheels of requirements: no ``uv pip wheel``),
      ``poetry install`` other than into the image's own Python (see ``poetry.py``:
      a virtualenv, the root project with a build script, a file script or packages
      not copied from the build context, ``--sync``, a lock package from git, a
      folder or another index, Poetry not from a ``pip install poetry`` of the stage,
      another ``poetry`` command that changes the lock), ``pipenv
      install`` other than with its Pipfile and Pipfile.lock read from the build
      context on an official python image (see ``pipenv.py`` and ``pipenv_venv.py``: a
      virtualenv whose folder, Python or user is not known, or that a later ``pipenv``
      command changes, package arguments, options that change what is installed, a VCS, path or
      editable entry, more than one index, PATH or PIPENV_ variables set), ``uv add``,
      a package name given by a variable (``$PKG``); a pip install
      in a loop (each pass installs before the next builds; the builder's ``pip wheel``
      installs nothing), in an ``if``/``case`` (the builder does not repeat the test), in
      a pipeline with other commands than ``yes`` before it, or in a subshell or group
      with other commands than literal ``cd`` before it (``yes | pip install`` and
      ``(cd dir && pip install ...)`` run pip as if alone: pip reads its input only to
      ask something, which an install from ``/wheels`` never does; both stages keep the
      wrapper, see ``wrappers.py``); a local project or URL with extras (``.[server]``)
      or after ``||``, in the background or in a ``yes |`` pipeline (its wheel's build,
      put before it with ``&&``, would not run exactly when it did; inside
      ``(cd dir && pip install .)`` it goes after the ``cd``s, and the project is
      ``dir``);
      an editable install of a VCS URL (``-e git+https://...``: pip keeps its checkout),
      of a variable, of a folder no COPY of the stage brings (a clone, a mount, the base
      image, a ``cd`` to a path not known) or that a later COPY writes into (``COPY
      setup.py .``, ``pip install -e .``, ``COPY . .``: the editable install sees the
      later files, a wheel built before them would not), or with the ``venv`` strategy;
      ``setup.py``
      run other than as ``python setup.py install``/``develop`` with no options
      (``build``, ``build_ext --inplace``, ``sdist``, ``install --force``: each named;
      ``setup.py build && setup.py install`` is one install, whose build the final
      stage drops), more than once in one RUN, after ``||`` or inside a pipeline, group
      or condition (lists joined by ``;`` are split), or by a Python whose
      pip is not known to be there (the official image's, one another pip install of
      the stage runs, one that ran ``get-pip.py`` before, a system Python whose pip the
      stage installs).  A local project (``pip install .``, a directory, an sdist,
      ``python setup.py install``) or a URL (``git+https://...``, an archive) is split:
      the builder builds its wheel alone into ``/wheels/project`` (``-2``, ``-3`` ...
      for later installs; ``pip wheel --no-deps``) and the wheels of what it needs into
      ``/wheels``; the final stage installs ``/wheels/project/*.whl`` (see
      ``project.py``);
    * ``uv sync`` whose environment or Python is not known: the project files cannot be
      read (no build context), ``UV_PROJECT_ENVIRONMENT``/``UV_PYTHON``/... are set (or
      ``UV_LINK_MODE=symlink``, uv settings in ``[tool.uv]`` or a ``uv.toml``), an
      option not known to keep ``.venv`` (``--python``, ``--active``, ``--directory``),
      a ``cd`` in its RUN, ``uv python install``/``uv venv`` in the stage, a Python
      version the project does not accept, a local ``.venv`` copied in, an editable
      build by another backend or with a hook, a RUN between two ``uv sync``, uv run
      again later (``CMD ["uv", "run", ...]`` syncs at start-up), other pip installs
      besides ``pip install uv``; on the full image, a ``uv.lock`` that cannot be read;
    * requirement files (read from the build context through the COPY that put them in
      the image) install local paths, URLs or use hashes (built wheels would not match
      them);
    * another RUN uses the build tools (``make``, ``gcc``, ``git``, a script, named by
      its path or piped into ``bash``; not one that runs before they are installed on
      a base known to have none; not NodeSource's setup script piped into a shell,
      which only adds its apt repository; a Python program run by path, ``./manage.py
      collectstatic``, is read as ``python manage.py`` is, unless its arguments build;
      a Node install, ``npm install``/``ci``/``run``, yarn or pnpm, is replayed instead
      where it can be: on Debian or Ubuntu, as root, in a RUN that runs nothing but the
      Node package managers and ``cd``, ``mkdir``, ``set``, ``export``, ``echo``,
      ``printf``, with no redirection or command substitution: the builder runs it
      between a marker and ``find / -xdev -cnewer`` the marker, packs what changed
      in a tar, and the final stage unpacks that tar in its place; one after the last
      pip install makes the builder go on to it, installing its wheels as the final
      stage does and scanning at its end; the library scan reads those files too, and
      the reason says that a file it deleted stays; see ``replay.py``),
      a RUN between two pip installs runs a program other than Python that may use the
      packages installed before it (with wheels the builder installs none; a Python
      program that builds nothing, ``python -m spacy download``, runs after the builder
      installs its wheels of the installs before it, as the final stage does; one with
      ``setup.py``, ``install``/``build`` arguments or ``-m build`` is refused), a RUN
      cannot be read (a heredoc, a shell parse error, an exec-form RUN of a program but
      file and user commands: ``RUN ["chmod", "+x", "run.sh"]`` is read), an earlier
      RUN goes on after its pip install with ``;`` (the builder drops what follows, so
      the RUN would end with the install's status, which the original ignored), pip
      runs as a user that the stage does not switch to from root
      (the base image's user when it is not known to be root: the runtime libraries'
      install needs root), as two users, as root between two installs of the user or
      with the ``venv`` strategy (the copied environment would belong to root), a RUN
      after the switch to that user changes system packages (``sudo apt-get``: the
      runtime libraries' install goes above the switch), the stage purges build
      packages itself,
      commands must be removed next to ``||`` or ``&``, or from the end of a RUN after
      ``;`` (from a list joined by ``&&`` and ``;`` they leave keeping ``;`` where either
      neighbour had it: the removed installs succeed whenever the build does), or the first
      install's RUN runs ``apt-get install`` on lists an earlier RUN fetched (the runtime
      libraries' install, just above it, removes them);
    * the base is the full image and the final stage could not switch to ``-slim``
      (a script it runs uses a tool -slim lacks, or a RUN runs a script that cannot be
      read; a compiler or ``make`` is used; a tool
      whose package is not known for every release, ``convert`` or ``file``, is used
      before the first install; a ``.deb`` is installed with ``dpkg -i``, whose
      dependencies the full image may have; an https apt source on a tag that may be
      stretch or older, where only the full image has ``apt-transport-https``; the tag
      has no version or runs wheezy, which had no -slim; the image is an earlier stage,
      or a variable whose ARG has no default or one that is not a plain Python version;
      the tag runs a Debian release whose archive has left deb.debian.org, or may
      (wheezy to buster: named, or the last images of ``2.7``, ``3.4``, ``3.5``, a patch
      release out before bullseye), the stage runs no ``apt-get update`` of its own, and
      the final stage would have to install a tool with apt-get, which fails there
      where the original builds): the split alone would keep every compiler of the
      base.  On such a release with no tool to install, the final stage gets the
      runtime libraries without apt-get: the builder's scan writes a tar of the files
      of the packages it finds (``dpkg -L``; those a pip package is known to load are
      added where the full image has them) and the final stage unpacks it with ``tar
      --skip-old-files`` (no file -slim has is replaced) and runs ``ldconfig``; the
      reason says that its dpkg does not list them.  A tool used from
      the first install on (a ``HEALTHCHECK`` with ``curl``, a ``git clone`` after it)
      is installed in the final stage with the runtime libraries, and the reason says
      so.  One used before it (``wget``, ``curl``, ``git`` -> ``git openssh-client``
      (git's ssh transport, which the full image has), ``ssh`` -> ``openssh-client``,
      ``gpg``/``apt-key`` -> ``gnupg dirmngr``, ``unzip``, ``xz``, ``bzip2``, ``ps``)
      is installed right after FROM, with the later ones, and the reason says so;
      unless a line before the first install sets apt's sources or a proxy, which that
      install would not use.  A package manager's command (``apt-get purge git``) is no
      use of the tool it names.  A ``CMD``/``ENTRYPOINT`` script that cannot be read
      (no build context, or not in it) runs only when the container starts: the split
      builds, and the reason names the script, which fails at start if it runs a program
      -slim lacks (as DF201 names an entrypoint it cannot read);
    * the base is the full image and the requirements could not be read even with the
      build context: a file no COPY brings (a clone, a download, the base image),
      one from another stage or an archive, one missing from the context on disk, a
      URL pip fetches, a project folder no COPY brings: a package in them may load a
      library or run a program of the full image, which -slim lacks; or a package that
      loads its library itself has no known package name for the release (Wand, which
      loads ImageMagick's MagickWand, on a tag that names no release: its package is
      ``libmagickwand-6.q16-6`` up to bookworm, ``libmagickwand-7.q16-10`` on trixie);
      or a requirement runs a program of the full image (GitPython: ``git``) and the
      release's archive has left the mirrors, so the final stage cannot install it;
    * a build without isolation with the ``venv`` strategy, except on an official
      python image of 3.12 or newer (see above);
    * every requirement is known to need no compiler (pure Python, or wheels for every
      current CPython, e.g. ``flask``, ``requests``, ``numpy``; no local project) and
      the fix below that takes the build packages out cannot be made: the base is not
      an official Debian python image of Python 3.8 to 3.14 (a system Python, conda,
      Alpine, an old Python: whether pip takes those wheels is not known), the stage is
      built for a platform other than ``linux/amd64``/``arm64``, pip may be told to build
      from source (``PIP_NO_BINARY``, ``PIP_CONFIG_FILE``, a ``pip.conf`` copied in), the
      tag names no Debian release on -slim (the libraries the build packages brought are
      not known by name), or the stage installs no build packages (the full image's
      compilers: DF203 moves it to -slim).

    When nothing needs compiling there is no builder: the fix (unsafe, ``drop.py``)
    takes the build packages out of the stage's installs in place, each replaced by the
    library packages it brought (as in the split; on the full image of a tag naming no
    release, a package the full image has itself leaves with nothing in its place, and
    stays in the image until DF203's move to -slim), removes an install left empty
    (with its ``apt-get update`` and list clean-up, and the RUN if nothing is left; its
    comments stay) and the stage's own removals of those packages.  The reason names
    the packages and says what may change: a requirement or dependency with no wheel
    for the Python and platform at build time is built from source, which then fails;
    anything that compiles or runs the build tools at run time breaks.

References
    practices.md rows 1, 3 and 17; the seed article's multi-stage examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from dockfix.images.python import is_full_python, python_builds
from dockfix.images.python_requirements import image_reader
from dockfix.images.runtime_libs import is_build_package, package_name
from dockfix.model import BuildContext, StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules._runtime_builds import tools_serve_more
from dockfix.rules._shell import CommandKey, RunShell, command_key, run_shell
from dockfix.rules.base import Applicability, Edit, Finding, Rule, RuleContext
from dockfix.rules.build_tools_in_final_image.base import Base, check_base
from dockfix.rules.build_tools_in_final_image.checks import (
    SYSTEM_MANAGERS,
    BuildInstall,
    Purge,
    Replay,
    Site,
    check_between_sites,
    check_other_runs,
    keep_git,
    split_site,
)
from dockfix.rules.build_tools_in_final_image.drop import nothing_compiles, plan_drop
from dockfix.rules.build_tools_in_final_image.fetches import repeated_fetch_caveat
from dockfix.rules.build_tools_in_final_image.isolation import installs_before_unisolated
from dockfix.rules.build_tools_in_final_image.managers import (
    ManagerPlan,
    check_between_syncs,
    managed_reason,
    plan_managers,
)
from dockfix.rules.build_tools_in_final_image.needs import (
    check_needs_compiling,
    check_no_later_copy,
    linked_libraries,
    project_origin,
    requirements_named,
    runtime_words,
    unread_on_full_base,
)
from dockfix.rules.build_tools_in_final_image.pipenv import pipenv_sites
from dockfix.rules.build_tools_in_final_image.pipenv_venv import plan_pipenv_venv
from dockfix.rules.build_tools_in_final_image.poetry import poetry_sites
from dockfix.rules.build_tools_in_final_image.programs import (
    keeps_git,
    required_programs,
    slim_programs,
)
from dockfix.rules.build_tools_in_final_image.project import (
    check_editable_source,
    check_setup_python,
    editable_change,
    get_pip_pythons,
    pip_pythons,
)
from dockfix.rules.build_tools_in_final_image.replay import check_replays, replay_caveat
from dockfix.rules.build_tools_in_final_image.slim import SlimMove, check_slimmable
from dockfix.rules.build_tools_in_final_image.split import Split
from dockfix.rules.build_tools_in_final_image.users import check_users
from dockfix.rules.refusal import FixRefused
from dockfix.shell import PackageCommand
from dockfix.syntax import Instruction, Stage

REASON = (
    "the final image no longer has compilers and headers: anything that compiles at run "
    "time (pip install at start-up, pyximport, extensions built on first import) breaks, "
    "and only the runtime libraries of the -dev packages named in the Dockerfile are "
    "installed"
)


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    document = context.document
    if not document.stages:
        return
    finding = _check_final_stage(rule, context, document.stages[-1])
    if finding is not None:
        yield finding


def _check_final_stage(rule: Rule, context: RuleContext, stage: Stage) -> Finding | None:
    """The shipped stage: does it keep build tools that only a Python install needs?"""
    installs = _build_installs(stage)
    resolved = context.model.facts_of(stage).image
    from_base = is_full_python(resolved or stage.image)
    # The cheaper test first (most final stages have no build tools); both end in None.
    if not installs and not from_base:
        return None  # no build tools in this image
    builds = list(python_builds(stage))
    if not builds:
        return None  # nothing Python is compiled: the build tools serve something else
    purged = _purged(stage)
    for install in installs:  # ``apk add --virtual .deps ...`` then ``apk del .deps``
        groups = install.package.option_values("--virtual", "-t")
        if any(group.value in purged for group in groups):
            purged |= {package_name(word.value) for word in install.build_words}
    names = _unique(package_name(w.value) for i in installs for w in i.build_words)
    if not from_base and set(names) <= purged:
        return None  # every build package is removed again: none stays in the image
    if names:
        listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        message = f"Build tools ({listed}) stay in the final image after building Python packages"
        at: Instruction = installs[0].shell.instruction
    else:
        message = (
            f"The compilers of the full `{stage.image.text}` image stay in the final image "
            "after building Python packages"
        )
        at = stage.from_instruction
    try:
        purges = _purges(stage, installs, set(names)) if purged & set(names) else []
        edits, reason = _plan(context, stage, installs, builds, from_base, purges)
    except FixRefused as refused:
        return rule.finding(message, at, note=refused.reason)
    return rule.finding(message, at, edits=edits, reason=reason)


def _unique(items: Iterator[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _system_packages(stage: Stage, action: str) -> Iterator[tuple[RunShell, PackageCommand]]:
    """The stage's system package-manager commands doing ``action``, in file order."""
    for instruction in stage.instructions:
        shell = run_shell(instruction)
        if isinstance(shell, RunShell):
            for package in shell.packages():
                if package.manager in SYSTEM_MANAGERS and package.action == action:
                    yield shell, package


def _build_installs(stage: Stage) -> list[BuildInstall]:
    """Installs of build packages by the system package manager, in order."""
    found = []
    for shell, package in _system_packages(stage, "install"):
        words = tuple(w for w in package.packages if is_build_package(w.value))
        if words:
            found.append(BuildInstall(shell, package, words))
    return found


def _first(stage: Stage, installs: list[BuildInstall]) -> BuildInstall | None:
    """The install of build packages that runs first."""
    position = stage.instructions.index
    return min(
        installs,
        key=lambda i: (position(i.shell.instruction), i.package.command.start),
        default=None,
    )


def _purged(stage: Stage) -> set[str]:
    """Packages the stage removes again (``apt-get purge``/``remove``, ``apk del``)."""
    names: set[str] = set()
    for _, package in _system_packages(stage, "remove"):
        names.update(package_name(word.value) for word in package.packages)
    return names


def _purges(stage: Stage, installs: list[BuildInstall], names: set[str]) -> list[Purge]:
    """The stage removes some build packages again (others stay): in the final stage,
    which never installs them, those words leave the removal commands, and so does a
    virtual group (``apk del .deps``) whose every package was a build package (its
    ``apk add --virtual`` leaves the final stage).  A variable cannot be split so."""
    groups: dict[str, bool] = {}  # group -> whether its install leaves the final stage
    for install in installs:
        for group in install.package.option_values("--virtual", "-t"):
            gone = len(install.build_words) == len(install.package.packages)
            groups[group.value] = groups.get(group.value, True) and gone
    found = []
    for shell, package in _system_packages(stage, "remove"):
        if any(not w.is_literal for w in package.packages):
            raise FixRefused(
                f"the stage removes packages on line {shell.instruction.line} by a "
                "variable; split it by hand"
            )
        words = tuple(
            w
            for w in package.packages
            if package_name(w.value) in names or groups.get(w.value, False)
        )
        if words:
            found.append(Purge(shell, package, words))
    return found


def _project_dirs(sites: list[Site]) -> list[Site]:
    """Each install that builds projects gets its own directory of project wheels
    (``/wheels/project``, ``/wheels/project-2`` ...), which its final install names."""
    result, count = [], 0
    for site in sites:
        if site.projects or site.setup is not None:
            count += 1
            if count > 1:
                site = replace(site, project_dir=f"{site.project_dir}-{count}")
        result.append(site)
    return result


def _plan(
    context: RuleContext,
    stage: Stage,
    installs: list[BuildInstall],
    builds: list[tuple[Instruction, PackageCommand | None]],
    from_base: bool,
    purges: list[Purge],
) -> tuple[list[Edit], str]:
    document = context.document
    facts = context.model.facts_of(stage)
    serves = tools_serve_more(facts, context.path)
    if serves is not None:
        raise FixRefused(serves.why + _TOOLS_SERVE_TAIL[serves.kind])
    build_context = context.model.context
    strategy = context.settings.split_strategy
    managed = plan_pipenv_venv(facts, builds, build_context) or plan_managers(
        facts, builds, build_context
    )
    if managed is not None:
        return _plan_managed(context, stage, installs, from_base, purges, managed)
    base = check_base(document, facts, strategy)
    builds, pipenv = pipenv_sites(facts, builds, strategy, build_context)
    builds, poetry = poetry_sites(facts, builds, strategy, build_context)
    locked = [*pipenv, *poetry]
    sites = _distinct(
        [
            split_site(
                instruction, package, strategy, image_reader(facts, instruction, build_context)
            )
            for instruction, package in builds
        ]
    )
    sites = sorted([*sites, *locked], key=lambda site: _position(stage, site))
    requirements = requirements_named(facts, sites, build_context)
    if not locked and nothing_compiles(requirements, sites):
        installs, _ = _moved_installs(facts, installs, sites, from_base)
        return plan_drop(document, facts, installs, purges, sites, requirements, from_base)
    pythons = pip_pythons([site.package for site in sites])
    for site in sites:
        if site.setup is not None:
            line = site.shell.instruction.line
            wheel = base.builder_packages
            installed = pythons | _get_pip_pythons(stage, site)
            check_setup_python(site.setup, line, base.python_image, wheel, installed)
    sites = _project_dirs(sites)
    switch = check_users(facts, sites, installs, strategy, root_base=base.root)
    replays: list[Replay] = []
    programs = required_programs(requirements, base.family, base.release)
    installs, moved = _moved_installs(
        facts, installs, sites, from_base, replays, git=keeps_git(programs)
    )
    check_replays(facts, replays, base.family, installs, root_base=base.root)
    builder_installs = check_between_sites(stage, sites, strategy)
    builder_installs |= installs_before_unisolated(facts, sites, strategy)
    runtime, unknown, slim, tools = _runtime_and_slim(
        facts, installs, sites, moved, base, from_base, build_context
    )
    linked, caveats = linked_libraries(base.release, requirements, runtime, from_base, base.family)
    if from_base:
        caveats += unread_on_full_base(facts, sites, build_context)
    run, ran = slim_programs(facts, programs, slim, tools)
    tools = (*tools, *run)
    caveats += ran
    linked = (*tools, *(name for name in linked if name not in tools))
    split = Split(document, stage, installs, sites, runtime, strategy, linked, base, slim)
    split.purges = purges
    split.user_switch = switch
    split.builder_installs = builder_installs
    split.replays = [replay.instruction for replay in replays]
    extended = split.extended()
    caveats += [replay_caveat(replay.instruction, installed=extended) for replay in replays]
    fetched = repeated_fetch_caveat(stage.instructions[: split.last_site() + 1])
    caveats += [fetched] if fetched else []
    setups = [site for site in sites if site.setup is not None]
    if setups and strategy == "wheels":
        action = "develop" if setups[0].develop else "install"
        caveats.append(
            f"`setup.py {action}` on line {setups[0].shell.instruction.line} becomes a pip "
            "build of the project's wheel: build isolation (setup.py does not see the "
            "packages installed before it) and dependencies resolved by pip, not easy_install"
        )
    caveats += _editable_changes(facts, sites, build_context)
    caveats += [text for site in sites if site.locked for text in site.locked.caveats]
    caveats += [
        f"`setup.py {command.words[2].value}` on line {site.shell.instruction.line} is not "
        "run in the final stage: the folder it builds into (`build/`) is not there"
        for site in sites
        for command in site.dropped
    ]
    moving = slim.caveats if slim is not None else ()
    return split.edits(), "; ".join([REASON, *moving, *base.caveats, *unknown, *caveats])


def _plan_managed(
    context: RuleContext,
    stage: Stage,
    installs: list[BuildInstall],
    from_base: bool,
    purges: list[Purge],
    plan: ManagerPlan,
) -> tuple[list[Edit], str]:
    """The ``uv sync`` split (see ``managers.py``): the ``venv`` shape, whatever the
    configured strategy, with the project's own environment."""
    document = context.document
    facts = context.model.facts_of(stage)
    build_context = context.model.context
    base = check_base(document, facts, "venv")
    sites = plan.sites
    check_users(facts, sites, installs, "venv", root_base=base.root)
    programs = required_programs(plan.requirements, base.family, base.release)
    installs, moved = _moved_installs(facts, installs, sites, from_base, git=keeps_git(programs))
    check_between_syncs(stage, sites)
    runtime, unknown, slim, tools = _runtime_and_slim(
        facts, installs, sites, moved, base, from_base, build_context
    )
    check_needs_compiling(plan.requirements)
    if from_base and plan.requirements.unread:
        raise FixRefused(
            "uv.lock could not be read: a package uv resolves may load a library or run a "
            "program of the full image that -slim lacks"
        )
    linked, caveats = linked_libraries(
        base.release, plan.requirements, runtime, from_base, base.family
    )
    run, ran = slim_programs(facts, programs, slim, tools)
    tools = (*tools, *run)
    caveats += ran
    linked = (*tools, *(name for name in linked if name not in tools))
    split = Split(document, stage, installs, sites, runtime, "venv", linked, base, slim)
    split.purges = purges
    split.venv = plan.venv
    split.make_venv = False
    moving = slim.caveats if slim is not None else ()
    reasons = [REASON, managed_reason(plan), *moving, *base.caveats, *unknown, *caveats]
    reasons += plan.caveats
    return split.edits(), "; ".join(reasons)


#: What the split would break, after ``tools_serve_more``'s reason.
_TOOLS_SERVE_TAIL = {
    "dev-container": "",
    "runtime": ": the build tools serve it",
    "onbuild": ": on a final stage without the build tools, their builds may fail",
}


def _moved_installs(
    facts: StageFacts,
    installs: list[BuildInstall],
    sites: list[Site],
    from_base: bool,
    replays: list[Replay] | None = None,
    *,
    git: bool = False,
) -> tuple[list[BuildInstall], set[CommandKey]]:
    """The build installs the split moves (``git`` stays where the stage uses it) and
    every command that leaves the final stage (``command_key``); refuses when another
    RUN needs the build tools, except that, given a list ``replays``, a Node package
    manager's RUN that can be replayed is added to it (see ``checks.Replay``).  Shared
    by the pip and the ``uv sync`` plans."""
    stage = facts.stage
    moved = _moved_commands(installs, sites)
    installs, git_kept = keep_git(stage, installs, moved, required=git)
    if not installs and not from_base:
        raise FixRefused("git is the only build package, and the stage uses it")
    moved = _moved_commands(installs, sites)
    # Before the first install of build packages, a base known to have no compilers
    # has none: commands there cannot need them.
    bare = facts.traits is not None and not facts.traits.toolchain and not from_base
    first = _first(stage, installs) if bare else None
    last = max(sites, key=lambda site: _position(stage, site)).shell.instruction
    found = check_other_runs(stage, moved, git_kept, first, last if replays is not None else None)
    if replays is not None:
        replays += found
    return installs, moved


def _moved_commands(installs: list[BuildInstall], sites: list[Site]) -> set[CommandKey]:
    """The commands that leave the final stage, each where it runs (``command_key``)."""
    return {command_key(i.shell.instruction, i.package.command) for i in installs} | {
        command_key(s.shell.instruction, s.command) for s in sites
    }


def _runtime_and_slim(
    facts: StageFacts,
    installs: list[BuildInstall],
    sites: list[Site],
    moved: set[CommandKey],
    base: Base,
    from_base: bool,
    build_context: BuildContext,
) -> tuple[dict[int, tuple[str, ...]], list[str], SlimMove | None, tuple[str, ...]]:
    """The runtime libraries the removed build packages brought (and what is not known
    of them), and, on the full image, the move to ``-slim`` with the tools it installs."""
    runtime, unknown = runtime_words(
        installs, base.release, base.python_image, base.alpine, base.rhel
    )
    if not from_base:
        return runtime, unknown, None, ()
    at = sites[0].shell.instruction
    slim, tools = check_slimmable(facts, frozenset(moved), build_context, at)
    return runtime, unknown, slim, tools


def _position(stage: Stage, site: Site) -> tuple[int, int]:
    return stage.instructions.index(site.shell.instruction), site.command.start


def _distinct(sites: list[Site]) -> list[Site]:
    """One site per install: ``setup.py build && setup.py install`` is seen twice (once
    per ``setup.py`` command), as the same install.  Keyed by the RUN too
    (``command_key``): two RUNs of the same text are two installs."""
    seen: set[CommandKey] = set()
    found = []
    for site in sites:
        key = command_key(site.shell.instruction, site.command)
        if key not in seen:
            seen.add(key)
            found.append(site)
    return found


def _get_pip_pythons(stage: Stage, site: Site) -> set[str]:
    """The Pythons the stage gave pip with ``get-pip.py`` before ``site``."""
    index = stage.instructions.index(site.shell.instruction)
    earlier = [run_shell(i) for i in stage.instructions[:index]]
    shells = [shell for shell in earlier if isinstance(shell, RunShell)]
    return get_pip_pythons(site.shell, site.command, shells)


def _editable_changes(facts: StageFacts, sites: list[Site], context: BuildContext) -> list[str]:
    """Editable installs (``pip install -e``, ``setup.py develop``) become installs of the
    project's wheel (see ``project.py``): each must be of a folder the stage copies in,
    and the reason says what changes."""
    changes = []
    for site in sites:
        instruction = site.shell.instruction
        paths = [
            (word.value.split("[", 1)[0], f"`pip install -e {word.text}`")  # no extras
            for word in site.editables
        ]
        paths += [(".", "`setup.py develop`")] if site.develop else []
        for path, what in paths:
            check_editable_source(
                instruction.line, project_origin(facts, site, path, context) is not None
            )
            check_no_later_copy(facts, site, path, context)
            changes.append(editable_change(instruction.line, what))
    return changes


RULE = Rule(
    code="DF202",
    name="build-tools-in-final-image",
    summary="Build Python packages in a builder stage; ship only the wheels or the virtualenv",
    applicability=Applicability.UNSAFE,
    check=check,
    explanation=__doc__ or "",
    preconditions=(
        Precondition.LINUX,
        Precondition.POSIX_SHELL,
    ),
)
