"""A tiny CLIP whose embeddings are set by hand, so that what it scores is known: an image embeds as its mean
red, lime and blue, a text as the colour words it holds. Saved with its tokenizer and image processor, and
loaded back exactly as a user's model loads."""

from __future__ import annotations

import json
from pathlib import Path

COLOURS = {"red": 0, "lime": 1, "blue": 2}  # words that share no letter pair, so each is one token
OTHER_WORDS = ("a", "clip", "of", "sky", "the", "cat")


def build_tiny_clip(folder: Path) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    merges = []
    for ch in "abcdefghijklmnopqrstuvwxyz":
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    for word in (*COLOURS, *OTHER_WORDS):
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            merges.append(f"{parts[0]} {parts[1]}")
            parts = [parts[0] + parts[1]] + parts[2:]
            vocab.setdefault(parts[0], len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    hidden = 8
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=hidden, intermediate_size=8, num_hidden_layers=1,
                         num_attention_heads=1, max_position_embeddings=16, bos_token_id=0, eos_token_id=1,
                         pad_token_id=1),
        vision_config=dict(hidden_size=hidden, intermediate_size=8, num_hidden_layers=1, num_attention_heads=1,
                           image_size=32, patch_size=8),
        projection_dim=3)
    model = CLIPModel(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for norm in (m for m in model.modules() if isinstance(m, torch.nn.LayerNorm)):
            norm.weight.fill_(1.0)
        for encoder in (model.text_model.encoder, model.vision_model.encoder):
            for layer in encoder.layers:  # uniform attention that carries every token's embedding to the pooled one
                layer.self_attn.v_proj.weight.copy_(torch.eye(hidden))
                layer.self_attn.out_proj.weight.copy_(torch.eye(hidden))
        tokens = model.text_model.embeddings.token_embedding.weight
        tokens[:, 4] = 1.0
        for word, dim in COLOURS.items():
            tokens[vocab[word + "</w>"], dim] = 4.0
        conv = model.vision_model.embeddings.patch_embedding.weight  # each patch's mean R, G, B into dims 0-2
        for channel in range(3):
            conv[channel, channel] = 1.0 / 64
        model.vision_model.embeddings.class_embedding[4] = 1.0
        model.text_projection.weight[:, :3].copy_(torch.eye(3))
        model.visual_projection.weight[:, :3].copy_(torch.eye(3))
        model.logit_scale.fill_(1.0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder
