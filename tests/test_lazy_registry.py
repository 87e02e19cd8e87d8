"""Start-up shortcuts must answer exactly what the slow path answers.

The rule registry is a generated table (``dockfix/rules/codes.py``) so that choosing rules
imports no rule module; ``build_package_names.txt`` answers "is this a build package"
without loading the whole runtime graph.  Both are copies of a source of truth: these
tests prove the copies equal it, and that the shortcuts really skip the slow imports.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dockfix.images import runtime_data
from dockfix.rules import ALL_RULES, lookup
from dockfix.rules.base import Rule
from dockfix.rules.deferred import DeferredRule

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "dockfix" / "images" / "data"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _fresh_python(code: str) -> str:
    """Run ``code`` in a new interpreter (nothing imported yet); its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return result.stdout


# -- the rule table ---------------------------------------------------------------------


def test_rule_table_is_current() -> None:
    """``codes.py`` is what the generator writes from the rule modules today."""
    generator = _script("gen_rule_codes")
    on_disk = (ROOT / "dockfix" / "rules" / "codes.py").read_text(encoding="utf-8")
    assert on_disk == generator.generated(), "run: python scripts/gen_rule_codes.py"


def test_every_rule_module_is_registered_once() -> None:
    modules = {rule.module for rule in ALL_RULES if isinstance(rule, DeferredRule)}
    assert len(modules) == len(ALL_RULES)
    codes = [rule.code for rule in ALL_RULES]
    assert codes == sorted(set(codes))


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_registered_rule_equals_its_module_declaration(rule: Rule) -> None:
    assert isinstance(rule, DeferredRule)
    declared = rule.declared()
    assert type(declared) is Rule
    for field in dataclasses.fields(Rule):
        assert getattr(rule, field.name) == getattr(declared, field.name), field.name
    # one object per rule: the module's RULE is the registry's once loaded
    assert importlib.import_module(rule.module).RULE is rule


def test_registered_rules_pickle_as_themselves() -> None:
    for rule in ALL_RULES:
        assert pickle.loads(pickle.dumps(rule)) is rule


def test_lookup_by_code_or_name_in_any_case() -> None:
    rule = lookup("DF004")
    assert rule is not None
    assert lookup(" df004 ") is rule
    assert lookup("add-local-source") is rule
    assert lookup("ADD-LOCAL-SOURCE") is rule
    assert lookup("DF999") is None


def test_choosing_and_listing_rules_imports_no_rule_module() -> None:
    code = """
import json, sys
from dockfix.rules import ALL_RULES, select_rules
select_rules(); select_rules(["DF1", "DF9"], ["DF101"])
[(rule.fix_label, rule.keywords, rule.preconditions) for rule in ALL_RULES]
print(json.dumps(sorted(m for m in sys.modules if m.startswith("dockfix.rules."))))
"""
    imported = set(json.loads(_fresh_python(code)))
    assert imported == {"dockfix.rules.base", "dockfix.rules.codes", "dockfix.rules.deferred"}


def test_a_file_runs_only_the_rules_it_can_need() -> None:
    """Keywords decide: a FROM-and-ENV file imports no rule that reads only ADD, CMD..."""
    code = """
import json, sys
from dockfix import parse
from dockfix.engine import fix_document
from dockfix.rules import select_rules
from dockfix.rules.base import Settings
fix_document(parse("FROM alpine:3.19\\nENV a b\\n"), select_rules(), Settings())
print(json.dumps(sorted(m for m in sys.modules if m.startswith("dockfix.rules."))))
"""
    imported = set(json.loads(_fresh_python(code)))
    present = {"FROM", "ENV"}
    for rule in ALL_RULES:
        assert isinstance(rule, DeferredRule)
        runs = rule.default_enabled and rule.may_report(present)
        assert (rule.module in imported) is runs, rule.code


# -- the build package names ------------------------------------------------------------


def test_build_package_names_file_is_current() -> None:
    data = json.loads((DATA / runtime_data.RUNTIME_LIBS_FILE).read_text(encoding="utf-8"))
    names = DATA / runtime_data.BUILD_NAMES_FILE
    assert names.read_text(encoding="utf-8") == runtime_data.build_names_text(data), (
        "run: python scripts/gen_runtime_libs.py --names-only"
    )


@pytest.mark.parametrize("release", runtime_data.releases(), ids="/".join)
def test_build_package_names_agree_with_the_graph(release: tuple[str, str]) -> None:
    distro, name = release
    graph = runtime_data.build_packages(distro, name) | runtime_data.no_library_builds(distro, name)
    assert runtime_data.build_package_names(distro, name) == graph
    assert graph  # a release with data has build packages


def test_unknown_release_has_no_build_package_names() -> None:
    assert runtime_data.build_package_names("debian", "potato") == frozenset()


def test_is_build_package_does_not_load_the_graph() -> None:
    code = """
from dockfix.images import runtime_data
from dockfix.images.runtime_libs import is_build_package
assert is_build_package("libpq-dev") and is_build_package("make")
assert is_build_package("libjpeg62-turbo-dev") and not is_build_package("libpq5")
print(runtime_data._runtime_data.cache_info().currsize)
"""
    assert _fresh_python(code).strip() == "0"
