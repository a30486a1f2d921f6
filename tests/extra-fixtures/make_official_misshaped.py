"""Writes official_misshaped.pkl: the official fixture sg3t_global_32.pkl with one tensor re-shaped so that it contradicts
the constructor arguments (G.mapping.fc0.weight viewed as [16, 8] instead of [z_dim=16 -> w_dim=16] = [16, 16]).

Standard library only. The snapshot is read with a restricted unpickler whose find_class returns inert recorders for the
globals a snapshot uses (and refuses any other), so nothing from the file is imported or executed; it is written back with
the same globals (protocol 4 as the original, but GLOBAL opcodes) and every storage byte string unchanged.

    python3 make_official_misshaped.py ../fixtures/official/sg3t_global_32.pkl official_misshaped.pkl
"""
import io
import pickle
import sys

ALLOWED = {
    ('torch_utils.persistence', '_reconstruct_persistent_obj'), ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'), ('torch.storage', '_load_from_bytes'), ('numpy.core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy', 'ndarray'), ('numpy', 'dtype'),
}


class Ref:
    """A global, by name only."""
    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):
        return Call(self, args)


class Call:
    """A recorded call of a global (and the state a BUILD gave it)."""
    def __init__(self, fn, args):
        self.fn, self.args, self.state = fn, list(args), None

    def __setstate__(self, state):
        self.state = state


class EasyDict(dict):
    pass


class Reader(pickle._Unpickler):
    def find_class(self, module, name):
        if (module, name) == ('collections', 'OrderedDict'):
            import collections
            return collections.OrderedDict
        if (module, name) == ('dnnlib.util', 'EasyDict'):
            return EasyDict
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f'refused global {module}.{name}')
        return Ref(module, name)


class Writer(pickle._Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Call):
            return (obj.fn, tuple(obj.args)) if obj.state is None else (obj.fn, tuple(obj.args), obj.state)
        if isinstance(obj, EasyDict):
            return (Ref('dnnlib.util', 'EasyDict'), (), None, None, iter(obj.items()))
        return NotImplemented

    def save_global(self, obj, name=None):
        if isinstance(obj, Ref):
            self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode())
            self.memoize(obj)
        else:
            super().save_global(obj, name)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[Ref] = lambda self, obj: self.save_global(obj)


def main(src, dst):
    with open(src, 'rb') as f:
        data = Reader(f).load()
    g = data['G'].args[0]['state']
    fc0 = g['_modules']['mapping'].args[0]['state']['_modules']['fc0'].args[0]['state']['_parameters']
    tensor = fc0['weight'].args[0]                      # _rebuild_parameter(_rebuild_tensor_v2(storage, offset, size, stride, ...))
    assert tuple(tensor.args[2]) == (16, 16), tensor.args[2]
    tensor.args[2] = (16, 8)
    buf = io.BytesIO()
    Writer(buf, protocol=4).dump(data)
    with open(dst, 'wb') as f:
        f.write(buf.getvalue())


if __name__ == '__main__':
    main(*sys.argv[1:3])
