import hashlib
import json

import pytest
from papershelf.data import read_records, read_text_classification, synthetic_text_classification
from papershelf.errors import UserError


def test_jsonl_and_csv(tmp_path):
    (tmp_path / "d.jsonl").write_text(
        '{"text": "a", "label": "pos"}\n\n{"text": "b", "label": "neg"}\n'
    )
    data = read_text_classification(tmp_path / "d.jsonl")
    assert data.texts == ["a", "b"] and data.label_names == ["neg", "pos"] and data.labels == [1, 0]
    (tmp_path / "d.csv").write_text("text,label\nhello,1\nworld,0\n")
    assert read_text_classification(tmp_path / "d.csv").labels == [1, 0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad.jsonl",
            '{"text": "a", "label": 0}\n{"text": "b", label: 1}\n',
            r"bad\.jsonl:2: not valid JSON",
        ),
        (
            "list.jsonl",
            '{"text": "a", "label": 0}\n[1, 2]\n',
            r"list\.jsonl:2: expected a JSON object",
        ),
        (
            "missing.jsonl",
            '{"text": "a", "label": 0}\n\n{"text": "b"}\n',
            r"missing\.jsonl:3: field 'label'",
        ),
        ("empty.jsonl", "\n", "has no records"),
        ("wide.csv", "text,label\na,0\nb,1,extra\n", r"wide\.csv:3: more values"),
        ("data.txt", "a\n", "must end in .jsonl or .csv"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(UserError, match=message):
        read_records(tmp_path / name, required=("text", "label"))


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_records(tmp_path / "nope.jsonl")


def test_synthetic_task_is_seeded_balanced_and_holds_out_words():
    a = synthetic_text_classification(num_classes=3, n_train=60, n_test=30, seed=1)
    b = synthetic_text_classification(num_classes=3, n_train=60, n_test=30, seed=1)
    assert a.train.texts == b.train.texts and a.test.labels == b.test.labels
    assert sorted(a.train.labels) == sorted([0, 1, 2] * 20)
    from papershelf.data import CATEGORIES, FILLER

    topic = {w for words in CATEGORIES.values() for w in words} - set(FILLER)
    train_words = {w for t in a.train.texts for w in t.split()} & topic
    test_words = {w for t in a.test.texts for w in t.split()} & topic
    assert not train_words & test_words


def _digest(task) -> str:
    blob = [task.train.texts, task.train.labels, task.test.texts, task.test.labels]
    return hashlib.sha256(json.dumps([*blob, task.train.label_names]).encode()).hexdigest()[:16]


# Pinned on the code before the word list moved to papershelf/resources/topic_words.json:
# the synthetic task must stay byte-identical for a seed, or every claim built on it moves.
@pytest.mark.parametrize(
    ("kwargs", "digest", "first_train_text"),
    [
        (
            {"num_classes": 4, "n_train": 64, "n_test": 32, "seed": 0},
            "2b288b638899cad7",
            "plane limousine a which wolf from each before such from van it",
        ),
        (
            {"num_classes": 8, "n_train": 200, "n_test": 100, "seed": 3, "words_per_text": 8},
            "c57c9d98484611be",
            "egg beef opera apple only where this of",
        ),
    ],
)
def test_synthetic_task_is_unchanged(kwargs, digest, first_train_text):
    task = synthetic_text_classification(**kwargs)
    assert task.train.texts[0] == first_train_text
    assert _digest(task) == digest


def test_synthetic_task_with_tokenizer_is_unchanged():
    from papershelf.models import offline_encoder_path
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(offline_encoder_path())
    task = synthetic_text_classification(tokenizer, num_classes=4, n_train=64, n_test=32, seed=0)
    assert (
        task.train.texts[0] == "more which which such pasta canoe this from much taxi truck before"
    )
    assert _digest(task) == "72c459de30592952"


def test_word_list_is_the_shipped_data_file():
    from importlib.resources import files

    from papershelf.data import CATEGORIES, FILLER, TOPIC_WORDS_FILE

    doc = json.loads(files("papershelf").joinpath(TOPIC_WORDS_FILE).read_text(encoding="utf-8"))
    assert list(CATEGORIES) == list(doc["categories"]) == [
        "animals", "food", "vehicles", "body", "jobs", "sports", "weather", "music",
    ]  # fmt: skip
    assert CATEGORIES["music"][-1] == "piano" and FILLER[:3] == ("the", "a", "of")
    assert sum(map(len, CATEGORIES.values())) + len(FILLER) == 300


@pytest.mark.parametrize(
    "kwargs", [{"num_classes": 1}, {"num_classes": 99}, {"n_train": 1}, {"topic_words": 20}]
)
def test_synthetic_task_bad_values(kwargs):
    with pytest.raises(UserError):
        synthetic_text_classification(**kwargs)


def _linear_probe_accuracy(model, tokenizer, task):
    import torch

    def embed(texts):
        batch = tokenizer(texts, return_tensors="pt", padding=True)
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1)
        return (hidden * mask).sum(1) / mask.sum(1)

    x_train, x_test = embed(task.train.texts), embed(task.test.texts)
    y_train, y_test = torch.tensor(task.train.labels), torch.tensor(task.test.labels)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    torch.manual_seed(0)
    probe = torch.nn.Linear(x_train.shape[1], task.num_classes)
    opt = torch.optim.Adam(probe.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(probe(x_train), y_train).backward()
        opt.step()
    return (probe(x_test).argmax(-1) == y_test).float().mean().item()


def test_pretrained_encoder_beats_random_one():
    import torch
    from papershelf.models import load_model
    from transformers import AutoModel

    pretrained, tokenizer = load_model("offline")
    torch.manual_seed(0)
    random_init = AutoModel.from_config(pretrained.config)
    task = synthetic_text_classification(tokenizer, num_classes=4, n_train=256, n_test=256, seed=0)
    acc_pre = _linear_probe_accuracy(pretrained.eval(), tokenizer, task)
    acc_rand = _linear_probe_accuracy(random_init.eval(), tokenizer, task)
    assert acc_pre > 0.6, acc_pre
    assert acc_pre > acc_rand + 0.2, (acc_pre, acc_rand)


def test_check_utf8_names_the_file_and_line(tmp_path):
    import pytest
    from papershelf.data import check_utf8
    from papershelf.errors import UserError

    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"text": "fine"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(UserError, match=r"^train.jsonl:2: not UTF-8 \(byte 0xe9"):
        check_utf8(path)
    check_utf8(None)
