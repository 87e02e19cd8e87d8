"""The ``#`` comments in a RUN's shell text: author's text that every fix keeps.

Why: the verifier counts the file's comment lines, but a comment at the end of a RUN's
shell (``RUN apt-get update # refresh``) is shell text.  A fix that drops that RUN loses
it, and a fix that joins a command after it (``# refresh && apt-get install ...``, the
continuation folds onto one line) puts the command inside the comment, where the shell
never runs it.  Both change the comments' text, so counting them before and after a fix
catches both.
"""

from __future__ import annotations

import functools

from dockfix.shell._tree import TreeError, parse_bytes, parser


@functools.lru_cache(maxsize=512)
def shell_comments(text: str) -> tuple[str, ...]:
    """The comments of shell ``text`` as tree-sitter-bash reads them, stripped, in order.

    The grammar knows where ``#`` starts a comment (not inside a word, quotes or
    ``${x#y}``); a comment inside a backtick substitution is part of that word (the
    model's parse masks substitutions), which the verifier compares anyway.  A text
    read with errors still gives the comments found; the verifier reads the text before
    and after a fix the same way.
    """
    if "#" not in text:
        return ()
    data = text.encode("utf-8", "surrogateescape")
    try:
        # With the model's workarounds: in ``git `# why` \`` a raw parse lets the
        # comment swallow the closing backtick and everything after it.
        root, data = parse_bytes(data)
    except TreeError:
        root = parser().parse(data).root_node
    found: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            comment = data[node.start_byte : node.end_byte]
            found.append(comment.decode("utf-8", "surrogateescape").strip())
        elif node.child_count:
            stack.extend(reversed(node.children))
    return tuple(found)
