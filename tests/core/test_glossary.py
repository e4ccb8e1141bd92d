"""The glossary: every entry is reachable, searchable and its cross-references resolve."""

from __future__ import annotations

from convstudio.core.blocks import BLOCKS
from convstudio.core.glossary import GLOSSARY, search, terms_for

REQUIRED = ("stride", "padding", "output_size", "parameters", "receptive_field", "feature_map", "pooling",
            "dropout", "batch_norm", "softmax", "cross_entropy", "learning_rate", "epoch", "batch",
            "overfitting", "skip_connection", "inception", "grad_cam")


def test_the_concepts_users_ask_about_are_defined_and_links_resolve():
    assert set(REQUIRED) <= set(GLOSSARY)
    for t in GLOSSARY.values():
        assert t.text.strip() and t.title.strip()
        assert set(t.see_also) <= set(GLOSSARY), t.key
        assert set(t.kinds) <= set(BLOCKS), t.key


def test_search_finds_titles_before_mentions_and_empty_lists_all():
    hits = [t.key for t in search("stride")]
    assert hits[0] == "stride" and "output_size" in hits[1:]
    assert len(search("")) == len(GLOSSARY)
    assert search("no such concept") == []


def test_every_block_with_parameters_has_an_entry():
    for kind, spec in BLOCKS.items():
        if spec.params:
            assert terms_for(kind, [p.name for p in spec.params]), kind
    assert "padding" in [t.key for t in terms_for("MaxPool2D", ["padding"])]
