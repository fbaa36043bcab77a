import numpy as np
import pytest
import torch
from ottawa.encoder import WordEncoder


def test_first_subtoken_mapping_with_cls_offset(encoder):
    tok = encoder.tokenizer
    word = "antidisestablishmentarianism"
    pieces = tok([word], add_special_tokens=False)["input_ids"][0]
    assert len(pieces) >= 3
    sentence = f"the {word} cat"
    wv = encoder.encode([sentence])[0]
    assert wv.words == ["the", word, "cat"]
    assert wv.vectors.dtype == np.float64 and wv.vectors.shape == (
        3,
        encoder.model.config.hidden_size,
    )
    ids = [
        tok.cls_token_id,
        *tok(["the"], add_special_tokens=False)["input_ids"][0],
        *pieces,
        *tok(["cat"], add_special_tokens=False)["input_ids"][0],
        tok.sep_token_id,
    ]
    with torch.no_grad():
        h = encoder.model(input_ids=torch.tensor([ids])).last_hidden_state[0].double().numpy()
    np.testing.assert_allclose(wv.vectors[0], h[1], atol=1e-5)  # [CLS] shifts by one
    np.testing.assert_allclose(wv.vectors[1], h[2], atol=1e-5)  # first piece of the long word
    np.testing.assert_allclose(wv.vectors[2], h[2 + len(pieces)], atol=1e-5)


def test_mean_pool_and_batch_equals_single(encoder):
    mean = WordEncoder(
        "offline", subword_pool="mean", model=encoder.model, tokenizer=encoder.tokenizer
    )
    s = ["the antidisestablishmentarianism cat", "a b c d e f g"]
    batch = mean.encode(s)
    single = WordEncoder(
        "offline", subword_pool="mean", model=encoder.model, tokenizer=encoder.tokenizer
    )
    np.testing.assert_allclose(batch[0].vectors, single.encode(s[:1])[0].vectors, atol=1e-5)
    first = encoder.encode(s[:1])[0].vectors
    assert not np.allclose(batch[0].vectors[1], first[1])  # pooling differs on the long word
    np.testing.assert_allclose(batch[0].vectors[0], first[0], atol=1e-5)  # one-piece word: same
    tok = encoder.tokenizer
    pieces = [tok([w], add_special_tokens=False)["input_ids"][0] for w in s[0].split()]
    ids = [tok.cls_token_id, *[i for p in pieces for i in p], tok.sep_token_id]
    with torch.no_grad():
        h = encoder.model(input_ids=torch.tensor([ids])).last_hidden_state[0].double().numpy()
    start = 1 + len(pieces[0])  # the long word's pieces follow [CLS] and "the"
    np.testing.assert_allclose(  # the explicit mean of its pieces' states
        batch[0].vectors[1], h[start : start + len(pieces[1])].mean(axis=0), atol=1e-5
    )


def test_cache_encodes_each_sentence_once(encoder):
    enc = WordEncoder("offline", model=encoder.model, tokenizer=encoder.tokenizer)
    calls = []
    forward = enc._forward
    enc._forward = lambda ids: calls.append(len(ids)) or forward(ids)
    enc.encode(["x y z", "x y z", "u v"])
    enc.encode(["u v"])
    assert calls == [2]


def test_encoder_errors(encoder, monkeypatch):
    enc = WordEncoder("offline", model=encoder.model, tokenizer=encoder.tokenizer, max_length=8)
    with pytest.raises(ValueError, match=r"sentence 0 \(0-based\): has no words"):
        enc.encode(["   "])
    with pytest.raises(ValueError, match="exceed the encoder limit 8"):
        enc.encode(["one two three four five six seven eight"])
    cut = WordEncoder(
        "offline", model=encoder.model, tokenizer=encoder.tokenizer, max_length=8, truncate=True
    )
    assert cut.encode(["one two three four five six seven eight"])[0].vectors.shape[0] == 8
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="--encoder offline"):
        WordEncoder("no-such-org/no-such-model")


def test_sentence_embeddings_are_unit(encoder):
    E = encoder.encode_sentences(["the cat sat", "a dog ran"])
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0)


def test_cache_smaller_than_one_call_loses_nothing(encoder):
    # a cache of 1 used to re-encode every sentence one by one (encode) or raise KeyError
    # (encode_sentences) when a call held more distinct sentences than the cache
    small = WordEncoder("offline", model=encoder.model, tokenizer=encoder.tokenizer, cache_size=1)
    calls = []
    forward = small._forward
    small._forward = lambda ids: calls.append(len(ids)) or forward(ids)
    s = ["the cat sat", "a dog ran", "the cat sat", "birds fly south"]
    got = small.encode(s)
    assert calls == [3]
    for g, want in zip(got, encoder.encode(s), strict=True):
        np.testing.assert_allclose(g.vectors, want.vectors, atol=1e-5)
    E = small.encode_sentences(s)
    np.testing.assert_allclose(E, encoder.encode_sentences(s), atol=1e-5)
    assert len(small._cache) == len(small._sent_cache) == 1


