"""Recognise package-manager commands (pip, apt-get, apk, npm, go ...) in a ``SimpleCommand``.

Rules such as "add ``--no-install-recommends``", "use ``--no-cache-dir``" or
"sort the package list" need to know which words are options, which are
option *values* (``-r requirements.txt`` is not a package) and which are the
packages, each with its offsets.  Option parsing is table-driven per manager:
only options that take a separate value need listing, anything else starting
with ``-`` is a flag (``--opt=value`` is always understood).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import field
from enum import Enum

from dockfix import lazy_re
from dockfix.cached import Backlink
from dockfix.lazy_dataclass import dataclass
from dockfix.shell.model import SimpleCommand, Word, command_words


class Manager(str, Enum):
    """The tool family; ``micromamba`` counts as mamba, ``pip3.11``/``python -m pip`` as pip."""

    PIP = "pip"
    UV = "uv"
    POETRY = "poetry"
    PIPENV = "pipenv"
    CONDA = "conda"
    MAMBA = "mamba"
    APT_GET = "apt-get"
    APT = "apt"
    APK = "apk"
    YUM = "yum"
    DNF = "dnf"
    MICRODNF = "microdnf"
    NPM = "npm"
    YARN = "yarn"
    PNPM = "pnpm"
    GO = "go"


@dataclass(frozen=True)
class Option:
    """One option word: ``flag`` as spelled (before any ``=``), the ``names`` it sets
    (a short cluster ``-qy`` sets ``-q`` and ``-y``) and its ``value`` if it takes one.

    ``value`` is the following word (``-r req.txt``), or the part of this word
    after ``=`` / after an attached short option (``--target=/x``, ``-rreq.txt``)
    with its own offsets.
    """

    word: Word
    flag: str
    names: tuple[str, ...]
    value: Word | None = None

    @property
    def words(self) -> tuple[Word, ...]:
        """The source words this option occupies (one, or two for a separate value)."""
        if self.value is not None and self.value.start >= self.word.end:
            return (self.word, self.value)
        return (self.word,)


@dataclass(frozen=True)
class PackageCommand:
    """A classified package-manager invocation; all words keep their source offsets.

    ``program_words`` are the words naming the tool (``python3 -m pip``,
    ``uv pip``, ``go mod``, ``yarn global``), ``subcommand_word`` the action
    word (insert an option right after ``subcommand_word.end``), ``action`` its
    normalised name, ``packages`` the positional operands after it (as written:
    check ``Word.is_literal`` before trusting ``$PKGS`` or ``"$(cat list)"``).
    ``requirement_files`` are the values of pip/uv/pipenv ``-r``/``-c``
    (``--requirement``, ``--constraint`` ...), conda/mamba ``-f``/``--file``,
    and the operands of ``uv pip sync/compile``.
    """

    manager: Manager
    action: str
    #: The command classified; it keeps this (``classify``), so this points back weakly
    #: (``Backlink``): the two make no reference cycle.
    link: Backlink[SimpleCommand]
    program_words: tuple[Word, ...]
    subcommand_word: Word | None
    parsed_options: tuple[Option, ...]
    packages: tuple[Word, ...]
    requirement_files: tuple[str, ...] = field(default=())

    @property
    def options(self) -> tuple[Word, ...]:
        """Option words in source order, each followed by its separate value word if any."""
        return tuple(word for option in self.parsed_options for word in option.words)

    @property
    def command(self) -> SimpleCommand:
        return self.link()

    def has_option(self, *names: str) -> bool:
        """True if any option sets one of ``names`` (``"-y"`` matches ``-qy``) or is spelled so."""
        wanted = set(names)
        return any(o.flag in wanted or wanted.intersection(o.names) for o in self.parsed_options)

    def option_values(self, *names: str) -> tuple[Word, ...]:
        """Values of every option among ``names``, in source order (repeatable options)."""
        wanted = set(names)
        return tuple(
            o.value
            for o in self.parsed_options
            if o.value is not None and (o.flag in wanted or wanted.intersection(o.names))
        )


@dataclass(frozen=True)
class _Spec:
    """How one manager's command line is laid out."""

    value_options: frozenset[str]
    actions: Mapping[str, str] = field(default_factory=dict)
    nested: Mapping[str, str] = field(default_factory=dict)  # group word -> action prefix
    cluster: bool = True  # getopt-style short option clusters (-qy)
    default_action: str | None = None
    requirement_options: frozenset[str] = frozenset()
    # Options that take a value only after some actions (conda ``-f`` is --file for
    # install/create but --force-pkgs-dirs for clean).
    action_value_options: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _opts(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PIP_REQUIREMENT_OPTIONS = _opts("-r --requirement --requirements -c --constraint --constraints")

_PIP = _Spec(
    value_options=_opts(
        """-r --requirement -c --constraint -e --editable -t --target --prefix --root
        -i --index-url --extra-index-url -f --find-links --src --upgrade-strategy
        --platform --python-version --implementation --abi --only-binary --no-binary
        --progress-bar --trusted-host --cache-dir --log --log-file --proxy --retries
        --timeout --exists-action --cert --client-cert --global-option --install-option
        -C --config-settings --root-user-action --report --python --keyring-provider
        -d --dest -w --wheel-dir --use-feature --use-deprecated --build-option
        --hash --format"""
    ),
    actions={"uninstall": "remove"},
    requirement_options=_PIP_REQUIREMENT_OPTIONS,
)

_UV = _Spec(
    value_options=_opts(
        """-r --requirement --requirements -c --constraint --constraints --override
        --overrides --build-constraint --build-constraints -i --index-url
        --extra-index-url --index --default-index -f --find-links -p --python --target
        --prefix --extra --group --only-group --no-group --package --cache-dir
        --directory --project -C --config-setting --index-strategy --keyring-provider
        --resolution --prerelease --exclude-newer --link-mode -o --output-file
        --python-platform --python-version --no-binary --only-binary --reinstall-package
        -P --upgrade-package --refresh-package --config-file --color --allow-insecure-host
        --no-install-package --env-file --with --with-requirements -w --from --optional
        --rev --tag --branch --bounds -m --marker --script --dev-group --no-build-package
        --no-binary-package --index-url-file"""
    ),
    actions={"uninstall": "remove"},
    nested={"pip": "", "tool": "tool-", "python": "python-"},
    requirement_options=_PIP_REQUIREMENT_OPTIONS,
)

_POETRY = _Spec(
    value_options=_opts(
        """--with --without --only -E --extras -C --directory -P --project -G --group
        -f --format -o --output --source --python"""
    ),
    nested={"self": "self-"},
    cluster=False,
)

_PIPENV = _Spec(
    value_options=_opts(
        "-r --requirements --python --pypi-mirror --categories --extra-pip-args --index"
    ),
    actions={"uninstall": "remove"},
    requirement_options=_opts("-r --requirements"),
)

_CONDA = _Spec(
    value_options=_opts(
        """-n --name -p --prefix -c --channel --file --repodata-fn
        --solver --subdir --platform -r --root-prefix --log-level --rc-file
        --chdir --cwd"""
    ),
    actions={"upgrade": "update", "uninstall": "remove"},
    nested={"env": "env-"},
    requirement_options=_opts("-f --file"),
    action_value_options={
        action: frozenset({"-f"})
        for action in ("install", "create", "update", "env-create", "env-update")
    },
)

_APT = _Spec(
    value_options=_opts(
        """-o --option -c --config-file -t --target-release --default-release
        -a --host-architecture --error-on"""
    ),
    actions={
        "dist-upgrade": "upgrade",
        "full-upgrade": "upgrade",
        "purge": "remove",
        "autoclean": "clean",
    },
)

_APK = _Spec(
    value_options=_opts(
        """-t --virtual -X --repository -p --root --keys-dir --arch --cache-dir
        --repositories-file --cache-max-age --timeout --wait"""
    ),
    actions={"add": "install", "del": "remove"},
)

_RPM = _Spec(
    value_options=_opts(
        """--setopt --enablerepo --disablerepo -c --config --installroot --releasever
        -x --exclude --repo --repoid --forcearch --disableplugin --enableplugin
        --downloaddir --destdir -d --debuglevel -e --errorlevel --rpmverbosity --color
        --repofrompath --exclude-from --comment --advisory
        --advisories --bz --bzs --cve --cves --sec-severity --secseverity
        --platform-id"""
    ),
    actions={"erase": "remove", "localinstall": "install"},
)

_NPM_INSTALL = "install i in ins inst insta instal isnt isnta isntal isntall add"
_NPM = _Spec(
    value_options=_opts(
        """--prefix --registry --cache --omit --include --tag -w --workspace --loglevel
        --userconfig --globalconfig --only --install-strategy --before --script-shell
        --target_arch --target_platform --location --otp --scope --auth-type"""
    ),
    actions={
        **{alias: "install" for alias in _NPM_INSTALL.split()},
        **{
            alias: "ci" for alias in ["ci", "clean-install", "ic", "install-clean", "isntall-clean"]
        },
        **{alias: "remove" for alias in ["uninstall", "unlink", "remove", "rm", "r", "un"]},
        **{alias: "update" for alias in ["update", "up", "upgrade", "udpate"]},
        "run-script": "run",
    },
    cluster=False,
)

_YARN = _Spec(
    value_options=_opts(
        """--cwd --modules-folder --cache-folder --mutex --network-timeout --registry
        --global-folder --link-folder --prefix --use-yarnrc --preferred-cache-folder
        --network-concurrency --https-proxy --proxy"""
    ),
    nested={"global": ""},
    cluster=False,
    default_action="install",
)

_PNPM = _Spec(
    value_options=_opts(
        """-F --filter -C --dir --store-dir --reporter --virtual-store-dir --modules-dir
        --registry --config --loglevel --workspace-concurrency --network-concurrency
        --child-concurrency --node-linker --package-import-method"""
    ),
    actions={
        "i": "install",
        "add": "add",
        "rm": "remove",
        "uninstall": "remove",
        "un": "remove",
        "up": "update",
        "upgrade": "update",
    },
    cluster=False,
)

_GO = _Spec(
    value_options=_opts(
        """-o -ldflags -gcflags -asmflags -gccgoflags -tags -mod -modfile -p -C -buildmode
        -compiler -installsuffix -pkgdir -toolexec -overlay -pgo -exec -run -bench
        -timeout -coverprofile -covermode -coverpkg -count -parallel -cpu"""
    ),
    nested={"mod": "mod-"},
    cluster=False,
)

_SPECS: dict[Manager, _Spec] = {
    Manager.PIP: _PIP,
    Manager.UV: _UV,
    Manager.POETRY: _POETRY,
    Manager.PIPENV: _PIPENV,
    Manager.CONDA: _CONDA,
    Manager.MAMBA: _CONDA,
    Manager.APT_GET: _APT,
    Manager.APT: _APT,
    Manager.APK: _APK,
    Manager.YUM: _RPM,
    Manager.DNF: _RPM,
    Manager.MICRODNF: _RPM,
    Manager.NPM: _NPM,
    Manager.YARN: _YARN,
    Manager.PNPM: _PNPM,
    Manager.GO: _GO,
}

_BY_NAME: dict[str, Manager] = {
    "uv": Manager.UV,
    "poetry": Manager.POETRY,
    "pipenv": Manager.PIPENV,
    "conda": Manager.CONDA,
    "mamba": Manager.MAMBA,
    "micromamba": Manager.MAMBA,
    "apt-get": Manager.APT_GET,
    "apt": Manager.APT,
    "apk": Manager.APK,
    "yum": Manager.YUM,
    "dnf": Manager.DNF,
    "microdnf": Manager.MICRODNF,
    "npm": Manager.NPM,
    "yarn": Manager.YARN,
    "pnpm": Manager.PNPM,
    "go": Manager.GO,
}

# Modules that ``python -m NAME`` runs as the manager itself.
_PYTHON_MODULES: dict[str, Manager] = {
    "pip": Manager.PIP,
    "uv": Manager.UV,
    "pipenv": Manager.PIPENV,
    "poetry": Manager.POETRY,
}

_PIP_NAME = lazy_re.compile(r"pip(\d+(\.\d+)*)?")
_PYTHON_NAME = lazy_re.compile(r"python(\d+(\.\d+)*)?")
_PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "--check-hash-based-pycs"})


