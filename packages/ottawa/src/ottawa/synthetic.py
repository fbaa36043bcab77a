"""Synthetic perturbation benchmark generated in code (English, monolingual).

Each template source sentence (12-23 words) gets six "translations": a copy with benign noise
(clean), three hallucinations (2 inserted content words; an inserted 4-8-word span from another
sentence; an unrelated sentence) and two omissions (2 deleted content words; a deleted
contiguous 35% span). With ``difficulty="hard"`` every variant also carries 1-2 harmless
function-word insertions/deletions ("very", "also", dropped "the"), labelled 0.
Inserted MT words that do not occur in the source, and deleted source words that do not occur
in the MT, are the word-level positives (every word of an unrelated-sentence hallucination,
noise included, unless it occurs in the source). ``difficulty="harder"``: longer sources, single
inserted / deleted words, so sentence-level detection is off the ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DIFFICULTIES", "KINDS", "SynthPair", "make_benchmark"]

DIFFICULTIES = ("easy", "hard", "harder")

KINDS = ("clean", "hall-small", "hall-partial", "hall-full", "omi-small", "omi-partial")
_CLASSES = {  # kind -> (hall_class, omit_class)
    "clean": (1, 1),
    "hall-small": (2, 1),
    "hall-partial": (3, 1),
    "hall-full": (4, 4),
    "omi-small": (1, 2),
    "omi-partial": (1, 3),
}

NOUNS = [
    "farmer",
    "doctor",
    "teacher",
    "pilot",
    "painter",
    "student",
    "soldier",
    "merchant",
    "sailor",
    "nurse",
    "baker",
    "lawyer",
    "child",
    "dog",
    "horse",
    "cat",
    "fox",
    "wolf",
    "bird",
    "lion",
    "journalist",
    "engineer",
    "singer",
    "driver",
    "judge",
    "priest",
    "scientist",
    "fisherman",
    "poet",
    "minister",
]
OBJECTS = [
    "letter",
    "basket",
    "bicycle",
    "violin",
    "lantern",
    "map",
    "ladder",
    "hammer",
    "wagon",
    "carpet",
    "ticket",
    "ring",
    "umbrella",
    "camera",
    "blanket",
    "bottle",
    "mirror",
    "book",
    "kettle",
    "clock",
]
ADJS = [
    "old",
    "young",
    "tall",
    "quiet",
    "angry",
    "tired",
    "clever",
    "brave",
    "famous",
    "lonely",
    "gentle",
    "proud",
    "nervous",
    "cheerful",
    "wealthy",
    "careful",
    "honest",
    "curious",
    "strict",
    "patient",
]
OBJ_ADJS = [
    "red",
    "heavy",
    "broken",
    "wooden",
    "golden",
    "dusty",
    "shiny",
    "small",
    "ancient",
    "cheap",
    "fragile",
    "green",
]
VERBS = [
    "carried",
    "repaired",
    "painted",
    "found",
    "sold",
    "borrowed",
    "dropped",
    "cleaned",
    "hid",
    "delivered",
    "examined",
    "stole",
    "bought",
    "wrapped",
    "opened",
]
PREPS = ["near", "inside", "behind", "across", "beside", "outside"]
PLACES = [
    "river",
    "market",
    "station",
    "church",
    "harbour",
    "forest",
    "bridge",
    "library",
    "castle",
    "garden",
    "hospital",
    "factory",
    "village",
    "stadium",
    "museum",
    "bakery",
]
PLACE_ADJS = ["crowded", "empty", "distant", "northern", "muddy", "narrow", "busy", "silent"]
CONNECTORS = ("and", "while", "because", "after", "before", "but")
ADVERBS = ("slowly", "quickly", "secretly", "carefully", "proudly")
NOISE_INSERT = ("very", "also", "really", "just", "then")
CONTENT_INSERT = (
    "suddenly",
    "purple",
    "electric",
    "enormous",
    "frozen",
    "volcanic",
    "tropical",
    "invisible",
    "furious",
    "medieval",
    "digital",
    "poisonous",
    "thunder",
    "diamond",
)


@dataclass
class SynthPair:
    """One benchmark pair. Classes: 1 = none .. 4 = full; labels: 1 = word in error."""

    src: str
    mt: str
    hall_class: int
    omit_class: int
    src_word_labels: list[int]
    mt_word_labels: list[int]
    kind: str
    direction: str = "en-en"

    @property
    def src_text(self) -> str:
        return self.src

    @property
    def mt_text(self) -> str:
        return self.mt


def _clause(rng: np.random.Generator) -> list[str]:
    words = ["the"]
    if rng.random() < 0.6:
        words.append(rng.choice(ADJS))
    words.append(rng.choice(NOUNS))
    if rng.random() < 0.3:
        words.append(rng.choice(ADVERBS))
    words += [rng.choice(VERBS), "the"]
    if rng.random() < 0.6:
        words.append(rng.choice(OBJ_ADJS))
    words += [rng.choice(OBJECTS), rng.choice(PREPS), "the", rng.choice(PLACES)]
    return [str(w) for w in words]


def _sentence(rng: np.random.Generator) -> list[str]:
    words = _clause(rng)
    if rng.random() < 0.6:
        words += [str(rng.choice(CONNECTORS)), *_clause(rng)]
    else:
        words += [
            str(rng.choice(("in", "at", "by"))),
            "the",
            str(rng.choice(PLACE_ADJS)),
            str(rng.choice(PLACES)),
        ]
    return words


_FUNCTION = {"the", "in", "at", "by", *CONNECTORS}


def _content_positions(tokens: list[tuple[str, int, int | None]]) -> list[int]:
    return [k for k, (w, _, _) in enumerate(tokens) if w not in _FUNCTION]


def _variant(
    kind: str,
    src: list[str],
    other: list[str],
    rng: np.random.Generator,
    noise: bool,
    harder: bool = False,
) -> SynthPair:
    tokens: list[tuple[str, int, int | None]] = [(w, 0, i) for i, w in enumerate(src)]
    src_labels = [0] * len(src)
    n_small = 1 if harder else 2
    if kind == "hall-small":
        for w in rng.choice(
            [c for c in CONTENT_INSERT if c not in src], size=n_small, replace=False
        ):
            tokens.insert(int(rng.integers(1, len(tokens) + 1)), (str(w), 1, None))
    elif kind == "hall-partial":
        length = int(rng.integers(3, 6)) if harder else int(rng.integers(4, 9))
        start = int(rng.integers(0, max(1, len(other) - length + 1)))
        span = other[start : start + length]
        at = int(rng.integers(1, len(tokens) + 1))
        tokens[at:at] = [(w, 1, None) for w in span]
    elif kind == "hall-full":
        tokens = [(w, 1, None) for w in other]
        src_labels = [1] * len(src)
    elif kind == "omi-small":
        for k in sorted(
            rng.choice(_content_positions(tokens), size=n_small, replace=False), reverse=True
        ):
            src_labels[tokens[int(k)][2]] = 1
            del tokens[int(k)]
    elif kind == "omi-partial":
        length = max(1, round((0.2 if harder else 0.35) * len(src)))
        start = int(rng.integers(0, len(src) - length + 1))
        for k in range(start, start + length):
            src_labels[k] = 1
        del tokens[start : start + length]
    if noise:
        # inside a full hallucination every MT word is hallucinated, noise words included
        noise_label = 1 if kind == "hall-full" else 0
        for _ in range(int(rng.integers(1, 4 if harder else 3))):
            thes = [k for k, (w, lab, _) in enumerate(tokens) if w == "the" and lab == 0]
            if thes and rng.random() < 0.5:
                del tokens[int(rng.choice(thes))]
            else:
                tokens.insert(
                    int(rng.integers(1, len(tokens) + 1)),
                    (str(rng.choice(NOISE_INSERT)), noise_label, None),
                )
    hall_class, omit_class = _CLASSES[kind]
    mt_words = [w for w, _, _ in tokens]
    # clean word labels: a hallucinated MT word never occurs in the source, an omitted source
    # word never occurs in the MT (an inserted "the" or a deleted noun that the MT still has
    # elsewhere is not a word-level error: an aligner may rightly link it)
    src_set, mt_set = set(src), set(mt_words)
    return SynthPair(
        src=" ".join(src),
        mt=" ".join(mt_words),
        hall_class=hall_class,
        omit_class=omit_class,
        src_word_labels=[
            int(lab and w not in mt_set) for w, lab in zip(src, src_labels, strict=True)
        ],
        mt_word_labels=[int(lab and w not in src_set) for w, lab, _ in tokens],
        kind=kind,
    )


def make_benchmark(
    n_sentences: int = 120, difficulty: str = "hard", seed: int = 0
) -> list[SynthPair]:
    """``n_sentences`` distinct sources × the six ``KINDS`` (6 n pairs), deterministic in ``seed``.

    ``difficulty``: "easy" (no noise), "hard" (1-2 function-word edits per variant) or
    "harder" (two- and three-clause sources of 23-40 words, one inserted / deleted content word,
    3-5-word spans, 20% deletions, 1-3 function-word edits: detection is off the ceiling).
    """
    if difficulty not in DIFFICULTIES:
        raise ValueError(
            f"difficulty: {difficulty!r} is not allowed; choose {', '.join(DIFFICULTIES)}"
        )
    if int(n_sentences) < 2:
        raise ValueError(f"n_sentences: need at least 2, got {n_sentences}")
    rng = np.random.default_rng(seed)
    sources: list[list[str]] = []
    seen: set[str] = set()
    while len(sources) < n_sentences:
        s = _sentence(rng)
        if difficulty == "harder":
            s = [*s, str(rng.choice(CONNECTORS)), *_clause(rng)]
            if rng.random() < 0.5:
                s = [*s, str(rng.choice(CONNECTORS)), *_clause(rng)]
        if " ".join(s) not in seen:
            seen.add(" ".join(s))
            sources.append(s)
    pairs = []
    for k, src in enumerate(sources):
        for kind in KINDS:
            other = sources[(k + 1 + int(rng.integers(0, n_sentences - 1))) % n_sentences]
            pairs.append(
                _variant(
                    kind, src, other, rng, noise=difficulty != "easy", harder=difficulty == "harder"
                )
            )
    return pairs
