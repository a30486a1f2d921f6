#!/usr/bin/python3
"""Times the reference tile loop (util/patch_util.generate_full_from_patches + scale_condition_wrapper, as in the
notebook demo) on the CPU for the AnyRes render benchmark (bench/render.md).

For a W x H output the reference can only render an N x N canvas (N = max(W, H)); it then keeps the centred W x H
crop. --tiles all renders every tile of the canvas (what the reference code does); --tiles crop renders only the tiles
whose box meets the crop (a generous variant: the fewest tiles the reference loop needs for that output).
Prints one JSON line per size: tiles, seconds, tiles/s, output Mpixel/s, peak RSS.
"""
import argparse, json, os, resource, sys, time

import torch

p = argparse.ArgumentParser()
p.add_argument('--sizes', default='1024x1024,4096x2048', help='comma-separated WxH')
p.add_argument('--resolution', type=int, default=256, help='generator output size p')
p.add_argument('--cfg', default='stylegan3-t', choices=['stylegan3-t', 'stylegan3-r'])
p.add_argument('--mode', default='patch', choices=['patch', 'global'], help='stage 2 (scale branch) or stage 1 generator')
p.add_argument('--tiles', default='crop', choices=['crop', 'all'])
p.add_argument('--max-tiles', type=int, default=0, help='stop after this many tiles (0 = all); throughput is then per tile')
p.add_argument('--threads', type=int, default=2)
p.add_argument('--seed', type=int, default=0)
args = p.parse_args()

sys.path.insert(0, os.environ.get('ANYRES_REFERENCE', '/work/reference/anyres-gan'))
import dnnlib
from training.networks_stylegan3 import Generator
from util import patch_util

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
kwargs = dnnlib.EasyDict(channel_base=32768, channel_max=512, magnitude_ema_beta=0.5 ** (32 / 20e3),
                         num_fp16_res=4, conv_clamp=256, mapping_kwargs=dnnlib.EasyDict(num_layers=2))
if args.cfg == 'stylegan3-r':
    kwargs.update(conv_kernel=1, channel_base=65536, channel_max=1024, use_radial_filters=True)
if args.mode == 'patch':
    kwargs.scale_mapping_kwargs = dnnlib.EasyDict(scale_mapping_min=1, scale_mapping_max=8, scale_mapping_norm='positive')
G = Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=args.resolution, img_channels=3,
              training_mode=args.mode, **kwargs).eval().requires_grad_(False)
res = args.resolution

with torch.no_grad():
    z = torch.randn([1, G.z_dim])
    patch_util.scale_condition_wrapper(G, G.mapping(z, None), None, noise_mode='const', force_fp32=True)  # warm-up
    for size in args.sizes.split(','):
        W, H = (int(v) for v in size.lower().split('x'))
        N = max(W, H)
        x0, y0 = (N - W) // 2, (N - H) // 2
        patches = patch_util.generate_full_from_patches(N, res)
        if args.tiles == 'crop':
            patches = [(b, t) for b, t in patches if b[0] < y0 + H and b[1] > y0 and b[2] < x0 + W and b[3] > x0]
        if args.max_tiles:
            patches = patches[:args.max_tiles]
        start = time.perf_counter()
        ws = G.mapping(z, None, truncation_psi=0.7, truncation_cutoff=8)
        full = torch.zeros([1, 3, N, N])
        for bbox, transform in patches:
            img = patch_util.scale_condition_wrapper(G, ws, transform[None], noise_mode='const', force_fp32=True)
            full[:, :, bbox[0]:bbox[1], bbox[2]:bbox[3]] = img
        image = full[:, :, y0:y0 + H, x0:x0 + W]
        seconds = time.perf_counter() - start
        print(json.dumps(dict(impl='reference', size=f'{W}x{H}', canvas=N, tiles=len(patches), seconds=round(seconds, 3),
                              tiles_per_s=round(len(patches) / seconds, 4),
                              ms_per_tile=round(1000 * seconds / len(patches), 1),
                              peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                              threads=torch.get_num_threads(), torch=torch.__version__)), flush=True)
