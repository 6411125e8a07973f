"""NCBITaxon: human and the common laboratory animals, with a short lineage, written by hand.

Taxon ids and scientific names are NCBI Taxonomy's (public domain); the common names in other
languages are ours. Strains stay free text on the record, not concepts.
"""

from __future__ import annotations

from ontology import vocab
from ontology._generate.model import Vocabulary

# taxon id -> (scientific name, parent taxon id or "", common names as (text, language))
_TAXA: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "7742": ("Vertebrata", "", (("vertebrates", "en"),)),
    "40674": ("Mammalia", "7742", (("mammals", "en"),)),
    "9443": ("Primates", "40674", (("primates", "en"),)),
    "9989": ("Rodentia", "40674", (("rodents", "en"),)),
    "9975": ("Lagomorpha", "40674", ()),
    "33554": ("Carnivora", "40674", ()),
    "91561": ("Artiodactyla", "40674", (("even-toed ungulates", "en"),)),
    "9787": ("Perissodactyla", "40674", ()),
    "8782": ("Aves", "7742", (("birds", "en"),)),
    "8292": ("Amphibia", "7742", (("amphibians", "en"),)),
    "7898": ("Actinopterygii", "7742", (("ray-finned fishes", "en"),)),
    "9606": (
        "Homo sapiens",
        "9443",
        (("human", "en"), ("humans", "en"), ("Mensch", "de"), ("humain", "fr"), ("man", "en")),
    ),
    "9544": ("Macaca mulatta", "9443", (("rhesus macaque", "en"), ("rhesus monkey", "en"))),
    "9541": (
        "Macaca fascicularis",
        "9443",
        (("cynomolgus monkey", "en"), ("crab-eating macaque", "en"), ("cynomolgus", "en")),
    ),
    "9483": ("Callithrix jacchus", "9443", (("common marmoset", "en"), ("marmoset", "en"))),
    "10090": (
        "Mus musculus",
        "9989",
        (("mouse", "en"), ("mice", "en"), ("house mouse", "en"), ("Maus", "de")),
    ),
    "10116": (
        "Rattus norvegicus",
        "9989",
        (("rat", "en"), ("rats", "en"), ("Norway rat", "en"), ("Ratte", "de")),
    ),
    "10141": ("Cavia porcellus", "9989", (("guinea pig", "en"), ("Meerschweinchen", "de"))),
    "10036": ("Mesocricetus auratus", "9989", (("golden hamster", "en"), ("hamster", "en"))),
    "9986": (
        "Oryctolagus cuniculus",
        "9975",
        (("rabbit", "en"), ("Kaninchen", "de"), ("lapin", "fr")),
    ),
    "9615": ("Canis lupus familiaris", "33554", (("dog", "en"), ("Hund", "de"), ("chien", "fr"))),
    "9685": ("Felis catus", "33554", (("cat", "en"), ("domestic cat", "en"), ("Katze", "de"))),
    "9669": ("Mustela putorius furo", "33554", (("ferret", "en"), ("domestic ferret", "en"))),
    "9823": ("Sus scrofa", "91561", (("pig", "en"), ("swine", "en"), ("Schwein", "de"))),
    "9825": ("Sus scrofa domesticus", "9823", (("domestic pig", "en"), ("minipig", "en"))),
    "9940": ("Ovis aries", "91561", (("sheep", "en"), ("Schaf", "de"), ("mouton", "fr"))),
    "9925": ("Capra hircus", "91561", (("goat", "en"), ("Ziege", "de"))),
    "9913": ("Bos taurus", "91561", (("cattle", "en"), ("cow", "en"), ("bovine", "en"))),
    "9796": ("Equus caballus", "9787", (("horse", "en"), ("Pferd", "de"))),
    "9031": ("Gallus gallus", "8782", (("chicken", "en"),)),
    "8355": ("Xenopus laevis", "8292", (("African clawed frog", "en"), ("xenopus", "en"))),
    "7955": ("Danio rerio", "7898", (("zebrafish", "en"), ("Zebrafisch", "de"))),
    "7227": ("Drosophila melanogaster", "", (("fruit fly", "en"),)),
    "6239": ("Caenorhabditis elegans", "", (("C. elegans", "en"), ("nematode", "en"))),
}


def species() -> Vocabulary:
    v = Vocabulary(
        name="ncbitaxon-lab",
        scheme=vocab.SCHEME + "ncbitaxon-lab",
        title="NCBITaxon: human and laboratory animals",
        version="curated 2025",
        source="NCBI Taxonomy ids and scientific names, selected by hand",
        licence="NCBI Taxonomy: public domain; common names ours (Apache-2.0)",
        note="A small slice of NCBITaxon with a shortened lineage (class, order).",
    )
    for taxon, (name, parent, common) in _TAXA.items():
        concept = v.concept(vocab.NCBITAXON + taxon, name)
        if parent:
            concept.broader.add(vocab.NCBITAXON + parent)
        for text, lang in common:
            concept.add_alt(text, lang)
    return v
