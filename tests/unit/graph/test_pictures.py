"""Pictures: Mermaid and dot text, well-formed SVG, a self-contained HTML page, the command."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

import nuserve
from nuserve import ConfigError
from nuserve.cli.graph import graph_command
from nuserve.graph import FlowBuilder, pictures
from nuserve.nuclio.spec_env import SPEC_ENV, encode_spec
from tests.models import Echo
from tests.unit.graph.flow_steps import Add, Catcher, Double, Trace, inc

SVG = "{http://www.w3.org/2000/svg}"


def sample() -> FlowBuilder:
    graph = FlowBuilder()
    start = graph.to(Add, name="start")
    start.to(Double, name="left").respond()
    start.to("*", name="router").add_route("echo", Echo)
    graph.add_step("$merge", name="join", after=["left", "router"])
    graph["join"].to(">>", "q", path="kafka://h:9092?topic=t").to(
        inc, name="child_step", function="child"
    )
    graph.error_handler(Catcher, name="catch")
    return graph


def test_mermaid_text():
    text = sample().to_mermaid()
    assert text.startswith("flowchart TD\n")
    for line in [
        '    event(["event"])',
        '    s0["start<br/>Add"]',
        '    s1["left<br/>Double"]:::responder',
        '    s2{{"router<br/>ModelRouter"}}',
        '    s2_m0["echo<br/>Echo"]',
        '    s3(("join<br/>merge"))',
        '    s4[("q<br/>kafka://h:9092?topic=t")]',
        '    subgraph fn_child["function: child"]',
        '        s5["child_step<br/>inc"]',
        '    on_error>"on error: catch<br/>Catcher"]',
        "    event --> s0",
        "    s1 --> response",
        "    s2 -.-> s2_m0",
        "    s1 --> s3",
        "    s2 --> s3",
        "    s4 --> s5",
        "    classDef responder stroke-width:3px",
    ]:
        assert line in text.splitlines(), line


def test_dot_text():
    text = sample().to_dot()
    assert text.startswith("digraph flow {\n") and text.endswith("}\n")
    for line in [
        '  s1 [label="left\\nDouble", shape=box, peripheries=2];',
        '  s2 [label="router\\nModelRouter", shape=hexagon];',
        '  s4 [label="q\\nkafka://h:9092?topic=t", shape=cylinder];',
        "  subgraph cluster_child {",
        '    label="function: child";',
        '    s5 [label="child_step\\ninc", shape=box];',
        "  s2 -> s2_m0 [style=dashed];",
        "  s3 -> s4;",
    ]:
        assert line in text.splitlines(), line


def test_labels_are_escaped():
    graph = FlowBuilder()
    graph.to(Add, name='say "hi" <now> & \\')
    assert "#quot;hi#quot; <now>" in graph.to_mermaid()
    assert 'label="say \\"hi\\" <now> & \\\\\\nAdd"' in graph.to_dot()
    root = ET.fromstring(pictures.to_svg(graph.spec).encode())
    assert [t.text for t in root.iter(f"{SVG}title")] == ["event", 'say "hi" <now> & \\']


def test_svg_is_well_formed_and_draws_every_node_and_edge(tmp_path):
    graph = sample()
    path = graph.plot(tmp_path / "flow.svg", renderer="builtin")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    ids = [g.get("id") for g in root.iter(f"{SVG}g")]
    assert ids == ["event", "s0", "s1", "response", "s2", "s2_m0", "s3", "s4", "s5", "on_error"]
    edges = [p for p in root.iter(f"{SVG}path") if p.get("marker-end")]
    assert len(edges) == len(pictures.picture(graph.spec).edges) == 9
    assert "function: child" in [t.text for t in root.iter(f"{SVG}text")]


def test_svg_layers_follow_the_edges():
    graph = FlowBuilder()
    graph.to(inc, name="a").to(inc, name="b").to(inc, name="c")
    root = ET.fromstring(pictures.to_svg(graph.spec).encode())
    tops = {}
    for g in root.iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        tops[g.get("id")] = float(rect.get("y"))
    assert tops["event"] < tops["s0"] < tops["s1"] < tops["s2"]


def test_auto_renderer_without_dot_draws_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(pictures.shutil, "which", lambda name: None)
    path = sample().plot(tmp_path / "auto.svg")
    assert ET.parse(path).getroot().tag == f"{SVG}svg"
    with pytest.raises(ConfigError, match="renderer='dot' needs Graphviz's dot on the PATH"):
        sample().plot(tmp_path / "x.svg", renderer="dot")
    with pytest.raises(ConfigError, match="renderer must be one of auto, builtin, dot"):
        sample().plot(tmp_path / "x.svg", renderer="png")


def test_html_page_is_self_contained(tmp_path):
    path = sample().plot(tmp_path / "flow.html")
    text = path.read_text()
    assert (
        "<svg" in text
        and "<script" not in text
        and "http://"
        not in text.replace("http://www.w3.org/2000/svg", "").replace("kafka://h:9092", "")
    )
    assert "<pre class='mermaid'>flowchart TD" in text
    assert "s4[(&quot;q&lt;br/&gt;kafka://h:9092?topic=t&quot;)]" in text


def test_dot_and_mermaid_files_and_unknown_suffix(tmp_path):
    graph = sample()
    assert graph.plot(tmp_path / "f.dot").read_text() == graph.to_dot()
    assert graph.plot(tmp_path / "f.mmd").read_text() == graph.to_mermaid()
    with pytest.raises(ConfigError, match="end it in .svg, .html, .dot, .mmd or .png"):
        graph.plot(tmp_path / "f.gif")


def test_png_without_graphviz_is_a_valid_image_in_a_new_folder(tmp_path):
    """MLRun's tests plot to results/serving/x.png, a folder that does not exist yet."""
    import struct
    import zlib

    graph = sample()
    data = graph.plot(tmp_path / "new" / "f.png", renderer="builtin").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    size = struct.unpack(">I", data[idat - 4 : idat])[0]
    pixels = zlib.decompress(data[idat + 4 : idat + 4 + size])
    assert len(pixels) == height * (1 + 3 * width) and width > 100 and height > 100
    assert len(set(pixels)) > 3  # boxes in colour, not a blank page