def classify(cmd: SimpleCommand) -> PackageCommand | None:
    """Describe ``cmd`` if it runs a known package manager, else None.

    Wrappers (``sudo``, ``env``, ...) and ``VAR=x`` prefixes are looked
    through.  None is also returned when the manager is given no action at
    all (``pip --version``), except for bare ``yarn``, which installs.
    """
    cache = cmd.__dict__  # commands are immutable and shared: classify each once
    try:
        return cache["_classified"]  # type: ignore[no-any-return]
    except KeyError:
        pass
    found = cache["_classified"] = _classify(cmd)
    return found


def _classify(cmd: SimpleCommand) -> PackageCommand | None:
    words = command_words(cmd)
    found = _identify(words)
    if found is None:
        return None
    manager, program_length = found
    return _Parser(manager, _SPECS[manager], cmd, words, program_length).parse()


def _identify(words: tuple[Word, ...]) -> tuple[Manager, int] | None:
    """The manager and how many leading words name it, e.g. 3 for ``python -m pip``."""
    if not words:
        return None
    name = posixpath.basename(words[0].value)
    if _PIP_NAME.fullmatch(name):
        return Manager.PIP, 1
    if name in _BY_NAME:
        return _BY_NAME[name], 1
    if not _PYTHON_NAME.fullmatch(name):
        return None
    i = 1
    while i < len(words):
        arg = words[i].value
        if arg == "-m" and i + 1 < len(words):
            manager = _PYTHON_MODULES.get(words[i + 1].value)
            return (manager, i + 2) if manager else None
        if arg.startswith("-m") and len(arg) > 2:
            manager = _PYTHON_MODULES.get(arg[2:])
            return (manager, i + 1) if manager else None
        if not arg.startswith("-") or arg in ("-", "-c"):
            return None  # a script or ``-c CODE``: not a module run
        i += 2 if arg in _PYTHON_VALUE_OPTIONS else 1
    return None


