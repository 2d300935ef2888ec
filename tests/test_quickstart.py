"""The quickstart notebook runs clean in a real Jupyter kernel."""

from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_runs(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first cell that errors
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # az.summary and the plots run without a warning
    assert not [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr" and "Warning" in o.text]
    html = [o for o in outputs if o.output_type == "execute_result" and "text/html" in o.get("data", {})]
    assert any("risk.Result" in o["data"]["text/html"] for o in html)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # fan, coverage, break-even, tornado
