"""Shell model for the text of Dockerfile ``RUN`` instructions.

Rules use it to find commands (``cd``, ``apt-get install`` ...) and to edit
single words by their exact offsets in the logical RUN text.
"""

from dockfix.shell.model import (
    Compound,
    Group,
    ListNode,
    Node,
    Opaque,
    Operator,
    Pipeline,
    Redirect,
    ShellScript,
    SimpleCommand,
    Subshell,
    Word,
    children,
    command_name,
    command_words,
    iter_nodes,
    iter_simple_commands,
    operators,
    top_level_and_chain,
)
from dockfix.shell.packages import Manager, Option, PackageCommand, classify
from dockfix.shell.parse import ShellParseError, parse_shell

__all__ = [
    "Compound",
    "Group",
    "ListNode",
    "Manager",
    "Node",
    "Opaque",
    "Operator",
    "Option",
    "PackageCommand",
    "Pipeline",
    "Redirect",
    "ShellParseError",
    "ShellScript",
    "SimpleCommand",
    "Subshell",
    "Word",
    "children",
    "classify",
    "command_name",
    "command_words",
    "iter_nodes",
    "iter_simple_commands",
    "operators",
    "parse_shell",
    "top_level_and_chain",
]
