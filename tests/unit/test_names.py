"""What a person's name and a photo id may be: any script with its marks, nothing a file name cannot hold."""

from __future__ import annotations

import unicodedata

import pytest

from shared.people.names import MAX_NAME_BYTES, BadName, clean_name, clean_photo_id, visible_length


@pytest.mark.parametrize(
    "name",
    [
        "Ada Lovelace",
        "Zoë O'Brien-Smith",
        "李娜",
        "अनुष्का शर्मा",  # Devanagari: vowel signs and a virama are combining marks
        "مُحَمَّد عَلِيّ",  # Arabic with its vowels (harakat)
        "ناصرالدین\u200cشاه",  # Persian: a zero-width non-joiner inside the name
        "தமிழ்செல்வி",  # Tamil
        "Nguyễn Thị Minh Khai",
        "_underscore",
    ],
)
def test_names_of_any_script_with_combining_marks_are_accepted(name: str) -> None:
    assert clean_name(name) == unicodedata.normalize("NFC", name)


def test_decomposed_input_is_stored_composed() -> None:
    assert clean_name("Zoe\u0308") == "Zoë"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("..", "'/'"),
        (".hidden", "start with '.'"),
        ("a/b", "'/'"),
        ("a\\b", "'/'"),
        ("tab\tname", "TAB|U\\+0009"),
        ("nul\0name", "U\\+0000"),
        ("new\nline", "U\\+000A"),
        ("rtl\u202eoverride", "RIGHT-TO-LEFT OVERRIDE"),
        ("semi;colon", "SEMICOLON"),
        ("\u0301accent first", "start with a letter"),
        ("-dash first", "start with a letter"),
        ("Unknown", "reserved"),
        ("x" * 65, "64 characters"),
        ("\U00020000" * 64, "bytes"),  # 64 letters, 256 bytes: more than a file name holds
    ],
)
def test_bad_names_are_refused_saying_why(name: str, reason: str) -> None:
    with pytest.raises(BadName, match=reason):
        clean_name(name)


def test_length_counts_a_letter_with_its_marks_once() -> None:
    assert visible_length("अनुष्का") == 4  # अ न ु ष ् क ा: four letters, three marks
    heavy = "क\u094d" * 64  # 64 letters each with a virama: 64 characters, 384 bytes
    assert visible_length(heavy) == 64
    with pytest.raises(BadName, match="bytes"):
        clean_name(heavy)
    fits = "क" * 64  # 192 bytes
    assert len(fits.encode()) <= MAX_NAME_BYTES
    assert clean_name(fits) == fits


@pytest.mark.parametrize("photo_id", ["", ".x.jpg", "a/b.jpg", "a\\b.jpg", "nul\0.jpg", "é" * 150 + ".jpg"])
def test_bad_photo_ids_are_refused(photo_id: str) -> None:
    with pytest.raises(BadName):
        clean_photo_id(photo_id)


def test_a_plain_photo_id_is_kept() -> None:
    assert clean_photo_id("0123456789abcdef.jpg") == "0123456789abcdef.jpg"
    assert clean_photo_id("Grace Hopper é.png") == "Grace Hopper é.png"
