"""Times the reference (chail/anyres-gan) StyleGAN3 generator forward on the CPU, for comparison with
`AnyRes.Bench generator`. Same settings: random init (torch.manual_seed(0)), eval, no autograd, identity transforms,
median of --iters forwards after --warmup, 2 threads. The reference is imported from $ANYRES_REFERENCE
(default /work/reference/anyres-gan); its custom CUDA plugins are disabled so every op runs its reference path.

usage: python3 bench/reference/generator_forward.py [--cfg stylegan3-t] [--size 256] [--tiny] [--batch 4] [--iters 10] [--warmup 1] [--threads 2]
"""
import argparse
import os
import resource
import sys
import time

import torch

ref = os.environ.get('ANYRES_REFERENCE', '/work/reference/anyres-gan')
sys.path.insert(0, ref)
from torch_utils.ops import bias_act, filtered_lrelu, upfirdn2d  # noqa: E402
for op in (bias_act, filtered_lrelu, upfirdn2d):
    op._init = lambda: False  # never build or load the CUDA plugins
from training.networks_stylegan3 import Generator  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--cfg', default='stylegan3-t', choices=['stylegan3-t', 'stylegan3-r'])
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--tiny', action='store_true', help='channel_max 64 and 64-d latents (GeneratorOptions.Tiny)')
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    # train.py's G_kwargs for --cfg (batch 32 -> magnitude_ema_beta), mapping depth 2.
    kw = dict(z_dim=512, w_dim=512, c_dim=0, img_resolution=a.size, img_channels=3, channel_base=32768, channel_max=512,
              magnitude_ema_beta=0.5 ** (32 / (20 * 1e3)), mapping_kwargs=dict(num_layers=2))
    if a.cfg == 'stylegan3-r':
        kw.update(conv_kernel=1, channel_base=65536, channel_max=1024, use_radial_filters=True)
    if a.tiny:
        kw.update(z_dim=64, w_dim=64, channel_max=64)
    torch.manual_seed(0)
    G = Generator(**kw).eval()
    z = torch.randn(a.batch, G.z_dim)
    c = torch.zeros(a.batch, 0)

    def forward():
        with torch.no_grad():
            t = time.perf_counter()
            G(z, c).sum().item()
            return time.perf_counter() - t

    for _ in range(a.warmup):
        forward()
    times = [forward() for _ in range(a.iters)]
    s = sorted(times)
    median = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    params = sum(p.numel() for p in G.parameters())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name = 'tiny' if a.tiny else a.cfg
    print(f'reference generator {name} {a.size}px ({params / 1e6:.2f} M params, channel_max {kw["channel_max"]}), batch {a.batch}, '
          f'{a.threads} threads, torch {torch.__version__}: median {median:.3f} s over {a.iters} (min {s[0]:.3f}, max {s[-1]:.3f}); '
          f'all: {" ".join(f"{t:.3f}" for t in times)}')
    print(f'memory: peak RSS {peak:.0f} MiB')


if __name__ == '__main__':
    main()
