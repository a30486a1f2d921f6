"""Makes discriminator_cond.safetensors: the reference SG2 discriminator with a class label (projection through cmap),
which the public fixture set does not cover (its D has c_dim=0).

    /usr/bin/python3 tests/extra-fixtures/make_discriminator_cond.py /work/reference/anyres-gan tests/extra-fixtures

Runs the reference code itself (CPU, reference ops), float32, seed 0. Same layout as the public fixtures.
"""
import json, struct, sys
import numpy as np
import torch

sys.path.insert(0, sys.argv[1])
from training.networks_stylegan2 import Discriminator

args = dict(c_dim=5, img_resolution=16, img_channels=3, architecture='resnet', channel_base=256, channel_max=32,
            num_fp16_res=0, conv_clamp=256, cmap_dim=None, block_kwargs={'freeze_layers': 0},
            mapping_kwargs={'num_layers': 2}, epilogue_kwargs={'mbstd_group_size': 2})
torch.manual_seed(0)
D = Discriminator(**args).eval()
with torch.no_grad():  # non-zero biases, so a wrong bias path cannot hide
    for k, v in D.named_parameters():
        if k.endswith('bias'):
            v.copy_(torch.randn_like(v) * 0.1)
img = torch.randn([4, 3, 16, 16])
c = torch.nn.functional.one_hot(torch.tensor([0, 3, 1, 4]), 5).float()

x = img.detach().requires_grad_(True)
logits = D(x, c)
r1_grads = torch.autograd.grad([logits.sum()], [x], create_graph=True)[0]
r1_penalty = r1_grads.square().sum([1, 2, 3])
loss_r1 = (r1_penalty * (2.0 / 2)).mean()
params = dict(D.named_parameters())
grad_r1 = torch.autograd.grad([loss_r1], list(params.values()), retain_graph=True, allow_unused=True)
grad_r1 = [torch.zeros_like(p) if g is None else g for p, g in zip(params.values(), grad_r1)]
loss_real = torch.nn.functional.softplus(-logits).mean()
grad_real = torch.autograd.grad([loss_real], list(params.values()))

tensors = {f'state.{k}': v for k, v in D.state_dict().items()}
tensors.update({'in.img': img, 'in.c': c, 'out.logits': logits, 'out.r1_grads': r1_grads, 'out.r1_penalty': r1_penalty,
                'out.loss_r1': loss_r1, 'out.loss_real': loss_real})
tensors.update({f'grad_r1.{k}': g for k, g in zip(params, grad_r1)})
tensors.update({f'grad_real.{k}': g for k, g in zip(params, grad_real)})

meta = {'module': 'training.networks_stylegan2.Discriminator', 'constructor': args,
        'description': 'conditional D (c_dim=5, cmap projection), gamma=2; grad_r1.* = d(loss_r1)/d(param), grad_real.* = d(mean softplus(-logits))/d(param)'}
header, blobs, offset = {'__metadata__': {'format': 'pt', 'fixture': json.dumps(meta)}}, [], 0
for name, t in tensors.items():
    a = t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
    header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(a)]}
    blobs.append(a); offset += len(a)
h = json.dumps(header).encode()
h += b' ' * (-len(h) % 8)
with open(f'{sys.argv[2]}/discriminator_cond.safetensors', 'wb') as f:
    f.write(struct.pack('<Q', len(h))); f.write(h); [f.write(b) for b in blobs]
print('logits', logits.detach().flatten().tolist())
