"""Private storages have no URL and follow their setting; a sender's file name is made safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from convergence.core.uploads import NAME_MAX, PrivateStorage, clean_name


def test_a_private_storage_has_no_url_and_follows_its_setting(
    settings: Any, tmp_path: Path
) -> None:
    settings.SUPPORT_ATTACHMENTS_DIR = tmp_path / "one"
    storage = PrivateStorage("SUPPORT_ATTACHMENTS_DIR")
    assert storage.location == str(tmp_path / "one")
    settings.SUPPORT_ATTACHMENTS_DIR = tmp_path / "two"
    assert storage.location == str(tmp_path / "two")
    with pytest.raises(ValueError, match="no URL"):
        storage.url("x.pdf")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\karim\\..\\re\x07çu.pdf", "re çu.pdf"),
        ("../../etc/passwd", "passwd"),
        ('"<script>".pdf', "script .pdf"),
        ("...", "fichier"),
        ("", "fichier"),
    ],
)
def test_file_names_lose_folders_controls_and_quotes(sent: str, kept: str) -> None:
    assert clean_name(sent) == kept


def test_a_long_name_keeps_its_extension() -> None:
    name = clean_name("a" * 300 + ".docx")
    assert len(name) == NAME_MAX and name.endswith(".docx")
