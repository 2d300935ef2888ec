"""The scenario package imports at module top, one way: no cycle between its modules."""

import ast
from pathlib import Path

import risk.scenario

PACKAGE = Path(risk.scenario.__file__).parent


def _graph() -> dict:
    graph = {}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        top = {node for node in tree.body if isinstance(node, ast.ImportFrom)}
        inner = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
                 and node not in top]
        assert not inner, f"{path.name} imports {[n.module for n in inner]} inside a function"
        graph[path.stem] = set()
        for node in top:
            if node.level == 1:  # from .x import ... / from . import x
                names = [node.module] if node.module else [alias.name for alias in node.names]
                graph[path.stem].update(name.split(".")[0] for name in names)
    return graph


def test_no_cycle_between_the_scenario_modules():
    graph = _graph()
    state = {}

    def visit(module, trail):
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", f"import cycle: {' -> '.join(trail + [module])}"
        state[module] = "open"
        for other in graph.get(module, ()):
            visit(other, trail + [module])
        state[module] = "done"

    for module in graph:
        visit(module, [])
    assert graph["common"] == set()  # the leaf every module may import
