"""What the container runs, as DF201 needs to know it: whether the image defines an
application process at all, and whether that process writes where it runs."""

from __future__ import annotations

import posixpath
import shlex

from dockfix import lazy_re
from dockfix.model.users import serves_by_default
from dockfix.rules.runs_as_root.image import Image
from dockfix.syntax import Instruction

#: Programs that, given no script or file, start an interactive session: a shell or a
#: language's REPL (the ``CMD`` of docker-library language images: ``python3``,
#: ``node``, ``php -a``, ``irb``).
_REPL_NAMES = """sh bash ash dash zsh fish ksh python python2 python3 ipython ipython3 node
nodejs php irb jshell R julia ghci iex erl lua scala groovysh"""
REPLS = frozenset(_REPL_NAMES.split())
PYTHON_VERSION = lazy_re.compile(r"python\d(\.\d+)?")
#: Options that keep a shell or a REPL interactive (they name no program to run).
INTERACTIVE_OPTIONS = frozenset({"-l", "--login", "-i", "--interactive", "-a", "-q", "-u"})
#: Entrypoints that only hand over to the command (docker-library's
#: ``docker-php-entrypoint`` puts ``php`` in front of options, then ``exec "$@"``).
PASS_THROUGH = lazy_re.compile(r"(tini|tini-static|dumb-init|docker-[a-z0-9]+-entrypoint)")


def _last(image: Image, cmd: str) -> Instruction | None:
    found = [i for i in image.instructions if i.cmd == cmd and i.value]
    return found[-1] if found else None


def _words(instruction: Instruction | None) -> list[str] | None:
    """Exec-form words, or a shell-form line split like the shell would (None: unreadable)."""
    if instruction is None:
        return []
    if instruction.is_json:
        return list(instruction.value)
    try:
        return shlex.split(instruction.value[0])
    except ValueError:
        return None


def _is_interactive(words: list[str]) -> bool:
    """A shell or a REPL started with nothing to run: ``bash``, ``python3``, ``php -a``."""
    if not words:
        return False
    program = posixpath.basename(words[0])
    if program not in REPLS and not PYTHON_VERSION.fullmatch(program):
        return False
    return all(word in INTERACTIVE_OPTIONS for word in words[1:])


def _wraps_a_repl(words: list[str]) -> bool:
    """An entrypoint script (by its name) in front of a shell or a REPL: docker-library's
    own Dockerfiles (``ENTRYPOINT ["docker-entrypoint.sh"]`` and ``CMD ["node"]``)."""
    return bool(words) and is_wrapper_script(words[0]) and _is_interactive(words[1:])


def is_wrapper_script(word: str) -> bool:
    """An entrypoint script by its name (``docker-entrypoint.sh``, ``/entrypoint``)."""
    name = posixpath.basename(word)
    return name.endswith((".sh", ".bash")) or "entrypoint" in name


def inherits_a_server(image: Image) -> bool:
    """The base image's own command runs an application (nginx, postgres, tiangolo...)."""
    traits = image.traits
    if traits is not None and any("server" in note for note in traits.notes):
        return True
    ref = image.facts.root.image
    return ref is not None and serves_by_default(ref.repository)


def process_words(image: Image) -> list[str] | None:
    """The words the container runs: ENTRYPOINT then CMD, a pass-through entrypoint
    (``tini --``, ``docker-php-entrypoint``) dropped; None when they cannot be read."""
    entrypoint, cmd = _last(image, "ENTRYPOINT"), _last(image, "CMD")
    entry_words, cmd_words = _words(entrypoint), _words(cmd)
    if entry_words is None or cmd_words is None:
        return None
    if entrypoint is not None and not entrypoint.is_json:
        cmd_words = []  # a shell-form ENTRYPOINT ignores CMD
    if entry_words and PASS_THROUGH.fullmatch(posixpath.basename(entry_words[0])):
        entry_words = [word for word in entry_words[1:] if word != "--"]
        if entry_words and entry_words[0].startswith("-"):
            return None
    return entry_words + cmd_words


def no_process(image: Image) -> str | None:
    """Why the image defines no application process (None: it defines one, or may).

    No ``CMD``/``ENTRYPOINT`` in the stage or the stages it builds on, and a base image
    whose own command is not known to start an application: a base image for others to
    build ``FROM``, or a build or CI environment.  Or the command only starts a shell or
    a REPL (``bash``, ``python3``, ``php -a``): an interactive or CI environment.  Such
    images are meant to run as root (their users install into them), and hadolint
    (DL3002) reports only an explicit ``USER root`` there too.
    """
    if _last(image, "ENTRYPOINT") is None and _last(image, "CMD") is None:
        if inherits_a_server(image):
            return None
        return "it defines no CMD or ENTRYPOINT: a base or build environment"
    words = process_words(image)
    if words is not None and (_is_interactive(words) or _wraps_a_repl(words)):
        return "it only starts an interactive shell or REPL: an interactive or CI environment"
    return None
