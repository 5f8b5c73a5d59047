"""The choice of recurrent CUDA kernel, on the host (no GPU needed)."""

import numpy as np
import pytest

from numlstm.backends.cuda.lstm_ln_proj import (
    MAX_LANES,
    aux_layout,
    block_threads,
    row_lanes,
    shared_bytes,
)
from numlstm.backends.cuda.plan import (
    HOPPER,
    ROWS_PER_BLOCK,
    SHARED_RESERVE,
    SIMULATOR,
    DeviceLimits,
    cooperative_split,
    recurrent_kernel,
    rows_kernel_shared_bytes,
)


def test_shared_bytes_match_the_design_table():
    # shared/design/cuda.md 3.2, R = 8: H=32 fp32 21.5 KB, H=64 fp32 75.8 KB,
    # H=64 fp64 151.6 KB, H=96 fp32 162.8 KB, H=128 fp32 282.6 KB
    for hidden, itemsize, kb in ((32, 4, 21.5), (64, 4, 75.8), (64, 8, 151.6),
                                 (96, 4, 162.8), (128, 4, 282.6)):
        assert rows_kernel_shared_bytes(hidden, itemsize) / 1000 == \
            pytest.approx(kb, abs=0.05)


@pytest.mark.parametrize("itemsize", [4, 8])
def test_rows_exactly_while_it_fits(itemsize):
    kinds = [recurrent_kernel(h, itemsize, HOPPER) for h in range(1, 1025)]
    # monotone: rows up to some H, cooperative from there on
    switch = kinds.index("cooperative")
    assert set(kinds[:switch]) == {"rows"} and set(kinds[switch:]) == {"cooperative"}
    fits = rows_kernel_shared_bytes(switch, itemsize) + SHARED_RESERVE
    assert fits <= HOPPER.shared_per_block
    assert rows_kernel_shared_bytes(switch + 1, itemsize) + SHARED_RESERVE > \
        HOPPER.shared_per_block


def test_a_smaller_device_switches_earlier():
    small = DeviceLimits(shared_per_block=48 * 1024, n_sms=20)
    assert recurrent_kernel(64, 4, HOPPER) == "rows"
    assert recurrent_kernel(64, 4, small) == "cooperative"


@pytest.mark.parametrize("hidden, itemsize", [(0, 4), (8, 2)])
def test_bad_sizes_are_refused(hidden, itemsize):
    with pytest.raises(ValueError, match="hidden >= 1"):
        recurrent_kernel(hidden, itemsize, HOPPER)


def test_the_cuda_backend_implements_the_whole_contract():
    """Checked on the host: importing the kernels compiles nothing."""
    from numlstm.backends import check_backend
    from numlstm.backends.cuda.backend import CUDABackend

    assert check_backend(CUDABackend()) == []


@pytest.mark.parametrize("hidden", [1, 2, 7, 64, 131, 132, 133, 1000, 4096])
@pytest.mark.parametrize("max_blocks", [1, 3, 132])
def test_the_cooperative_split_covers_every_unit_once(hidden, max_blocks):
    blocks, units = cooperative_split(hidden, max_blocks)
    assert 1 <= blocks <= max_blocks and units >= 1
    owned = [u for g in range(blocks)
             for u in range(g * units, min((g + 1) * units, hidden))]
    assert owned == list(range(hidden))
    # no block is left without units, and none could be spared
    assert (blocks - 1) * units < hidden
    assert units == -(-hidden // min(hidden, max_blocks))


def test_the_simulator_runs_the_cooperative_kernel_on_one_block():
    assert cooperative_split(1024, SIMULATOR.n_sms) == (1, 1024)


@pytest.mark.parametrize("hidden, max_blocks", [(0, 1), (4, 0)])
def test_bad_splits_are_refused(hidden, max_blocks):
    with pytest.raises(ValueError, match="max_blocks >= 1"):
        cooperative_split(hidden, max_blocks)


# ---------------------------------- the projected and layer-normalised layer

@pytest.mark.parametrize("hidden", [1, 2, 7, 32, 33, 1000, 8192])
@pytest.mark.parametrize("proj", [0, 1, "H-1"])
def test_the_ln_proj_kernels_launch_for_any_layer(hidden, proj):
    """One lane per unit up to a warp; whole warps of threads, one per
    ``(row, lane)``; shared memory (the lanes' partial sums only) within a
    launch that does not opt in, whatever the layer's size."""
    P = hidden - 1 if proj == "H-1" else proj
    lanes = row_lanes(hidden, P)
    assert lanes == min(MAX_LANES, max(hidden, P)) >= 1
    threads = block_threads(lanes)
    assert threads % 32 == 0 and ROWS_PER_BLOCK * lanes <= threads <= 256
    assert threads - ROWS_PER_BLOCK * lanes < 32
    for itemsize in (4, 8):
        assert shared_bytes(lanes, itemsize) + SHARED_RESERVE <= \
            SIMULATOR.shared_per_block


@pytest.mark.parametrize("hidden, proj, layer_norm",
                         [(3, 2, True), (3, 2, False), (5, 0, True),
                          (1, 0, True), (64, 17, True), (4096, 1024, True)])
def test_the_aux_parts_tile_the_row_and_no_size_is_refused(hidden, proj,
                                                          layer_norm):
    from numlstm.backends.cuda.backend import CUDABackend

    H, P = hidden, proj
    lay = aux_layout(H, P, layer_norm)
    G = 4 * H if layer_norm else 0
    lengths = (G, G, G, G, H if layer_norm else 0, H if layer_norm else 0,
               3 if layer_norm else 0, H if P else 0, P)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    assert lay == tuple(int(x) for x in starts)
    for dtype in (np.float32, np.float64):
        assert CUDABackend().lstm_aux_width(H, P, layer_norm, dtype) == lay[-1]
        assert CUDABackend().lstm_aux_width(H, 0, False, dtype) == 0
