"""The console script, run as a real subprocess (exit codes and stdout are the contract)."""

import json
import subprocess
import sys

import pytest


def labwright(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labwright.cli", *args], capture_output=True, text=True, timeout=120)


def test_tool_list_and_call():
    out = labwright("tool", "list")
    assert out.returncode == 0, out.stderr
    assert "canonicalize_smiles" in out.stdout
    out = labwright("tool", "canonicalize_smiles", "--json", '{"smiles": "C(=O)O"}')
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["canonical_smiles"] == "O=CO"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["tool", "canonicalize_smiles", "--json", '{"smiles": "C1CC"}'],
            "invalid SMILES 'C1CC': unclosed ring",
        ),
        (["tool", "canonicalize_smiles", "--json", "{smiles: 1"], "--json"),
        (["tool", "canonicalize_smiles", "--json", "[1]"], "JSON object"),
        (["tool", "canonicalise_smiles"], "did you mean canonicalize_smiles"),
        (["tool", "canonicalize_smiles", "--file", "/nonexistent/args.json"], "cannot read"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    out = labwright(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert message in lines[0]


def test_args_from_file_and_malformed_file_names_line(tmp_path):
    good = tmp_path / "args.json"
    good.write_text('{"smiles": "c1ccccc1"}')
    out = labwright("tool", "describe_molecule", "--file", str(good))
    assert out.returncode == 0
    assert json.loads(out.stdout)["formula"] == "C6H6"
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "smiles": "CCO",\n  oops\n}')
    out = labwright("tool", "describe_molecule", "--file", str(bad))
    assert out.returncode == 2
    assert "line 3" in out.stderr


def test_schema_flag_prints_openai_definition():
    out = labwright("tool", "molecular_similarity", "--schema")
    assert out.returncode == 0
    schema = json.loads(out.stdout)
    assert schema["function"]["name"] == "molecular_similarity"
    assert set(schema["function"]["parameters"]["required"]) == {"smiles_a", "smiles_b"}
