"""Loading keeps the line of every value."""

from briefgen.load import LineList, LineMap, load_csv, load_yaml
from briefgen.errors import ProblemList


def test_yaml_values_know_their_lines(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("title: T\nlist:\n  - a\n  - {b: 1,\n     c: 2}\n", encoding="utf-8")
    tree = load_yaml(path)
    assert isinstance(tree, LineMap) and isinstance(tree["list"], LineList)
    assert tree.line_of("title") == 1
    assert tree["list"].item_lines == [3, 4]
    assert tree["list"][1].line_of("c") == 5


def test_csv_rows_know_their_first_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3,4\n5\n', encoding="utf-8")
    problems = ProblemList()
    header, rows = load_csv(path, problems)
    assert header == ["a", "b"]
    assert [line for line, _ in rows] == [2, 5]
    assert rows[0][1] == {"a": "1", "b": "two\nlines"}
    assert [str(p).split(":", 1)[1] for p in problems] == ["6: expected 2 fields as in the header, found 1"]


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"title: caf\xe9\n")
    try:
        load_yaml(path)
    except Exception as exc:  # BriefgenError
        assert "not UTF-8 text" in str(exc)
    else:
        raise AssertionError("accepted non-UTF-8 input")


def test_lines_are_counted_as_an_editor_counts_them_past_a_pasted_line_separator(tmp_path):
    """YAML breaks lines at U+2028 and U+0085 too; an editor shows them inside a line."""
    path = tmp_path / "x.yaml"
    path.write_text('title: "One\u2028two"\nnote: "a\x85b"\nlist:\n  - a\n  - b\n', encoding="utf-8")
    tree = load_yaml(path)
    assert tree.line_of("note") == 2 and tree["list"].item_lines == [4, 5]
    for broken, line in (("list: [a\n", 3), ("tagged: !!python/object x\n", 3), ("a: b: c\n", 3)):
        path.write_text('title: "One\u2028two"\nnote: "a\x85b"\n' + broken, encoding="utf-8")
        try:
            load_yaml(path)
        except Exception as exc:  # BriefgenError
            assert [p.line for p in exc.problems] == [line], (broken, str(exc))
        else:
            raise AssertionError(f"accepted {broken!r}")


def test_a_tag_pyyaml_cannot_build_is_an_error_at_its_line(tmp_path):
    path = tmp_path / "x.yaml"
    for value, shown, tag in (("!!bool maybe", "maybe", "!!bool"), ("!!bool ''", "", "!!bool"),
                              ("!!timestamp abc", "abc", "!!timestamp"), ("!!seq x", "x", "!!seq"),
                              ("!!float ''", "", "!!float")):
        path.write_text(f"title: T\ntime: {value}\n", encoding="utf-8")
        try:
            load_yaml(path)
        except Exception as exc:  # BriefgenError
            assert [(p.line, p.message) for p in exc.problems] == [
                (2, f"'{shown}' cannot be read as {tag}: remove the tag, or give a value of its kind")]
        else:
            raise AssertionError(f"accepted {value}")


def test_a_syntax_error_the_parser_finds_later_is_reported_where_the_mistake_is(tmp_path):
    """A key without its ':', an unclosed quote or bracket: the parser stops at the next key,
    or at the end of the file (a line past the last); the writer needs the line to mend."""
    path = tmp_path / "x.yaml"
    for text, line, hint in (
            ("title: T\npurpose Why\n\nobjectives: []\n", 2, "write ': ' after the key"),
            ("title: T\npurpose: Why,\nand how\nobjectives: []\n", 3, "or indent this line"),
            ("title: T\nnotes to self\n", 2, "write ': ' after the key"),
            ('title: T\ntime: "10:00\nlead: x\n', 2, "the quote opened on this line is not closed"),
            ("title: T\nitems: [a, b\nlead: x\n\n", 2, "the '[' opened on this line is not closed"),
            ("title: T\ndata: {spending: x\nlead: x\n", 2, "the '{' opened on this line is not closed"),
            ("objectives:\n  - a\n  - text: b\n  classification: PUBLIC\n", 4,
             "each entry of the list above starts with '- '")):
        path.write_text(text, encoding="utf-8")
        try:
            load_yaml(path)
        except Exception as exc:  # BriefgenError
            [problem] = exc.problems
            assert (problem.line, hint in problem.message) == (line, True), (text, problem.message)
        else:
            raise AssertionError(f"accepted {text!r}")
