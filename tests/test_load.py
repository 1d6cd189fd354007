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


def _problems(path, text: str) -> list[tuple[int, str]]:
    """The (line, message) of each problem loading ``text``; [] if it loads."""
    path.write_text(text, encoding="utf-8")
    try:
        load_yaml(path)
    except Exception as exc:  # BriefgenError
        return [(p.line, p.message) for p in exc.problems]
    return []


def test_a_key_written_after_a_merge_overrides_the_merged_value(tmp_path):
    """YAML's '<<' gives defaults: a key written beside it replaces the merged one."""
    path = tmp_path / "x.yaml"
    text = "base: &b {title: A, owner: X}\nitem:\n  <<: *b\n  title: B\n"
    assert _problems(path, text) == []
    assert load_yaml(path)["item"] == {"title": "B", "owner": "X"}
    assert load_yaml(path)["item"].line_of("title") == 4
    # of a list of merged mappings, the first given wins, as YAML says
    path.write_text("a: &a {title: A}\nb: &b {title: B, owner: O}\nitem: {<<: [*a, *b]}\n", encoding="utf-8")
    assert load_yaml(path)["item"] == {"title": "A", "owner": "O"}
    # a mapping merged in before it is read itself keeps its own merged keys apart
    path.write_text("a: &a {title: A}\nitem: {<<: &b {<<: *a, title: X}, other: *b}\n", encoding="utf-8")
    assert load_yaml(path)["item"]["other"] == {"title": "X"}


def test_a_key_written_twice_beside_a_merge_is_still_a_duplicate(tmp_path):
    path = tmp_path / "x.yaml"
    assert _problems(path, "base: &b {title: A}\nitem:\n  <<: *b\n  title: B\n  title: C\n") == [
        (5, "duplicate key 'title' (first given on line 4)")]
    assert _problems(path, "base: &b {title: A,\n  title: C}\nitem: {<<: *b, title: B}\n") == [
        (2, "duplicate key 'title' (first given on line 1)")]


def test_keys_are_compared_by_their_yaml_kind_and_value_not_python_equality(tmp_path):
    """Python holds True == 1 == 1.0; YAML holds them three keys. null and ~ are one."""
    path = tmp_path / "x.yaml"
    for text in ("a: {1: x, true: y}\n", "a: {0: x, false: y}\n", "a: {1: x, 1.0: y}\n",
                 "a: {'1': x, 1: y}\n", "a: {true: x, 1: y, 1.0: z}\n"):
        assert _problems(path, text) == [], text
    assert len(load_yaml(path)["a"]) == 3
    assert sorted(load_yaml(path)["a"].key_lines.values()) == [1, 1, 1]
    for text, shown in (("a:\n  null: x\n  ~: y\n", "~"), ("a:\n  1: x\n  0x1: y\n", "0x1"),
                        ("a:\n  true: x\n  yes: y\n", "yes"), ("a:\n  .nan: x\n  .NaN: y\n", ".NaN")):
        assert _problems(path, text) == [(3, f"duplicate key '{shown}' (first given on line 2)")], text


def test_what_a_merge_cannot_take_is_named_at_the_merge(tmp_path):
    """PyYAML pointed at the merged value: for an alias, the line of its anchor."""
    path = tmp_path / "x.yaml"
    says = "'<<' merges a mapping, or a list of mappings, into this one; found"
    for text, found in (("s: &s x\ntitle: T\nitem:\n  <<: *s\n", "'x'"),
                        ("item:\n  x: 1\n  <<: [a]\n", "'a' in its list"),
                        ("l: &l [1]\nt: T\nitem: {<<: [*l]}\n", "a list in its list"),
                        ("t: T\nt2: 2\nitem: {<<: }\n", "nothing")):
        assert _problems(path, text) == [(text.count("\n"), f"{says} {found}")], text  # '<<' on the last line


def test_an_anchor_given_twice_or_an_alias_without_one_is_named(tmp_path):
    """The parser said 'second occurrence' and 'found undefined alias', naming neither."""
    path = tmp_path / "x.yaml"
    assert _problems(path, "a: &x 1\nb: [&x 2]\nc: *x\n") == [
        (2, "anchor &x is given twice (first on line 1): give this one another name")]
    for text, line in (("a: *who\nb: &who 1\n", 1), ("title: T\na: *who\n", 2)):
        assert _problems(path, text) == [(line, "alias *who has no anchor &who above it: write the anchor on "
                                                "the value it stands for, before any alias to it")], text
