"""The choice of recurrent CUDA kernel, on the host (no GPU needed)."""

import pytest

from numlstm.backends.cuda.plan import (
    HOPPER,
    SHARED_RESERVE,
    DeviceLimits,
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


@pytest.mark.parametrize(("itemsize", "most"), [(4, 768), (8, 384)])
def test_layers_are_checked_against_the_shared_memory_of_a_launch(itemsize,
                                                                   most):
    from numlstm.backends.cuda.plan import (
        SHARED_WITHOUT_OPT_IN,
        check_layer_fits,
        state_shared_bytes,
    )

    check_layer_fits(most, itemsize)
    assert state_shared_bytes(most, itemsize) <= SHARED_WITHOUT_OPT_IN
    with pytest.raises(ValueError, match=f"at most {most} units.*has "
                                         f"{most + 1}.*backend='cpu'"):
        check_layer_fits(most + 1, itemsize)