def function_yaml(tmp_path, graph_dict) -> str:
    spec = {"version": 1, "name": "f", "graph": graph_dict}
    doc = {"spec": {"env": [{"name": SPEC_ENV, "value": encode_spec(spec, limit=10)}]}}
    path = tmp_path / "function.yaml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    return str(path)


def test_graph_command_on_a_flow_function_yaml(tmp_path):
    graph = sample()
    path = function_yaml(tmp_path, graph.spec.to_dict())
    assert graph_command(path) == graph.to_mermaid()
    message = graph_command(path, tmp_path / "out.svg")
    assert message == f"wrote {tmp_path / 'out.svg'} (6 steps)"
    ET.parse(tmp_path / "out.svg")


def test_graph_command_on_a_router_function(tmp_path):
    fn = nuserve.new_function("r")
    fn.add_model("echo", class_name=Echo)
    fn.to_yaml(tmp_path / "function.yaml")
    text = graph_command(tmp_path / "function.yaml")
    assert 's0{{"router<br/>ModelRouter"}}' in text and 's0_m0["echo<br/>Echo"]' in text


def test_graph_command_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        graph_command(tmp_path / "missing.yaml")
    (tmp_path / "empty.yaml").write_text("spec: {}\n")
    with pytest.raises(ConfigError, match="has no NUSERVE_SPEC in spec.env"):
        graph_command(tmp_path / "empty.yaml")
    (tmp_path / "spec.json").write_text('{"name": "x"}')
    with pytest.raises(ConfigError, match="has no graph"):
        graph_command(tmp_path / "spec.json")


def test_a_larger_graph_still_parses(tmp_path):
    graph = FlowBuilder()
    previous = graph.to(Trace, name="t0")
    for i in range(1, 12):
        previous = previous.to(Trace, name=f"t{i}")
        previous.to(inc, name=f"side{i}")
    ET.fromstring(pictures.to_svg(graph.spec).encode())
