"""The words a collector is found by."""

from discorecs.core.names import name_words


def test_words_of_a_name_and_a_username_case_folded_and_distinct() -> None:
    assert name_words("Jean-Luc O'Brien", "jeanluc_77") == {
        "jean",
        "luc",
        "o",
        "brien",
        "jeanluc",
        "77",
    }
    assert name_words("Ada ADA ada") == {"ada"}


def test_unicode_names_are_normalised_so_a_typed_search_meets_the_stored_words() -> None:
    assert name_words("Björk Guðmundsdóttir") == name_words("BJÖRK guðmundsdóttir")
    assert name_words("Ｍａｒｉａ") == {"maria"}  # full-width letters, NFKC
    assert name_words("Straße") == {"strasse"}  # case folding, not lower()


def test_no_text_or_no_letters_holds_no_word() -> None:
    assert name_words(None, "", " -_- ") == frozenset()