def test_sentence_pooling_of_a_cached_hub_name(encoder, tmp_path, monkeypatch):
    # a hub name loaded from the local cache (e.g. sentence-transformers/LaBSE) must read its
    # pooling config there too; it used to look for a folder named after the hub id -> "mean"
    import huggingface_hub

    cfg = tmp_path / "1_Pooling" / "config.json"
    cfg.parent.mkdir()
    cfg.write_text('{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}')
    cache = {("some-org/labse-like", "1_Pooling/config.json"): str(cfg)}
    monkeypatch.setattr(
        huggingface_hub, "try_to_load_from_cache", lambda repo, name, **_: cache.get((repo, name))
    )
    kw = {"model": encoder.model, "tokenizer": encoder.tokenizer}
    assert WordEncoder("some-org/labse-like", **kw).pooling == "cls"
    assert WordEncoder("some-org/not-cached", **kw).pooling == "mean"
    assert WordEncoder(str(tmp_path), **kw).pooling == "cls"  # a local folder
    assert encoder.pooling == "mean"  # the bundled MiniLM


def test_cjk_splitter_cuts_han_and_kana_and_keeps_other_scripts():
    from ottawa.encoder import split_words, word_spans

    text = "我爱北京。 hello  wörld カタカナ"
    assert split_words(text, "cjk") == [
        "我",
        "爱",
        "北",
        "京",
        "。",
        "hello",
        "wörld",
        "カ",
        "タ",
        "カ",
        "ナ",
    ]
    assert split_words(text, "whitespace") == ["我爱北京。", "hello", "wörld", "カタカナ"]
    assert [text[a:b] for a, b in word_spans(text, "cjk")] == split_words(text, "cjk")
    with pytest.raises(ValueError, match="splitter"):
        split_words(text, "bogus")


def test_cjk_encoder_gives_one_vector_per_character(encoder):
    from ottawa.encoder import WordEncoder

    enc = WordEncoder(model=encoder.model, tokenizer=encoder.tokenizer, splitter="cjk")
    (wv,) = enc.encode(["猫 sat 在垫子上"])
    assert wv.words == ["猫", "sat", "在", "垫", "子", "上"] and wv.vectors.shape[0] == 6


def test_labse_style_dense_tanh_pooling_is_applied(encoder, tmp_path):
    import json

    import numpy as np
    import torch
    from ottawa.encoder import WordEncoder, offline_encoder_path
    from safetensors.numpy import save_file

    src = offline_encoder_path()
    for f in src.iterdir():
        if f.name not in ("1_Pooling", "modules.json"):
            (tmp_path / f.name).symlink_to(f)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (tmp_path / "2_Dense").mkdir()
    dim = encoder.model.config.hidden_size
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.1, (dim, dim)).astype(np.float32)
    b = rng.normal(0, 0.1, dim).astype(np.float32)
    save_file(
        {"linear.weight": W, "linear.bias": b}, str(tmp_path / "2_Dense" / "model.safetensors")
    )
    (tmp_path / "2_Dense" / "config.json").write_text(
        json.dumps(
            {
                "in_features": dim,
                "out_features": dim,
                "bias": True,
                "activation_function": "torch.nn.modules.activation.Tanh",
            }
        )
    )
    (tmp_path / "modules.json").write_text(
        json.dumps(
            [
                {
                    "idx": 0,
                    "name": "0",
                    "path": "",
                    "type": "sentence_transformers.models.Transformer",
                },
                {
                    "idx": 1,
                    "name": "1",
                    "path": "1_Pooling",
                    "type": "sentence_transformers.models.Pooling",
                },
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Dense",
                    "type": "sentence_transformers.models.Dense",
                },
            ]
        )
    )
    enc = WordEncoder(str(tmp_path))
    assert enc.pooling == "cls" and len(enc.dense) == 1
    got = enc.encode_sentences(["the cat sat on the mat"])[0]
    with torch.inference_mode():
        ids = enc.tokenizer(["the cat sat on the mat"], return_tensors="pt")
        h = enc.model(**ids).last_hidden_state[0, 0].double().numpy()
    want = np.tanh(W.astype(np.float64) @ h + b)
    np.testing.assert_allclose(got, want / np.linalg.norm(want), atol=1e-6)
    # without the Dense module ([CLS] only) the embedding differs
    assert np.abs(got - h / np.linalg.norm(h)).max() > 1e-2
