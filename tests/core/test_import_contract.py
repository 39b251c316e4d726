"""The import direction ARCHITECTURE.md documents, as a test: every ``import`` in the apps' code is
read (those inside functions too) and held against the layers and against circles.

Layers, bottom-up: the core (``mops``), then ``planning`` and ``workflows`` side by side (neither
imports the other: workflows knows no business app), then ``campaigns``, ``budgets``, ``metrics``.
An app imports only apps below it, so the core imports no area and nothing imports ``metrics``. Apps
above reach those below only through what the lower one exposes (signals, registries, hooks).

Between modules there is no circle, counting imports inside functions: Python gets through a circle
only when one side imports late, which hides the circle rather than removing it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = {"mops": 0, "planning": 1, "workflows": 1, "campaigns": 2, "budgets": 3, "metrics": 4}

# Inside an app, its subsystem packages are layered too (docs/architecture.md): a package imports only
# lower ones, and the app's own modules (layer 0: the ledger core of budgets, for instance) none —
# except the rooms that assemble the packages, which may import any of them.
SUBSYSTEM_LAYER = {
    "metrics": {"rollups": 1, "kpis": 2, "dashboards": 3, "scenarios": 4},
    "budgets": {"transfers": 1, "reports": 1, "requests": 2},
}
ASSEMBLY = {"apps", "urls", "api", "models", "tasks", "receivers", "subjects", "demo", "templatetags", "management"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in LAYER:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # migrations name other apps in dependencies, never by import
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported project module, line) for every import in the file, at any depth."""

    def resolve(dotted: str) -> str | None:
        parts = dotted.split(".")
        while parts:
            if ".".join(parts) in modules:
                return ".".join(parts)
            parts.pop()
        return None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(resolve(alias.name), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule if submodule in modules else resolve(base), node.lineno))
    return [(target, line) for target, line in found if target and target != name]


def import_graph() -> dict[str, dict[str, int]]:
    modules = project_modules()
    graph = {name: {} for name in modules}
    for name, path in modules.items():
        for target, line in imports_of(name, path, modules):
            graph[name].setdefault(target, line)
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph[target])))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_each_app_imports_only_the_apps_below_it():
    graph = import_graph()
    wrong = [
        f"{source}:{line} imports {target}"
        for source, targets in graph.items()
        for target, line in targets.items()
        if (app := source.split(".")[0]) != (other := target.split(".")[0]) and LAYER[other] >= LAYER[app]
    ]
    assert not wrong, "imports against the layers (ARCHITECTURE.md):\n" + "\n".join(sorted(wrong))


def subsystem_layer(module: str) -> int | None:
    """The module's layer inside its app, or None for an assembling room (free to import any)."""
    app, _, rest = module.partition(".")
    room = rest.split(".")[0]
    if room in ASSEMBLY:
        return None
    return SUBSYSTEM_LAYER[app].get(room, 0)


def subsystem_of(module: str) -> str:
    app, _, rest = module.partition(".")
    room = rest.split(".")[0]
    return f"{app}.{room}" if room in SUBSYSTEM_LAYER[app] else f"{app} (the app's own modules)"


def may_import(layer: int, target: str) -> bool:
    """Another room of the same app: a lower subsystem, or the app's own modules (layer 0) — never an
    assembling room (its tasks, urls, receivers …: they import the subsystems), except the models list."""
    target_layer = subsystem_layer(target)
    if target_layer is None:
        return target.split(".")[1] == "models"
    return target_layer == 0 or target_layer < layer


def test_each_subsystem_imports_only_the_subsystems_below_it():
    graph = import_graph()
    wrong = [
        f"{source}:{line} imports {target}"
        for source, targets in graph.items()
        if source.split(".")[0] in SUBSYSTEM_LAYER and (layer := subsystem_layer(source)) is not None
        for target, line in targets.items()
        if target.split(".")[0] == source.split(".")[0]
        and subsystem_of(target) != subsystem_of(source)
        and not may_import(layer, target)
    ]
    assert not wrong, "imports against the subsystems' layers (docs/architecture.md):\n" + "\n".join(sorted(wrong))


def test_no_module_takes_part_in_an_import_circle():
    graph = import_graph()
    report = [
        "circle: "
        + ", ".join(component)
        + "".join(
            f"\n    {source}:{graph[source][target]} imports {target}"
            for source in component
            for target in graph[source]
            if target in component
        )
        for component in circles(graph)
    ]
    assert not report, "\n".join(report)


def test_the_contract_sees_the_imports_it_judges():
    """The checks above pass trivially if the walk finds nothing: it must see imports inside
    functions, relative imports and ``from package import module`` as the modules they name."""
    graph = import_graph()
    assert "mops.navigation" in graph["mops.context_processors"]
    assert "campaigns.permissions" in graph["campaigns.apps"]  # imported inside ready()
    assert circles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
    assert circles({"a": {"b": 1}, "b": {}}) == []
    assert subsystem_layer("metrics.dashboards.cmo.panels") == 3
    assert subsystem_layer("budgets.selectors") == 0
    assert subsystem_layer("metrics.tasks") is None
    assert not may_import(subsystem_layer("metrics.rollups.engine"), "metrics.kpis.catalogue")
    assert may_import(subsystem_layer("metrics.dashboards.panels"), "metrics.kpis.catalogue")
    assert not may_import(subsystem_layer("metrics.rollups.marks"), "metrics.tasks")
    assert not may_import(subsystem_layer("budgets.reports.views"), "budgets.transfers.selectors")
    assert may_import(subsystem_layer("budgets.requests.views"), "budgets.transfers.selectors")
    assert not may_import(subsystem_layer("budgets.selectors"), "budgets.requests.selectors")
