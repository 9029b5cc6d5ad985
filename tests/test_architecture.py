"""The house rules of the code base, checked on the source (README, "Architecture"): the layers import only
downwards, no import cycle (but the one justified below), no private name crosses a module boundary, and every
app stays a folder of feature packages rather than a flat list of modules."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("patents", "licensing", "marketplace", "cms")

# A cascade refresh enqueues the other side's refresh task, and the task's thin wrapper calls back into the
# refresh service: the lazy import in `matches_refresh_request` is that loop, on purpose (see its comment).
ALLOWED_CYCLES = [{"marketplace.matching.services", "marketplace.matching.tasks"}]

# Who may import whom (the first matching prefix wins). The parties are the ground floor every app may use.
LAYERS = {
    "marketplace.parties": ("marketplace.parties",),
    "cms": ("cms",),
    "patents": ("patents", "marketplace.parties"),
    "licensing": ("licensing", "patents", "marketplace.parties"),
    "marketplace": ("marketplace", "licensing", "patents", "cms"),
}


def _modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts:
                continue
            name = ".".join(rel.with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) of every import in the file, module level or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
    return found


def _ours(module: str) -> bool:
    return module.split(".")[0] in APPS


def _graph() -> dict[str, set[str]]:
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, names, _line in _imports(path):
            for target in [module, *(f"{module}.{n}" for n in names)]:
                if target in MODULES and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_there_is_no_import_cycle_but_the_justified_one():
    assert [c for c in _cycles(_graph()) if c not in ALLOWED_CYCLES] == []


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_below_it(layer):
    wrong = []
    for name, path in MODULES.items():
        owner = next(prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + "."))
        if owner != layer:
            continue
        for module, _names, line in _imports(path):
            if _ours(module) and not any(module == ok or module.startswith(ok + ".") for ok in LAYERS[layer]):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


def test_no_private_name_is_imported_from_another_module():
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {n} from {module}"
             for path in MODULES.values() for module, names, line in _imports(path)
             if _ours(module) for n in names if n.startswith("_") and not n.startswith("__")]
    assert wrong == []


@pytest.mark.parametrize("app", APPS)
def test_an_app_is_a_folder_of_feature_packages(app):
    top_level = sorted(p.name for p in (ROOT / app).glob("*.py"))
    assert len(top_level) <= 15, top_level
