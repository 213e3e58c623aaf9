"""Each renderer alone, on one small table, against the exact text it must produce."""

from __future__ import annotations

from mnprof.core.render import Column, Table, to_csv, to_markdown, to_text
from mnprof.core.units import human, human_bytes, shape

TABLE = Table(
    "Demo", (Column("name", numeric=False), Column("MACs", human, "macs"),
             Column("shape", shape, "output_shape", numeric=False)),
    (("conv1", 10838016, (32, 112, 112)), ("fc", 1024000, (1000,))),
    footer=("total", 11862016, None), note="MACs: multiply-accumulates")


def test_text():
    assert to_text("head", [TABLE], color=False) == (
        "head\n\n"
        "Demo\n\n"
        "  name      MACs   shape\n"
        " ─────────────────────────────\n"
        "  conv1   10.84M   112x112x32\n"
        "  fc      1.024M   1000\n"
        " ─────────────────────────────\n"
        "  total   11.86M\n\n"
        "MACs: multiply-accumulates\n\n")


def test_text_in_colour_only_adds_escapes():
    plain = to_text("head", [TABLE], color=False)
    coloured = to_text("head", [TABLE], color=True)
    assert "\033[1m" in coloured
    assert coloured.replace("\033[1m", "").replace("\033[2m", "").replace("\033[0m", "") == plain


def test_markdown():
    assert to_markdown("head", [TABLE]) == (
        "### head\n\n"
        "**Demo**\n\n"
        "| name | MACs | shape |\n"
        "|---|---:|---|\n"
        "| conv1 | 10.84M | 112x112x32 |\n"
        "| fc | 1.024M | 1000 |\n"
        "| **total** | **11.86M** |  |\n\n"
        "MACs: multiply-accumulates\n")


def test_csv_has_raw_values_and_no_footer():
    assert to_csv(TABLE) == ("name,macs,output_shape\n"
                             "conv1,10838016,32x112x112\n"
                             "fc,1024000,1000\n")


def test_units():
    assert [human(n) for n in (0, 999, 1000, 999_949, 999_950, 568_740_352, 4_209_088)] == [
        "0", "999", "1.000K", "999.9K", "1.000M", "568.7M", "4.209M"]
    assert human_bytes(1023) == "1023 B" and human_bytes(4_816_896) == "4.59 MiB"
    assert shape((3, 224, 224)) == "224x224x3" and shape((1000,)) == "1000"
