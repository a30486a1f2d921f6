#!/usr/bin/python3
"""Times one stage-2 training iteration of the reference code (chail/anyres-gan) on the CPU, for bench/train.md:
Gmain (adversarial + teacher loss through training/loss.py, with its per-sample apply_affine_batch loop), Dmain, and Dreg
every 16th iteration, with the optimiser steps and the G_ema update of training/training_loop.py, at batch 4.

LPIPS-AlexNet weights cannot be fetched here, so `util.losses.Masked_LPIPS_Loss` is replaced by the same architecture
(AlexNet trunk + lin0..lin4, spatial, bilinear upsampling) with random weights: identical cost, different values.
Configs: tiny = the AnyRes tiny preset (64 px, channel_base 1024, channel_max 32, z/w 32); sg3t256 = SG3-T 256 (train.sh).
Prints one JSON line per config: median/mean seconds per iteration over --iters after --warmup, phase medians, peak RSS.
"""
import argparse, copy, json, os, random, resource, statistics, sys, time, types

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--config', default='tiny', choices=['tiny', 'sg3t256'])
p.add_argument('--iters', type=int, default=20)
p.add_argument('--warmup', type=int, default=2)
p.add_argument('--threads', type=int, default=2)
args = p.parse_args()

sys.path.insert(0, os.environ.get('ANYRES_REFERENCE', '/work/reference/anyres-gan'))
import dnnlib
sys.modules.setdefault('lpips', types.ModuleType('lpips'))   # util/losses.py imports it; replaced below
if 'torchvision' not in sys.modules:   # util/renormalize.py imports torchvision.transforms at module level (unused here)
    tv = types.ModuleType('torchvision')
    tv.transforms = types.ModuleType('torchvision.transforms')
    tv.transforms.Normalize = lambda *a, **k: None
    sys.modules.update({'torchvision': tv, 'torchvision.transforms': tv.transforms})
from util import losses


class AlexLpips(torch.nn.Module):
    """lpips.LPIPS(net='alex', spatial=True) shape and cost, random weights."""
    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList([torch.nn.Conv2d(3, 64, 11, 4, 2), torch.nn.Conv2d(64, 192, 5, 1, 2), torch.nn.Conv2d(192, 384, 3, 1, 1),
                                          torch.nn.Conv2d(384, 256, 3, 1, 1), torch.nn.Conv2d(256, 256, 3, 1, 1)])
        self.lins = torch.nn.ModuleList([torch.nn.Conv2d(c, 1, 1, bias=False) for c in (64, 192, 384, 256, 256)])
        self.register_buffer('shift', torch.tensor([-.030, -.088, -.188])[None, :, None, None])
        self.register_buffer('scale', torch.tensor([.458, .448, .450])[None, :, None, None])

    def feats(self, x):
        x = (x - self.shift) / self.scale
        out = []
        for i, conv in enumerate(self.convs):
            if i in (1, 2):
                x = F.max_pool2d(x, 3, 2)
            x = F.relu(conv(x))
            out.append(x / (x.square().sum(1, keepdim=True).sqrt() + 1e-10))
        return out

    def forward(self, a, b):
        H, W = a.shape[-2:]
        return sum(F.interpolate(lin((fa - fb) ** 2), size=(H, W), mode='bilinear', align_corners=False)
                   for lin, fa, fb in zip(self.lins, self.feats(a), self.feats(b)))


class MaskedAlex(torch.nn.Module):
    def __init__(self, net='alex', device='cpu', precision='float'):
        super().__init__()
        self.lpips = AlexLpips().eval().to(device)

    def forward(self, im0, im1, w=None):
        loss = self.lpips(im0, im1)
        return torch.sum(loss * w, [1, 2, 3]) / torch.sum(w, [1, 2, 3])


losses.Masked_LPIPS_Loss = MaskedAlex
from training.networks_stylegan3 import Generator
from training.networks_stylegan2 import Discriminator
from training.loss import StyleGAN2Loss
from util import patch_util

torch.set_num_threads(args.threads)
torch.manual_seed(0)
random.seed(0)
B = 4
if args.config == 'tiny':
    res, cbase, cmax, zdim = 64, 1024, 32, 32
