"""vCard files both ways: written as 3.0 with RFC 6350's escaping and folding, read back
whatever the exporter (3.0, 4.0, 2.1 with quoted-printable), with French accents, commas,
semicolons and long lines; bad cards reported by line, never half read."""

from __future__ import annotations

import pytest

from convergence.mail import vcard
from convergence.mail.vcard import Card, parse, serialize

ELODIE = Card(
    address="elodie.lefevre@exemple.fr",
    name="Élodie Lefèvre-Dubœuf",
    phone="+33 6 12 34 56 78",
    organisation="Association des parents d'élèves, Collège Victor Hugo; Besançon",
    note="Présidente; à joindre le soir, après 18 h\nDeuxième ligne, avec \\ barre oblique",
)


def _one(text: str) -> Card:
    parsed = parse(text, max_cards=10)
    assert parsed.problems == []
    [card] = parsed.cards
    return card


# Writing.


def test_special_characters_are_escaped():
    assert vcard.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_a_card_is_vcard_3_with_crlf_line_ends():
    text = serialize([ELODIE])
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert text.endswith("END:VCARD\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "EMAIL;TYPE=INTERNET:elodie.lefevre@exemple.fr\r\n" in text
    assert "N:Lefèvre-Dubœuf;Élodie;;;\r\n" in text
    assert "ORG:Association des parents d'élèves\\, Collège Victor Hugo\\; Besançon" in (
        text.replace("\r\n ", "")
    )


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character():
    note = "é" * 100 + "x" * 30  # 230 octets of UTF-8
    text = serialize([Card(address="a@exemple.fr", note=note)])
    lines = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    continuations = [line for line in lines if line.startswith(" ")]
    assert len(continuations) >= 3
    for line in lines:
        line.encode().decode()  # each physical line is whole UTF-8
    assert _one(text).note == note


def test_fold_keeps_short_lines_as_they_are():
    assert vcard.fold("FN:Léa") == "FN:Léa"


# Both ways.


def test_a_card_comes_back_as_it_was_written():
    card = _one(serialize([ELODIE]))
    assert card.address == ELODIE.address
    assert card.name == ELODIE.name
    assert card.phone == ELODIE.phone
    assert card.organisation == ELODIE.organisation
    assert card.note == ELODIE.note
    assert (card.family_name, card.given_name) == ("Lefèvre-Dubœuf", "Élodie")


def test_several_cards_come_back_in_order():
    cards = [
        Card(address=f"parent{number}@exemple.fr", name=f"Parent n°{number}, 4e B")
        for number in range(5)
    ]
    parsed = parse(serialize(cards), max_cards=10)
    assert [card.name for card in parsed.cards] == [card.name for card in cards]
    assert [card.line for card in parsed.cards] == [1, 7, 13, 19, 25]


# Reading what others write.


def test_vcard_4_with_lf_line_ends_groups_and_preferences():
    text = (
        "BEGIN:VCARD\nVERSION:4.0\nFN:Jean-Noël Côté\nN:Côté;Jean-Noël;;;\n"
        "item1.EMAIL;TYPE=home:jn.cote@exemple.fr\n"
        'EMAIL;TYPE="work,pref":jean-noel.cote@exemple.com\n'
        "TEL;VALUE=uri;TYPE=cell:tel:+33-6-00-00-00-00\nORG:Mairie;Service scolaire\n"
        "END:VCARD\n"
    )
    card = _one(text)
    assert card.address == "jean-noel.cote@exemple.com"
    assert card.phone == "+33-6-00-00-00-00"
    assert card.organisation == "Mairie, Service scolaire"


def test_vcard_2_1_quoted_printable_from_an_old_phone():
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:L=C3=A9on;Fran=C3=A7ois\r\n"
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Fran=C3=A7ois L=C3=A9on=20de=20la=20=\r\n"
        "Tour\r\n"
        "EMAIL;PREF;INTERNET:francois.leon@exemple.fr\r\nEND:VCARD\r\n"
    )
    card = _one(text)
    assert card.name == "François Léon de la Tour"
    assert card.address == "francois.leon@exemple.fr"


def test_a_name_is_made_from_n_when_fn_is_missing():
    card = _one("BEGIN:VCARD\r\nN:Martin;Léa;;;\r\nEMAIL:lea@exemple.fr\r\nEND:VCARD\r\n")
    assert card.name == "Léa Martin"


def test_a_windows_1252_file_is_read():
    data = "BEGIN:VCARD\r\nFN:Hélène\r\nEMAIL:h@exemple.fr\r\nEND:VCARD\r\n".encode("cp1252")
    assert _one(vcard.decode(data)).name == "Hélène"


def test_a_utf8_byte_order_mark_is_dropped():
    data = "\ufeffBEGIN:VCARD\r\nFN:Zoé\r\nEMAIL:z@exemple.fr\r\nEND:VCARD\r\n".encode()
    assert _one(vcard.decode(data)).name == "Zoé"


# Bad cards.


def test_bad_cards_are_reported_by_line_and_the_good_ones_kept():
    text = (
        "BEGIN:VCARD\r\nFN:Sans adresse\r\nTEL:0102030405\r\nEND:VCARD\r\n"  # line 1
        "BEGIN:VCARD\r\nFN:Bonne\r\nEMAIL:bonne@exemple.fr\r\nEND:VCARD\r\n"  # line 5
        "BEGIN:VCARD\r\nFN:Mauvaise\r\nEMAIL:pas une adresse\r\nEND:VCARD\r\n"  # line 9
        "BEGIN:VCARD\r\nFN:Illisible\r\nceci n'est pas une propriété\r\n"  # line 13
        "EMAIL:illisible@exemple.fr\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nFN:Pas finie\r\nEMAIL:pasfinie@exemple.fr\r\n"  # line 18
    )
    parsed = parse(text, max_cards=10)
    assert [card.address for card in parsed.cards] == ["bonne@exemple.fr"]
    assert [(problem.line, problem.reason) for problem in parsed.problems] == [
        (1, "la fiche n'a pas d'adresse électronique (EMAIL)."),
        (9, "« pas une adresse » n'est pas une adresse électronique valide."),
        (15, "ligne illisible (il y manque « : »)."),
        (18, "la fiche n'est pas terminée par END:VCARD."),
    ]


def test_a_value_longer_than_the_book_keeps_is_reported():
    text = f"BEGIN:VCARD\r\nFN:{'a' * 121}\r\nEMAIL:long@exemple.fr\r\nEND:VCARD\r\n"
    [problem] = parse(text, max_cards=10).problems
    assert problem.reason == "le nom dépasse 120 caractères."


def test_too_many_cards_refuse_the_whole_file():
    text = serialize([Card(address=f"p{n}@exemple.fr") for n in range(4)])
    with pytest.raises(vcard.VCardError, match="plus de 3 fiches"):
        parse(text, max_cards=3)


@pytest.mark.parametrize("text", ["", "Bonjour\r\n", "FN:Personne\r\n"])
def test_a_file_without_any_card_is_refused(text):
    with pytest.raises(vcard.VCardError, match="Aucune fiche vCard"):
        parse(text, max_cards=10)


def test_a_binary_file_is_refused():
    with pytest.raises(vcard.VCardError, match="pas un fichier texte"):
        vcard.decode(b"\x89PNG\r\n\x1a\n\x00\x00")
