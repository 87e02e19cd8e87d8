"""DF301 secrets-in-arg-env: a secret passed through ``ARG`` or ``ENV``.

What it does
    Reports ``ARG`` and ``ENV`` variables that look like secrets, by name and by value:

    * names with a component (between ``_``, any case) ``token``, ``secret``,
      ``password``, ``passwd``, ``pword``, ``key``, ``apikey``, ``credential`` or
      ``credentials``, or ending in ``auth``, as BuildKit's ``SecretsUsedInArgOrEnv``
      matches them (``API_KEY``, ``AWS_SECRET_ACCESS_KEY``, ``GITHUB_TOKEN``,
      ``DB_PASSWORD``, ``BASIC_AUTH``), unless the value is empty, a boolean or a
      number (``LDAP_AUTH_ENABLE=false``: a setting about a secret, not one);
    * values (an ``ENV`` value, an ``ARG`` default) that are a private key
      (``-----BEGIN ... PRIVATE KEY-----``), an AWS access key id (``AKIA...``), a
      GitHub (``ghp_...``, ``github_pat_...``), GitLab (``glpat-...``), Slack
      (``xox.-...``), Stripe (``sk_live_...``), Google (``AIza...``) or npm (``npm_...``)
      token, whatever the variable's name.

    Not reported by name: names that hold where a secret is, not the secret
    (last component ``FILE``, ``PATH``, ``DIR``, ``URL``, ``URI``, ``HOST``, ``PORT``...),
    a ``PUBLIC`` component (``SSH_PUBLIC_KEY``), ``GPG_KEY``/``GPG_KEYS``/``*_GPG_KEY``
    (the official images' ``GPG_KEY`` is the fingerprint of the public release signing
    key), and key *ids* (``*_KEY_ID``, ``KMS_KEY_ID``): an id names a key, it does not
    unlock anything.  ``AWS_ACCESS_KEY_ID`` is the exception: it is half of a credential
    pair and Docker's documentation reports it.

Why is this bad?
    ``ENV`` values are stored in the image's configuration, and ``ARG`` values used by a
    ``RUN`` are recorded in the image's history (``docker history``, provenance
    attestations): anyone who can pull the image can read them.  BuildKit's secret
    mounts give a ``RUN`` the secret for its duration only.

Example
    ``ARG NPM_TOKEN`` read by ``RUN npm ci``: the fix removes the ``ARG`` and writes
    ``RUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN npm ci``; build with
    ``docker build --secret id=NPM_TOKEN,env=NPM_TOKEN .``.

Fix safety
    Unsafe, and only for an ``ARG`` of a stage, without a default value, declared once,
    read by nothing but ``RUN`` instructions of its stage (no ``$NAME`` in a ``FROM``,
    ``ENV``, ``LABEL``, ``COPY``, ``ONBUILD``... nor in a ``RUN`` flag), with no global
    ``ARG`` of the same name: the ``ARG`` goes and every ``RUN`` after it in the stage
    gets ``--mount=type=secret,id=NAME,env=NAME`` (each of them saw the variable, and a
    tool may read it from the environment without naming it).  The build command must
    change (``--secret`` instead of ``--build-arg``): the fix's reason gives it.
    ``env=`` needs the Dockerfile frontend 1.10: a file pinned to an older one
    (``# syntax=docker/dockerfile:1.4``) or to an unknown frontend is only reported;
    a file without a directive gets ``# syntax=docker/dockerfile:1`` unless the
    configuration says ``syntax-directive = false``.  ``ENV`` secrets, ``ARG`` defaults
    (the secret is in the Dockerfile itself: remove it and rotate it) and global
    ``ARG`` s are only reported.

References
    practices.md row 13; BuildKit check ``SecretsUsedInArgOrEnv``; Docker's "Build
    secrets" (``RUN --mount=type=secret,env=``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix import lazy_re
from dockfix.edits import FixAvailability, FixBuilder
from dockfix.lazy_dataclass import dataclass
from dockfix.model import FileModel, StageFacts
from dockfix.model.preconditions import Precondition
from dockfix.rules.base import Applicability, Finding, Rule, RuleContext, Settings
from dockfix.syntax import Dockerfile, Instruction, Piece

#: BuildKit's name components (``SecretsUsedInArgOrEnv``).
_SECRET_PART = frozenset(
    {"apikey", "auth", "credential", "credentials", "key", "password", "pword", "passwd"}
    | {"secret", "token"}
)
#: A last component that says the variable holds where or what, not the secret itself.
_NOT_SECRET_LAST = frozenset(
    {"file", "files", "path", "dir", "url", "uri", "host", "hostname", "port", "name"}
    | {"user", "username", "type", "mode", "method", "enabled", "id", "ids", "length"}
    | {"size", "ttl", "timeout", "expiry", "header", "endpoint", "server", "fingerprint"}
)
#: Names that are public on purpose (the official images' release signing keys).
_PUBLIC_NAMES = lazy_re.compile(r"(?:.*_)?GPG_KEYS?", re.IGNORECASE)
_ALWAYS_SECRET = frozenset({"AWS_ACCESS_KEY_ID"})

#: Values that are secrets whatever the variable is called.
_SECRET_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}")),
)

#: Dockerfile frontend that added ``env=`` to secret mounts.
SECRET_ENV_FRONTEND = "docker/dockerfile:1.10"


def secret_name(name: str) -> bool:
    """Whether a variable name says it holds a secret (see the rule's doc)."""
    if name.upper() in _ALWAYS_SECRET:
        return True
    if _PUBLIC_NAMES.fullmatch(name):
        return False
    parts = [part for part in name.lower().split("_") if part]
    if not parts or "public" in parts or "pub" in parts:
        return False
    if parts[-1] in _NOT_SECRET_LAST:
        return False
    if parts[-1] == "auth":
        return True
    return any(part in _SECRET_PART - {"auth"} for part in parts)


#: Values that are settings, not secrets (``LDAP_AUTH_ENABLE=false``, ``HLS_KEY=off``).
_SETTING_VALUE = lazy_re.compile(r"(?i)|true|false|yes|no|on|off|none|null|[0-9]+")


def secret_value(value: str) -> str:
    """What secret ``value`` is (``"a private key"``), or ``""``."""
    for what, pattern in _SECRET_VALUES:
        if pattern.search(value):
            return what
    return ""


@dataclass(frozen=True)
class Variable:
    """One variable an ARG or ENV declares: its name, value (None: no default) and piece."""

    name: str
    value: str | None
    piece: Piece


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def variables(instruction: Instruction) -> list[Variable]:
    """The variables of an ``ARG`` or ``ENV``, in order."""
    found: list[Variable] = []
    if instruction.cmd == "ARG":
        for piece in instruction.pieces_of("word"):
            name, equals, value = piece.text.partition("=")
            found.append(Variable(name, _unquote(value) if equals else None, piece))
        return found
    pieces = instruction.pieces_of("pair", "legacy_key", "legacy_value")
    for index, piece in enumerate(pieces):
        if piece.kind == "pair":
            name, _, value = piece.text.partition("=")
            found.append(Variable(name, _unquote(value), piece))
        elif piece.kind == "legacy_key":
            following = pieces[index + 1] if index + 1 < len(pieces) else None
            value = following.text if following and following.kind == "legacy_value" else ""
            found.append(Variable(piece.text, value, piece))
    return found


def reads(instruction: Instruction, name: str) -> bool:
    """Whether the instruction's text names ``$NAME`` or ``${NAME...}``."""
    pattern = rf"\$(?:{re.escape(name)}(?![A-Za-z0-9_])|\{{{re.escape(name)}(?![A-Za-z0-9_]))"
    return re.search(pattern, instruction.text) is not None


def build_command(name: str) -> str:
    return f"docker build --secret id={name},env={name} ."


def _syntax_refusal(model: FileModel, settings: Settings) -> str:
    """Why ``env=`` cannot be used here (``""``: it can, perhaps with a new directive)."""
    syntax = model.syntax
    supported = syntax.secret_env
    if supported:
        return ""
    if supported is False:
        return (
            f"`# syntax={syntax.frontend}` has no `env=` for secret mounts ({SECRET_ENV_FRONTEND})"
        )
    if syntax.present:
        return f"frontend `{syntax.frontend}` is not known to support `env=` for secret mounts"
    if not settings.syntax_directive:
        return (
            f"`env=` for secret mounts needs `# syntax={SECRET_ENV_FRONTEND}` or later, and "
            "the configuration forbids adding the directive (syntax-directive = false)"
        )
    return ""


def _arg_fix(
    context: RuleContext, facts: StageFacts, instruction: Instruction, variable: Variable
) -> tuple[FixBuilder | None, str]:
    """The fix for a stage ARG (a builder), or why there is none."""
    name = variable.name
    if variable.value is not None:
        return None, "the default value is in the Dockerfile itself: remove it and rotate it"
    if len(variables(instruction)) != 1:
        return None, "the ARG declares several variables"
    document = context.document
    if any(
        i.cmd == "ARG" and i is not instruction and variable_named(i, name) for i in _all(facts)
    ):
        return None, f"{name} is declared more than once in the stage"
    if any(variable_named(i, name) for i in _globals(document)):
        return None, f"a global ARG {name} gives it a default"
    runs: list[Instruction] = []
    for later in facts.instructions_after(instruction):
        if later.cmd == "RUN":
            if any(reads_text(flag.piece.text, name) for flag in later.flags):
                return None, f"a RUN flag reads ${name}"
            runs.append(later)
        elif reads(later, name):
            return None, f"{later.cmd} at line {later.line} reads ${name}"
    if not runs:
        return None, "no RUN after it reads it"
    refusal = _syntax_refusal(context.model, context.settings)
    if refusal:
        return None, refusal
    builder = FixBuilder(document).delete(instruction)
    for run in runs:
        builder.replace(run, document.add_flag(run, f"--mount=type=secret,id={name},env={name}"))
    if not context.model.syntax.present:
        builder.prepend(document.make_directive("syntax", "docker/dockerfile:1"))
    return builder, ""


def reads_text(text: str, name: str) -> bool:
    pattern = rf"\$\{{?{re.escape(name)}(?![A-Za-z0-9_])"
    return re.search(pattern, text) is not None


def variable_named(instruction: Instruction, name: str) -> bool:
    return instruction.cmd == "ARG" and any(v.name == name for v in variables(instruction))


def _all(facts: StageFacts) -> tuple[Instruction, ...]:
    return tuple(facts.stage.instructions)


def _globals(document: Dockerfile) -> list[Instruction]:
    found = []
    for instruction in document.instructions:
        if instruction.cmd == "FROM":
            break
        found.append(instruction)
    return found


def _message(instruction: Instruction, variable: Variable, what: str) -> str:
    kind = instruction.cmd
    if what:
        return (
            f"{kind} {variable.name}: the value looks like {what}; it is readable by anyone "
            "who has the image"
        )
    if kind == "ENV":
        return (
            f"ENV {variable.name} looks like a secret: ENV values are stored in the image; "
            "pass it at run time or use a secret mount"
        )
    return (
        f"ARG {variable.name} looks like a secret: build arguments are recorded in the "
        "image's history; use a secret mount"
    )


def check(rule: Rule, context: RuleContext) -> Iterator[Finding]:
    model = context.model
    for instruction in _globals(context.document):
        if instruction.cmd == "ARG":
            for variable, what in _suspects(instruction):
                note = "a global ARG (before the first FROM)" if not what else ""
                yield rule.finding(_message(instruction, variable, what), variable.piece, note=note)
    for facts in model.stages:
        for instruction in facts.stage.instructions:
            if instruction.cmd not in ("ARG", "ENV"):
                continue
            for variable, what in _suspects(instruction):
                message = _message(instruction, variable, what)
                if instruction.cmd == "ENV":
                    yield rule.finding(message, variable.piece)
                    continue
                builder, note = _arg_fix(context, facts, instruction, variable)
                if builder is None:
                    yield rule.finding(message, variable.piece, note=note)
                    continue
                yield rule.finding(
                    message,
                    variable.piece,
                    edits=builder.edits(),
                    applicability=Applicability.UNSAFE,
                    reason=(
                        f"{variable.name} now comes from a build secret, no longer from "
                        f"--build-arg: build with `{build_command(variable.name)}`"
                    ),
                )


def _suspects(instruction: Instruction) -> Iterator[tuple[Variable, str]]:
    for variable in variables(instruction):
        what = secret_value(variable.value or "")
        if what or (secret_name(variable.name) and not _setting(variable.value)):
            yield variable, what


def _setting(value: str | None) -> bool:
    """An empty, boolean or numeric value: nothing secret is in the file."""
    return value is not None and _SETTING_VALUE.fullmatch(value.strip()) is not None


RULE = Rule(
    code="DF301",
    name="secrets-in-arg-env",
    summary="Pass secrets with `RUN --mount=type=secret`, not `ARG` or `ENV`",
    applicability=Applicability.UNSAFE,
    fix_availability=FixAvailability.SOMETIMES,
    check=check,
    explanation=__doc__ or "",
    keywords=frozenset({"ARG", "ENV"}),
    preconditions=(Precondition.LINUX, Precondition.RUN_MOUNTS),
)