else:
    res, cbase, cmax, zdim = 256, 32768, 512, 512
common = dict(z_dim=zdim, c_dim=0, w_dim=zdim, img_resolution=res, img_channels=3, channel_base=cbase, channel_max=cmax,
              magnitude_ema_beta=0.5 ** (B / 20e3), mapping_kwargs=dnnlib.EasyDict(num_layers=2))
G = Generator(training_mode='patch', scale_mapping_kwargs=dnnlib.EasyDict(scale_mapping_min=1, scale_mapping_max=8, scale_mapping_norm='positive'), **common).train().requires_grad_(False)
G_ema = copy.deepcopy(G).eval()
teacher = copy.deepcopy(G).eval()
for name in teacher.synthesis.layer_names:
    getattr(teacher.synthesis, name).use_scale_affine = False
D = Discriminator(c_dim=0, img_resolution=res, img_channels=3, channel_base=cbase, channel_max=cmax,
                  epilogue_kwargs=dnnlib.EasyDict(mbstd_group_size=4)).train().requires_grad_(False)
added = dnnlib.EasyDict(teacher_lambda=5.0, teacher_mode='inverse')
loss = StyleGAN2Loss(device=torch.device('cpu'), G=G, D=D, r1_gamma=2, teacher=teacher, added_kwargs=added)
mb = 16 / 17
optG = torch.optim.Adam(G.parameters(), lr=0.0025, betas=(0, 0.99), eps=1e-8)
optD = torch.optim.Adam(D.parameters(), lr=0.002 * mb, betas=(0, 0.99 ** mb), eps=1e-8)
phases = [('Gmain', G, optG, 1), ('Dmain', D, optD, 1), ('Dreg', D, optD, 16)]


def batch():
    reals = torch.rand([B, 3, res, res]) * 2 - 1
    if random.uniform(0, 1) > 0.5:
        return reals, torch.eye(3)[None].repeat(B, 1, 1)
    ts = []
    for _ in range(B):
        N = int(round(random.uniform(2 * res, 8 * res)))
        x, y = random.randint(0, N - res), random.randint(0, N - res)
        limits = [(y / N * 2 - 1, (y + res) / N * 2 - 1), (x / N * 2 - 1, (x + res) / N * 2 - 1)]
        ts.append(torch.as_tensor(patch_util.construct_transformation_matrix(limits)).float())
    return reals, torch.stack(ts)


times, phase_times = [], {name: [] for name, *_ in phases}
for it in range(args.warmup + args.iters):
    reals, transform = batch()
    zs = torch.randn([len(phases) * B, zdim]).split(B)
    start = time.perf_counter()
    for (name, module, opt, interval), z in zip(phases, zs):
        if it % interval != 0:
            continue
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        module.requires_grad_(True)
        loss.accumulate_gradients(phase=name, real_img=reals, real_c=None, transform=transform, gen_z=z, gen_c=None,
                                  gain=interval, cur_nimg=0, min_scale=1.0, max_scale=1.0)
        module.requires_grad_(False)
        for param in module.parameters():
            if param.grad is not None:
                torch.nan_to_num(param.grad, nan=0, posinf=1e5, neginf=-1e5, out=param.grad)
        opt.step()
        if it >= args.warmup:
            phase_times[name].append(time.perf_counter() - t0)
    with torch.no_grad():
        for p_ema, p_ in zip(G_ema.parameters(), G.parameters()):
            p_ema.copy_(p_.lerp(p_ema, 0.5 ** (B / 10000)))
        for b_ema, b_ in zip(G_ema.buffers(), G.buffers()):
            b_ema.copy_(b_)
    if it >= args.warmup:
        times.append(time.perf_counter() - start)

print(json.dumps(dict(impl='reference', config=args.config, batch=B, resolution=res, iters=args.iters,
                      median_s=round(statistics.median(times), 3), mean_s=round(statistics.mean(times), 3),
                      phase_median_s={k: round(statistics.median(v), 3) for k, v in phase_times.items() if v},
                      peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
                      threads=torch.get_num_threads(), torch=torch.__version__)), flush=True)
