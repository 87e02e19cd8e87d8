"""pip installs that are not a top-level command of their RUN: which wrappers run them
exactly as if they stood alone (so the split edits the pip words and keeps the wrapper
in both stages), and, for the others, why not.

* ``yes | pip install ...``: pip reads its standard input only to ask something (the
  answer to an ``--exists-action`` question about an existing checkout, a user name
  or password an index asks for; ``pip uninstall`` without ``-y``): the builder's
  ``pip wheel`` and the final stage's ``pip install --no-index --find-links=/wheels``
  keep the same feeder, and a pipeline's status is its last command's (no ``!``).
  pip's prompts: ``ask``/``ask_input``/``ask_password`` in ``pip/_internal/utils/misc.py``,
  called for ``--exists-action`` (``vcs/versioncontrol.py``), credentials
  (``network/auth.py``) and uninstall confirmation.
* ``( pip install ... )``, also after ``cd`` to a literal path inside the subshell:
  a subshell changes nothing outside itself, and its status is its last command's.
"""

from __future__ import annotations

from dockfix.shell import (
    Compound,
    Group,
    Node,
    Opaque,
    Pipeline,
    ShellScript,
    SimpleCommand,
    Subshell,
    children,
    command_name,
)


def top_item(script: ShellScript, command: SimpleCommand) -> Node | None:
    """The top-level item of the script that runs ``command`` as if it stood there alone:
    the command itself or a wrapper above (see the module's docstring); None otherwise."""
    for item in script.body.items:
        if item is command or _transparent(item, command):
            return item
    return None


def _transparent(node: Node, command: SimpleCommand) -> bool:
    if isinstance(node, Pipeline):
        *feeders, last = node.commands
        return (
            not node.negated
            and last is command
            and all(_is_yes(feeder) for feeder in feeders)
            and not command.redirects
        )
    if isinstance(node, Subshell) and not node.redirects:
        body = node.body
        if len(body.operators) != len(body.items) - 1:
            return False  # a trailing ``;`` or ``&``
        if any(op.text != "&&" for op in body.operators):
            return False
        *before, last = body.items
        return (last is command or _transparent(last, command)) and all(
            _is_literal_cd(item) for item in before
        )
    return False


def _is_yes(node: Node) -> bool:
    return (
        isinstance(node, SimpleCommand)
        and command_name(node) == "yes"
        and not node.redirects
        and not node.assignments
        and not node.background
    )


def _is_literal_cd(node: Node) -> bool:
    return (
        isinstance(node, SimpleCommand)
        and command_name(node) == "cd"
        and len(node.words) == 2
        and node.words[1].is_literal
        and not node.redirects
        and not node.assignments
    )


def wrapper_reason(script: ShellScript, command: SimpleCommand, line: int) -> str:
    """Why the pip install cannot be split where it stands, named by what wraps it."""
    where = f"the pip install on line {line}"
    path = _path_to(script.body, command)
    for node in path:
        if isinstance(node, Compound) and node.kind in ("for", "while", "until"):
            return (
                f"{where} runs in a `{node.kind}` loop: each pass installs before the next "
                "one builds, and the builder's `pip wheel` installs nothing, so a later "
                "pass would build without what the earlier ones installed (and what the "
                "loop installs is known only when the build runs)"
            )
        if isinstance(node, Compound) and node.kind in ("if", "case"):
            return (
                f"{where} runs inside `{node.kind}`: which branch runs is known only when "
                "the build runs, and the split does not repeat the test in the builder"
            )
        if isinstance(node, Compound | Opaque):
            return f"{where} runs inside a `{node.kind}` the split does not repeat"
    for node in path:
        if isinstance(node, Pipeline):
            if node.negated:
                return f"{where} is negated with `!`: its failure would not stop the build"
            return (
                f"{where} is in a pipeline with other commands than `yes`, which may "
                "read what pip prints or feed it"
            )
        if isinstance(node, Subshell | Group):
            return (
                f"{where} is in a subshell or `{{ ...; }}` group with other commands than "
                "`cd` before it (joined by `&&`)"
            )
    return f"{where} is inside a pipeline, group or condition"


def _path_to(root: Node, target: Node) -> list[Node]:
    """The nodes from ``root`` down to ``target`` (outermost first; empty if absent)."""
    if root is target:
        return [root]
    for child in children(root):
        found = _path_to(child, target)
        if found:
            return [root, *found]
    return []
