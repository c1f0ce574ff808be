#!/usr/bin/env python3
# The peer side of `plmw bench --peer`: fair-esm's ESM-2 (facebookresearch/esm, esm/model/esm2.py)
# in PyTorch, with the weights of the same Hugging Face checkpoint, measured on the same cases as
# the workbench. One case per process, so the peak RSS is that of one job, as a user would see it.
#
# fair-esm is imported from $FAIR_ESM (a checkout) or an installed `esm` package. The strong
# settings are applied by the caller's environment (OPENBLAS_CORETYPE for this CPU's kernel,
# OMP_WAIT_POLICY=PASSIVE) and here: torch.inference_mode() for inference, torch.set_num_threads.
#
# usage: bench-peer.py '{"model": DIR, "case": {...}, "threads": 2, "repeats": 3}'
# prints one JSON object: load and first-batch seconds, per-repeat seconds, peak RSS bytes.
import json
import os
import random
import sys
import time


def rss_bytes(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    return 0


def read_safetensors(files):
    """name -> (path, dtype, shape, offset, length) over one or more safetensors files."""
    out = {}
    for path in files:
        with open(path, 'rb') as f:
            n = int.from_bytes(f.read(8), 'little')
            header = json.loads(f.read(n))
        for name, v in header.items():
            if name == '__metadata__':
                continue
            a, b = v['data_offsets']
            out[name] = (path, v['dtype'], v['shape'], 8 + n + a, b - a)
    return out


def checkpoint_files(model_dir):
    single = os.path.join(model_dir, 'model.safetensors')
    if os.path.exists(single):
        return [single]
    with open(os.path.join(model_dir, 'model.safetensors.index.json')) as f:
        shards = sorted(set(json.load(f)['weight_map'].values()))
    return [os.path.join(model_dir, s) for s in shards]


def fair_esm_name(hf):
    """Hugging Face EsmForMaskedLM tensor name -> fair-esm ESM2 state-dict name (None: not a parameter there)."""
    n = hf[4:] if hf.startswith('esm.') else hf
    if n == 'embeddings.word_embeddings.weight':
        return 'embed_tokens.weight'
    if n.startswith('encoder.emb_layer_norm_after.'):
        return 'emb_layer_norm_after.' + n.split('.')[-1]
    if n.startswith('contact_head.') or n.startswith('lm_head.'):
        return None if n == 'lm_head.decoder.weight' else n
    if n.startswith('encoder.layer.'):
        parts = n.split('.')
        i, rest = parts[2], '.'.join(parts[3:])
        table = {
            'attention.self.query': 'self_attn.q_proj', 'attention.self.key': 'self_attn.k_proj',
            'attention.self.value': 'self_attn.v_proj', 'attention.output.dense': 'self_attn.out_proj',
            'attention.self.rotary_embeddings': 'self_attn.rot_emb', 'attention.LayerNorm': 'self_attn_layer_norm',
            'intermediate.dense': 'fc1', 'output.dense': 'fc2', 'LayerNorm': 'final_layer_norm',
        }
        for k, v in table.items():
            if rest.startswith(k + '.'):
                return f'layers.{i}.{v}.{rest[len(k) + 1:]}'
    return None


class no_init:
    """Skips PyTorch's random initialisation while the model is built: every value is loaded after."""

    def __enter__(self):
        import torch
        self.saved = {}
        for name in ['uniform_', 'normal_', 'xavier_uniform_', 'xavier_normal_', 'kaiming_uniform_', 'kaiming_normal_', 'constant_', 'zeros_', 'ones_']:
            self.saved[name] = getattr(torch.nn.init, name)
            setattr(torch.nn.init, name, lambda t, *a, **k: t)
        self.resets = {}
        for cls in [torch.nn.Linear, torch.nn.Embedding, torch.nn.LayerNorm]:
            self.resets[cls] = cls.reset_parameters
            cls.reset_parameters = lambda self: None

    def __exit__(self, *exc):
        import torch
        for name, f in self.saved.items():
            setattr(torch.nn.init, name, f)
        for cls, f in self.resets.items():
            cls.reset_parameters = f


def load_model(model_dir):
    import numpy as np
    import torch
    import esm
    with open(os.path.join(model_dir, 'config.json')) as f:
        cfg = json.load(f)
    with no_init():
        model = esm.model.esm2.ESM2(num_layers=cfg['num_hidden_layers'], embed_dim=cfg['hidden_size'],
                                    attention_heads=cfg['num_attention_heads'], alphabet='ESM-1b', token_dropout=cfg.get('token_dropout', True))
    params = dict(model.named_parameters())
    params.update(dict(model.named_buffers()))
    tensors = read_safetensors(checkpoint_files(model_dir))
    loaded = set()
    files = {}
    for hf, (path, dtype, shape, off, length) in tensors.items():
        name = fair_esm_name(hf)
        if name is None or name not in params:
            continue
        f = files.setdefault(path, open(path, 'rb'))
        f.seek(off)
        target = params[name].data
        if dtype == 'F32':
            # straight into the parameter's memory: no second copy of the weights at any time
            f.readinto(memoryview(target.numpy()).cast('B'))
        elif dtype in ('F16', 'BF16'):
            raw = np.frombuffer(f.read(length), dtype=np.uint16)
            arr = raw.view(np.float16).astype(np.float32) if dtype == 'F16' else (raw.astype(np.uint32) << 16).view(np.float32)
            target.copy_(torch.from_numpy(arr.reshape(shape)))
        else:
            raise SystemExit(f'{hf}: dtype {dtype} not handled by the peer')
        loaded.add(name)
    for f in files.values():
        f.close()
    missing = [n for n, _ in model.named_parameters() if n not in loaded and n != 'lm_head.weight']
    if missing:
        raise SystemExit(f'peer: parameters not found in the checkpoint: {missing[:5]}')
    model.eval()
    return model


AA = 'LAGVSERTIDPKQNFYMHWC'


def random_batch(alphabet, batch, length, seed):
    import torch
    r = random.Random(seed)
    seqs = [''.join(r.choice(AA) for _ in range(length)) for _ in range(batch)]
    toks = torch.full((batch, length + 2), alphabet.padding_idx, dtype=torch.int64)
    for b, s in enumerate(seqs):
        toks[b, 0] = alphabet.cls_idx
        toks[b, 1:length + 1] = torch.tensor([alphabet.get_idx(c) for c in s])
        toks[b, length + 1] = alphabet.eos_idx
    return toks


class LoraLinear:
    """PEFT's LoRA beside a frozen Linear: y = x W^T + b + (alpha / r) dropout(x) A^T B^T."""

    @staticmethod
    def wrap(linear, r, alpha, p):
        import math
        import torch
        from torch import nn

        class Lora(nn.Module):
            def __init__(self):
                super().__init__()
                self.base = linear
                self.A = nn.Parameter(torch.empty(r, linear.in_features).uniform_(-1 / math.sqrt(linear.in_features), 1 / math.sqrt(linear.in_features)))
                self.B = nn.Parameter(torch.zeros(linear.out_features, r))
                self.drop = nn.Dropout(p)
                self.scale = alpha / r

            def forward(self, x):
                return self.base(x) + (self.drop(x) @ self.A.t() @ self.B.t()) * self.scale

        return Lora()


def train_case(model, case, threads, repeats, seed):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    L = len(model.layers)
    top = case.get('topK') or L
    first = L - top
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in model.layers[first:]:
        a = layer.self_attn
        a.q_proj = LoraLinear.wrap(a.q_proj, 8, 8, 0.1)
        a.k_proj = LoraLinear.wrap(a.k_proj, 8, 8, 0.1)
        a.v_proj = LoraLinear.wrap(a.v_proj, 8, 8, 0.1)
        a.out_proj = LoraLinear.wrap(a.out_proj, 8, 8, 0.1)
    head = nn.Linear(model.embed_dim, 8)
    trainable = [p for n, p in model.named_parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=0.01)
    model.train()
    B, T = case['batch'], case['length']
    steps = repeats + 2  # as the workbench side: the first step is warm-up, the second is reported as first
    batches = [random_batch(model.alphabet, B, T, seed + i) for i in range(steps)]
    labels = [torch.randint(0, 8, (B, T + 2)) for _ in range(steps)]
    cached = None
    if first > 0:
        # the frozen lower blocks' outputs, computed once (as the workbench's reuse does)
        with torch.no_grad():  # inference tensors could not enter autograd below
            cached = []
            for toks in batches:
                x = lower_blocks(model, toks, first)
                cached.append(x.clone())
    times = []
    for i in range(steps):
        t = time.perf_counter()
        toks = batches[i]
        pad = toks.eq(model.padding_idx)
        if cached is not None:
            x = cached[i].clone()
            for layer in model.layers[first:]:
                x, _ = layer(x, self_attn_padding_mask=pad if pad.any() else None)
            x = model.emb_layer_norm_after(x).transpose(0, 1)
        else:
            x = forward_features(model, toks)
        logits = head(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 8), labels[i].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        times.append(time.perf_counter() - t)
    return {'firstSeconds': times[1], 'seconds': times[2:], 'items': B}


def embed(model, toks):
    import torch
    pad = toks.eq(model.padding_idx)
    x = model.embed_scale * model.embed_tokens(toks)
    x = x.masked_fill((toks == model.mask_idx).unsqueeze(-1), 0.0)
    ratio = (toks == model.mask_idx).sum(-1).to(x.dtype) / (~pad).sum(-1)
    x = x * (1 - 0.15 * 0.8) / (1 - ratio)[:, None, None]
    x = x * (1 - pad.unsqueeze(-1).type_as(x))
    return x.transpose(0, 1), pad


def lower_blocks(model, toks, first):
    x, pad = embed(model, toks)
    for layer in model.layers[:first]:
        x, _ = layer(x, self_attn_padding_mask=pad if pad.any() else None)
    return x


def forward_features(model, toks):
    """fair-esm's ESM2.forward up to emb_layer_norm_after, (B, T, E)."""
    x = lower_blocks(model, toks, len(model.layers))
    return model.emb_layer_norm_after(x).transpose(0, 1)


def infer_case(model, case, repeats, seed):
    import torch
    toks = random_batch(model.alphabet, case['batch'], case['length'], seed)
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            t = time.perf_counter()
            out = model(toks)['logits']
            float(out[0, 0, 0])
            times.append(time.perf_counter() - t)
    return {'firstSeconds': times[0], 'seconds': times[1:], 'items': case['batch']}


def main():
    args = json.loads(sys.argv[1])
    fair = os.environ.get('FAIR_ESM')
    if fair:
        sys.path.insert(0, fair)
    t0 = time.perf_counter()
    import torch
    torch.set_num_threads(args.get('threads', 2))
    import esm  # noqa: F401  (fails here, clearly, when fair-esm is missing)
    t = time.perf_counter()
    model = load_model(args['model'])
    load_s = time.perf_counter() - t
    rss_loaded = rss_bytes('VmRSS')
    case = args['case']
    if case['kind'] == 'inference':
        res = infer_case(model, case, args.get('repeats', 2), args.get('seed', 1))
    else:
        res = train_case(model, case, args.get('threads', 2), args.get('repeats', 2), args.get('seed', 1))
    blas = None
    try:
        import threadpoolctl
        blas = [i.get('architecture') for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas']
    except ImportError:
        pass
    print(json.dumps({
        **res, 'loadSeconds': load_s, 'importSeconds': t - t0, 'rssAfterLoad': rss_loaded, 'peakRss': rss_bytes('VmHWM'),
        'versions': {'torch': torch.__version__, 'openblas': blas},
    }))


if __name__ == '__main__':
    main()