def _is_option(word: Word) -> bool:
    value = word.value
    return len(value) > 1 and value.startswith("-")


def _plain(text: str) -> bool:
    """True when ``text`` has no quoting, so value offsets equal raw offsets."""
    return not any(c in text for c in "'\"\\$`")


class _Parser:
    """Walks the words of one command with one manager's ``_Spec``."""

    def __init__(
        self,
        manager: Manager,
        spec: _Spec,
        cmd: SimpleCommand,
        words: tuple[Word, ...],
        program_length: int,
    ) -> None:
        self.manager = manager
        self.spec = spec
        self.cmd = cmd
        self.words = words
        self.program: list[Word] = list(words[:program_length])
        self.i = program_length
        self.options: list[Option] = []
        self.packages: list[Word] = []
        self.value_options = spec.value_options

    def parse(self) -> PackageCommand | None:
        self.skip_options()
        subcommand = self.next_word()
        prefix = ""
        if subcommand is not None and subcommand.value in self.spec.nested:
            self.skip_options()
            inner = self.next_word()
            if inner is not None:
                prefix = self.spec.nested[subcommand.value]
                self.program.append(subcommand)
                subcommand = inner
        if subcommand is None:
            if self.spec.default_action is None:
                return None
            action = self.spec.default_action
        else:
            raw = subcommand.value
            action = prefix + self.spec.actions.get(raw, raw)
        extra = self.spec.action_value_options.get(action)
        if extra:
            self.value_options = self.value_options | extra
        self.rest()
        return PackageCommand(
            manager=self.manager,
            action=action,
            link=Backlink(self.cmd),
            program_words=tuple(self.program),
            subcommand_word=subcommand,
            parsed_options=tuple(self.options),
            packages=tuple(self.packages),
            requirement_files=self.requirement_files(action),
        )

    def next_word(self) -> Word | None:
        if self.i < len(self.words) and self.words[self.i].value != "--":
            self.i += 1
            return self.words[self.i - 1]
        return None

    def skip_options(self) -> None:
        while self.i < len(self.words) and _is_option(self.words[self.i]):
            if self.words[self.i].value == "--":
                return
            self.take_option()

    def rest(self) -> None:
        words = self.words
        while self.i < len(words):
            word = words[self.i]
            if word.value == "--":
                self.options.append(Option(word, "--", ("--",)))
                self.packages.extend(words[self.i + 1 :])
                return
            if _is_option(word):
                self.take_option()
            else:
                self.packages.append(word)
                self.i += 1

    def separate_value(self) -> Word | None:
        """Consume and return the word after the current option, if there is one."""
        if self.i + 1 < len(self.words):
            self.i += 1
            return self.words[self.i]
        return None

    def take_option(self) -> None:
        word = self.words[self.i]
        text = word.value
        flag, eq, _ = text.partition("=")
        if text.startswith("--") or not self.spec.cluster or len(flag) == 2:
            value: Word | None = None
            if eq:
                value = self.attached(word, word.text.find("=") + 1)
            elif flag in self.value_options:
                value = self.separate_value()
            self.options.append(Option(word, flag, (flag,), value))
        else:
            self.options.append(self.cluster(word, text))
        self.i += 1

    def cluster(self, word: Word, text: str) -> Option:
        """``-qy``, ``-rreq.txt``, ``-o=Foo``: getopt-style short options in one word."""
        names: list[str] = []
        value: Word | None = None
        for k, char in enumerate(text[1:], start=1):
            if char == "=":
                value = self.attached(word, k + 1)
                break
            name = "-" + char
            names.append(name)
            if name in self.value_options:
                rest = text[k + 1 :]
                if rest:
                    skip = 1 if rest.startswith("=") else 0
                    value = self.attached(word, k + 1 + skip)
                else:
                    value = self.separate_value()
                break
        return Option(word, text.partition("=")[0], tuple(names), value)

    @staticmethod
    def attached(word: Word, offset: int) -> Word | None:
        """The tail of ``word`` from ``offset``, when raw and value offsets agree."""
        if offset <= 0 or not _plain(word.text[:offset]):
            return None
        return word.sub_word(offset)

    def requirement_files(self, action: str) -> tuple[str, ...]:
        names = self.spec.requirement_options
        files = [
            o.value.value
            for o in self.options
            if o.value is not None and (o.flag in names or names.intersection(o.names))
        ]
        if self.manager is Manager.UV and action in ("sync", "compile") and self.in_uv_pip():
            files.extend(word.value for word in self.packages)
        return tuple(files)

    def in_uv_pip(self) -> bool:
        return any(word.value == "pip" for word in self.program[1:])
